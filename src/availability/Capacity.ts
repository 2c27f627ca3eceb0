/**
 * Capacity, derived from truth: after every chat-session transition (accept, payment, end,
 * reroute, extension, expiry) the sessions code calls `recomputeCapacityForMitra`, which counts
 * the mitra's live sessions in Postgres and writes the count to the mirror. Never INCR/DECR: a
 * lost or doubled update cannot drift the count.
 */
import { Effect, Option } from "effect"
import { MitrasRepo } from "../mitras/MitrasRepo.js"
import { MirrorRepair } from "./MirrorRepair.js"
import { AvailabilityStore } from "./store/AvailabilityStore.js"

export class Capacity extends Effect.Service<Capacity>()("mitra/Capacity", {
  effect: Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const repo = yield* MitrasRepo
    const repair = yield* MirrorRepair

    /**
     * Counts the mitra's live sessions (and reads its own maximum) and mirrors them. Also the step
     * to run after `mitras.max_concurrent_sessions` changes. None when the mitra does not exist.
     */
    const recomputeCapacityForMitra = Effect.fn("Capacity.recomputeCapacityForMitra")(function*(mitraId: string) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const capacity = yield* repo.capacityOf(mitraId)
      if (Option.isSome(capacity)) {
        yield* repair.mirrorWrite("setCapacity", store.setCapacity(mitraId, capacity.value))
        yield* Effect.annotateCurrentSpan("mitra.live_sessions", capacity.value.liveSessions)
      }
      return capacity
    })

    return { recomputeCapacityForMitra } as const
  }),
  dependencies: [MitrasRepo.Default, MirrorRepair.Default]
}) {}
