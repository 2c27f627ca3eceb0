/**
 * Capacity, derived from truth: after every chat-session transition (accept, payment, end,
 * reroute, extension, expiry) the sessions code calls `recomputeCapacityForMitra`, which counts
 * the mitra's live sessions in Postgres and writes the count to the mirror. Never INCR/DECR: a
 * lost or doubled update cannot drift the count.
 *
 * Nor can a late one. Recounts of one mitra run one at a time — each holds a transaction-level
 * advisory lock of the mitra from before its count until its mirror write is done — so the last
 * write to reach Valkey is always the freshest count. Without it, two recounts racing (two
 * sessions of the mitra ending at once, on two instances) could land out of order: a count read
 * before the other commit, written after the other recount's write, left the key one session off
 * until the next transition or the reseed — a full mitra shown free, or a free one never offered.
 * The lock is no row lock: accepts and status changes of the mitra never wait for it. Going
 * online mirrors a count taken in its own transaction, so it recounts afterwards too.
 */
import { Effect, Option } from "effect"
import { Transactions } from "../db/Repository.js"
import { MitrasRepo } from "../mitras/MitrasRepo.js"
import { MirrorRepair } from "./MirrorRepair.js"
import { AvailabilityStore } from "./store/AvailabilityStore.js"

export class Capacity extends Effect.Service<Capacity>()("mitra/Capacity", {
  effect: Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const repo = yield* MitrasRepo
    const repair = yield* MirrorRepair
    const transactions = yield* Transactions

    /**
     * Counts the mitra's live sessions (and reads its own maximum) and mirrors them. Also the step
     * to run after `mitras.max_concurrent_sessions` changes. None when the mitra does not exist.
     */
    const recomputeCapacityForMitra = Effect.fn("Capacity.recomputeCapacityForMitra")(function*(mitraId: string) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      return yield* transactions.run(Effect.gen(function*() {
        // Counted after the lock is taken: it sees every commit of the recounts queued before it.
        yield* repo.lockCapacityRecount(mitraId)
        const capacity = yield* repo.capacityOf(mitraId)
        if (Option.isSome(capacity)) {
          // Before the commit releases the lock (a failed write is reported and asks for a reseed).
          yield* repair.mirrorWrite("setCapacity", store.setCapacity(mitraId, capacity.value))
          yield* Effect.annotateCurrentSpan("mitra.live_sessions", capacity.value.liveSessions)
        }
        return capacity
      }))
    })

    return { recomputeCapacityForMitra } as const
  }),
  dependencies: [MitrasRepo.Default, Transactions.Default, MirrorRepair.Default]
}) {}
