/**
 * Requests for a prompt reseed. A best-effort mirror write that fails after its Postgres commit
 * (`mirrorWrite`) leaves the mirror wrong — a mitra that went online invisible, a deactivated one
 * still offered — so it asks for a reseed here rather than waiting for the periodic reseed sweep.
 * `MirrorSeeder` takes the request when a seed starts (before it reads Postgres, so a write that
 * fails during a seed asks for another) and puts it back if that seed fails; the catch-up loop of
 * `MirrorReseedLive` reseeds within a second of a request while Valkey is reachable.
 *
 * Its own service (not part of the seeder) so the writers — `MitraStatus`, `Capacity` — need not
 * depend on the seeder, which depends on the store and Postgres they share.
 */
import { Effect, Ref } from "effect"

export class MirrorRepair extends Effect.Service<MirrorRepair>()("mitra/MirrorRepair", {
  effect: Effect.gen(function*() {
    const requested = yield* Ref.make(false)
    return {
      /** Asks for a reseed (a mirror write was lost, or a seed failed). */
      request: Ref.set(requested, true),
      /** Whether a reseed was asked for. */
      isRequested: Ref.get(requested),
      /** Takes the request (at the start of a seed): true if there was one. */
      take: Ref.getAndSet(requested, false)
    } as const
  })
}) {}
