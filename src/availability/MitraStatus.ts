/**
 * The mitra status writes: online, offline (by the mitra, or by the auto-offline sweep), and the
 * mirror step of a (de)activation that `MitraAccounts.setActive` committed. Postgres first, under
 * the mitra's row lock; then the mirror at the status version committed, best effort
 * (docs/availability.md, "Writes"). Rerouting a departing mitra's sessions is the caller's next
 * step: availability knows nothing of sessions.
 */
import { Clock, Effect, Option } from "effect"
import { mitraDeactivated } from "../auth/AuthErrors.js"
import { Transactions } from "../db/Repository.js"
import type { MitraCapacity, StatusVersion } from "../mitras/MitraAvailability.js"
import { MitraNotFound } from "../mitras/MitraErrors.js"
import { MitrasRepo } from "../mitras/MitrasRepo.js"
import { Capacity } from "./Capacity.js"
import { MirrorRepair } from "./MirrorRepair.js"
import { AvailabilityStore } from "./store/AvailabilityStore.js"

export type OfflineReason = "manual" | "heartbeat_stale"

export class MitraStatus extends Effect.Service<MitraStatus>()("mitra/MitraStatus", {
  effect: Effect.gen(function*() {
    const repo = yield* MitrasRepo
    const transactions = yield* Transactions
    const store = yield* AvailabilityStore
    const repair = yield* MirrorRepair
    const capacities = yield* Capacity

    const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))
    const notFound = (mitraId: string) => new MitraNotFound({ message: "No such mitra", mitraId })
    const orNotFound = (mitraId: string) => <A, E>(found: Effect.Effect<Option.Option<A>, E>) =>
      Effect.flatMap(found, Option.match({ onNone: () => Effect.fail(notFound(mitraId)), onSome: Effect.succeed }))

    /** Takes the mitra offline in Postgres (in the caller's transaction, under the row lock): the new version if it changed. */
    const offlineRow = (mitraId: string, reason: OfflineReason, actor: string, at: Date, heartbeatBefore?: Date) =>
      Effect.gen(function*() {
        const changed = yield* repo.markOffline({ mitraId, at, ...(heartbeatBefore === undefined ? {} : { heartbeatBefore }) })
        if (Option.isNone(changed)) return Option.none<StatusVersion>()
        yield* repo.insertStatusEvent({ mitraId, event: "offline", reason, actor, at })
        const bumped = yield* repo.bumpStatusVersion(mitraId).pipe(orNotFound(mitraId))
        return Option.some(bumped.statusVersion)
      })

    /** Online now; the heartbeat clock starts at this moment. 403 if deactivated meanwhile. */
    const setOnline = Effect.fn("MitraStatus.setOnline")(function*(mitraId: string, actor: string) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const at = yield* now
      const { capacity, version } = yield* transactions.run(Effect.gen(function*() {
        // Locks the row and takes the next version (a deactivated mitra rolls it back).
        const mitra = yield* repo.bumpStatusVersion(mitraId).pipe(orNotFound(mitraId))
        if (!mitra.isActive) return yield* mitraDeactivated
        const previous = yield* repo.onlineFlag(mitraId)
        yield* repo.markOnline({ mitraId, at })
        if (!Option.exists(previous, (row) => row.isOnline)) {
          yield* repo.insertStatusEvent({ mitraId, event: "online", reason: "manual", actor, at })
        }
        const capacity: MitraCapacity = { liveSessions: mitra.liveSessions, maxConcurrentSessions: mitra.maxConcurrentSessions }
        return { capacity, version: mitra.statusVersion }
      }))
      yield* repair.mirrorWrite("markOnline", store.markOnline(mitraId, at, capacity, version))
      // The capacity just mirrored was counted before the commit, and a recount of a session that
      // ended or was accepted meanwhile may already have landed: a recount after it (they run one
      // at a time, `Capacity.ts`) leaves the newest count last.
      yield* capacities.recomputeCapacityForMitra(mitraId).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("Capacity recount after going online failed; the reseed heals it", cause))
      )
      return { isOnline: true as const }
    })

    /**
     * Offline, by the mitra (`manual`). True when this call took it offline (its live sessions are
     * then the caller's to reroute); false when it was offline already — and then nothing is
     * mirrored: an offline that changed nothing, mirrored after a newer online had landed, would
     * take a healthy mitra out of the mirror.
     */
    const setOffline = Effect.fn("MitraStatus.setOffline")(function*(mitraId: string, actor: string) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const at = yield* now
      const version = yield* transactions.run(Effect.gen(function*() {
        yield* repo.lockMitra(mitraId).pipe(orNotFound(mitraId))
        return yield* offlineRow(mitraId, "manual", actor, at)
      }))
      if (Option.isSome(version)) yield* repair.mirrorWrite("markOffline", store.markOffline(mitraId, version.value))
      return Option.isSome(version)
    })

    /**
     * The auto-offline sweep's write: offline with reason `heartbeat_stale`, conditional on the row
     * — still online, and its Postgres `last_heartbeat_at` older than `staleBefore` too (a mitra
     * that went online again since the sweep read Valkey, or whose heartbeats reached Postgres
     * while Valkey was unreachable, stays online). The mirror write follows only when this call
     * changed the row, so sweeps racing on several instances write one audit row. True when it
     * took the mitra offline. When the row was offline already, the mirror (which the sweep found
     * online) is told so too, at the version read under the lock.
     */
    const offlineIfStale = Effect.fn("MitraStatus.offlineIfStale")(
      function*(mitraId: string, staleBefore: Date, actor: string) {
        yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
        const at = yield* now
        const { outcome, version } = yield* transactions.run(Effect.gen(function*() {
          const locked = yield* repo.lockMitra(mitraId).pipe(orNotFound(mitraId))
          const changed = yield* offlineRow(mitraId, "heartbeat_stale", actor, at, staleBefore)
          if (Option.isSome(changed)) return { outcome: "changed" as const, version: changed.value }
          // Read under the row lock: this state is the one `locked.statusVersion` names.
          const online = Option.exists(yield* repo.onlineFlag(mitraId), (row) => row.isOnline)
          return { outcome: online ? "online_in_postgres" as const : "offline_in_postgres" as const, version: locked.statusVersion }
        }))
        const changed = outcome === "changed"
        yield* Effect.annotateCurrentSpan("mitra.went_offline", changed)
        // Changed, or already offline in Postgres while the mirror (where the sweep read it) still
        // says online: a lost or late mirror write, re-asserted at its version (a newer online wins).
        if (outcome !== "online_in_postgres") yield* repair.mirrorWrite("markOffline", store.markOffline(mitraId, version))
        return changed
      }
    )

    /**
     * The mirror half of a committed (de)activation, at the version it committed: SADD
     * `mitras:deactivated` + SREM online + DEL heartbeat, or SREM.
     */
    const mirrorActiveFlag = Effect.fn("MitraStatus.mirrorActiveFlag")(
      function*(mitraId: string, isActive: boolean, version: StatusVersion) {
        yield* repair.mirrorWrite("setDeactivated", store.setDeactivated(mitraId, !isActive, version))
      }
    )

    return { setOnline, setOffline, offlineIfStale, mirrorActiveFlag } as const
  }),
  dependencies: [MitrasRepo.Default, Transactions.Default, MirrorRepair.Default, Capacity.Default]
}) {}
