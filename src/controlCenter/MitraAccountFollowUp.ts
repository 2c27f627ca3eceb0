/**
 * What happens after a change to a mitra's account has committed in Postgres — the seam between
 * this part (the durable change, `MitraAccounts`) and the availability part, which mirrors it to
 * Valkey (ARCHITECTURE.md section 3):
 *
 * - `afterActivation` (from `MitraAccounts.setActive`): SADD/SREM `mitras:deactivated`, SREM
 *   `mitras:online`, withdraw the mitra's open offers and reroute its live sessions;
 * - `afterMaxSessionsChange` (from `MitraAccounts.updateProfile` when `maxConcurrentSessions`
 *   changed): recompute the mitra's capacity, so the mirror applies the new maximum at once.
 *
 * `MitraAccounts` calls `afterActivation` exactly once per activation request, after the transaction
 * commits and never inside it, so Postgres stays first and a Valkey failure can never roll the
 * deactivation back. It is also called when nothing changed (`changed: false`), so an idempotent
 * mirror step can re-assert the state and heal drift. Implementations must not fail (log and
 * count instead); a defect is caught and logged by the caller, since the change is already durable.
 *
 * The service uses the availability part's implementation (`AccountMirrorLive`, provided to
 * `IdentityServicesLive` in `src/App.ts`); `none` serves tests of the control center alone.
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
  /** `mitras.status_version` of the committed state (read under the row lock when unchanged). */
  readonly statusVersion: number
}

export class MitraAccountFollowUp extends Context.Tag("mitra/MitraAccountFollowUp")<MitraAccountFollowUp, {
  readonly afterActivation: (change: MitraActivationChange) => Effect.Effect<void>
  readonly afterMaxSessionsChange: (mitraId: string) => Effect.Effect<void>
}>() {
  /** Postgres only: nothing follows the commit (tests of the control center alone). */
  static readonly none = Layer.succeed(MitraAccountFollowUp, {
    afterActivation: () => Effect.void,
    afterMaxSessionsChange: () => Effect.void
  })
}
