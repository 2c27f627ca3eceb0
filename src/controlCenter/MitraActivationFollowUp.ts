/**
 * What happens after a mitra's activation change has committed in Postgres — the seam between
 * this part (the durable change, `MitraAccounts.setActive`) and the availability part, which
 * mirrors it to Valkey (SADD/SREM `mitras:deactivated`, SREM `mitras:online`), withdraws the
 * mitra's open offers and reroutes its live sessions (ARCHITECTURE.md section 3).
 *
 * `MitraAccounts` calls `afterCommit` exactly once per activation request, after the transaction
 * commits and never inside it, so Postgres stays first and a Valkey failure can never roll the
 * deactivation back. It is also called when nothing changed (`changed: false`), so an idempotent
 * mirror step can re-assert the state and heal drift. Implementations must not fail (log and
 * count instead); a defect is caught and logged by the caller, since the change is already durable.
 *
 * The availability part provides its implementation in place of `none` in `ServicesLive`
 * (`src/App.ts`); nothing else has to change.
 */
import { Context, Effect, Layer } from "effect"

export interface MitraActivationChange {
  readonly mitraId: string
  /** The state now committed. */
  readonly isActive: boolean
  /** False when the mitra already had this state (nothing was written). */
  readonly changed: boolean
  /** This deactivation took an online mitra offline (its `mitra_online_status` row flipped). */
  readonly wentOffline: boolean
  /** The control-center user who asked. */
  readonly actor: string
}

export class MitraActivationFollowUp extends Context.Tag("mitra/MitraActivationFollowUp")<MitraActivationFollowUp, {
  readonly afterCommit: (change: MitraActivationChange) => Effect.Effect<void>
}>() {
  /** Postgres only: until the availability part plugs in its mirror, nothing follows the commit. */
  static readonly none = Layer.succeed(MitraActivationFollowUp, { afterCommit: () => Effect.void })
}
