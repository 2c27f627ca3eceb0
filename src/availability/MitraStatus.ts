/**
 * The mitra status writes (ARCHITECTURE.md section 3): online and offline, and the mirror step of
 * (de)activation. Postgres first — the row change and its `mitra_status_events` audit row in one
 * transaction — then the mirror, best effort: a Valkey error is logged and counted and never
 * fails the request (it asks `MirrorRepair` for a prompt reseed, which heals it).
 *
 * `updateMitraStatus` (activate/deactivate) is `MitraAccounts.setActive` in the control center:
 * the one place that changes `is_active` (with the session revocation and the offline flip in
 * its transaction). Its post-commit follow-up is `mirrorActiveFlag` here, plugged in by
 * `AccountMirror.ts`.
 *
 * Every status write locks the mitra's row first (then its `mitra_online_status` row: one order,
 * so writers never deadlock), so online, offline and (de)activation of one mitra serialize and a
 * deactivated mitra never ends up online. A write that changes the status bumps
 * `mitras.status_version` under that lock and mirrors the state with that version; the store
 * ignores a write older than the last it applied (`StatusVersion`), so mirror writes that arrive
 * out of order still converge to the last committed state. A write that changes nothing mirrors
 * nothing.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option } from "effect"
import { mitraDeactivated } from "../auth/AuthErrors.js"
import { orDatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { MitraNotFound } from "../mitras/MitraErrors.js"
import { SessionRerouting } from "../sessions/SessionRerouting.js"
import { mirrorWrite } from "./AvailabilityMetrics.js"
import { AvailabilityStore, type MitraCapacity } from "./AvailabilityStore.js"
import { MirrorRepair } from "./MirrorRepair.js"
import { liveStatusList } from "../mitras/LiveSessions.js"

export type StatusEvent = "online" | "offline" | "deactivated" | "reactivated"
export type StatusReason = "manual" | "heartbeat_stale" | "deactivated" | "admin"

export class MitraStatus extends Effect.Service<MitraStatus>()("mitra/MitraStatus", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const store = yield* AvailabilityStore
    const rerouting = yield* SessionRerouting
    const repair = yield* MirrorRepair

    const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

    const audit = (mitraId: string, event: StatusEvent, reason: StatusReason, actor: string, at: Date) =>
      sql`INSERT INTO mitra_status_events (mitra_id, event, reason, actor, at) VALUES (${mitraId}, ${event}, ${reason}, ${actor}, ${at})`

    const notFound = (mitraId: string) => new MitraNotFound({ message: "No such mitra", mitraId })

    /** Locks the mitra's row (the first lock of every status write) and reads its status version. */
    const lockMitra = (mitraId: string) =>
      sql<{ statusVersion: number }>`
        SELECT status_version::float8 AS status_version FROM mitras WHERE id = ${mitraId} FOR UPDATE
      `.pipe(Effect.flatMap(([row]) => row === undefined ? Effect.fail(notFound(mitraId)) : Effect.succeed(row)))

    /** A status change under the row lock: the next version, with what going online needs to know. */
    const bumpVersion = (mitraId: string) =>
      sql<{ statusVersion: number; isActive: boolean; maxConcurrentSessions: number | null }>`
        UPDATE mitras SET status_version = status_version + 1 WHERE id = ${mitraId}
        RETURNING status_version::float8 AS status_version, is_active, max_concurrent_sessions
      `.pipe(Effect.flatMap(([row]) => row === undefined ? Effect.fail(notFound(mitraId)) : Effect.succeed(row)))

    /**
     * Marks the mitra offline in Postgres (in the caller's transaction); true if it was online.
     * With `heartbeatBefore`, only if its `last_heartbeat_at` is also older than that (or null).
     */
    const offlineRow = (mitraId: string, reason: StatusReason, actor: string, at: Date, heartbeatBefore?: Date) =>
      sql`
        UPDATE mitra_online_status SET is_online = false, updated_at = ${at}
        WHERE mitra_id = ${mitraId} AND is_online
        ${heartbeatBefore === undefined ? sql`` : sql`AND (last_heartbeat_at IS NULL OR last_heartbeat_at < ${heartbeatBefore})`}
        RETURNING mitra_id
      `.pipe(
        Effect.tap((rows) => rows.length > 0 ? audit(mitraId, "offline", reason, actor, at) : Effect.void),
        Effect.map((rows) => rows.length > 0)
      )

    /** Online now; the heartbeat clock starts at this moment. 403 if deactivated meanwhile. */
    const setOnline = Effect.fn("MitraStatus.setOnline")(function*(mitraId: string, actor: string) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const at = yield* now
      const { capacity, version } = yield* orDatabaseUnavailable(sql.withTransaction(Effect.gen(function*() {
        // Locks the row and takes the next version (a deactivated mitra rolls it back).
        const mitra = yield* bumpVersion(mitraId)
        if (!mitra.isActive) return yield* mitraDeactivated
        const [previous] = yield* sql<{ isOnline: boolean }>`
          SELECT is_online FROM mitra_online_status WHERE mitra_id = ${mitraId}
        `
        yield* sql`
          INSERT INTO mitra_online_status (mitra_id, is_online, last_online_at, last_heartbeat_at, updated_at)
          VALUES (${mitraId}, true, ${at}, ${at}, ${at})
          ON CONFLICT (mitra_id) DO UPDATE SET
            is_online = true,
            last_online_at = CASE WHEN mitra_online_status.is_online THEN mitra_online_status.last_online_at
                                  ELSE EXCLUDED.last_online_at END,
            last_heartbeat_at = GREATEST(mitra_online_status.last_heartbeat_at, EXCLUDED.last_heartbeat_at),
            updated_at = EXCLUDED.updated_at
        `
        if (previous?.isOnline !== true) yield* audit(mitraId, "online", "manual", actor, at)
        const [live] = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM chat_sessions
          WHERE mitra_id = ${mitraId} AND status IN ${liveStatusList}
        `
        const capacity: MitraCapacity = { liveSessions: live?.n ?? 0, maxConcurrentSessions: mitra.maxConcurrentSessions }
        return { capacity, version: mitra.statusVersion }
      })))
      yield* mirrorWrite(repair, "markOnline", store.markOnline(mitraId, at, capacity, version))
      return { isOnline: true as const }
    })

    /** Offline (by the mitra, or by the stale-heartbeat sweep). Live sessions are not touched here. */
    const setOffline = Effect.fn("MitraStatus.setOffline")(
      function*(mitraId: string, actor: string, reason: "manual" | "heartbeat_stale" = "manual") {
        yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
        const at = yield* now
        const version = yield* orDatabaseUnavailable(sql.withTransaction(Effect.gen(function*() {
          yield* lockMitra(mitraId)
          if (!(yield* offlineRow(mitraId, reason, actor, at))) return Option.none<number>()
          return Option.some((yield* bumpVersion(mitraId)).statusVersion)
        })))
        // Already offline: nothing to mirror (an offline that changed nothing, mirrored after a
        // newer online had landed, would take a healthy mitra out of the mirror).
        if (Option.isSome(version)) yield* mirrorWrite(repair, "markOffline", store.markOffline(mitraId, version.value))
        return { isOnline: false as const }
      }
    )

    /**
     * The auto-offline sweep's write: `setOffline` with reason `heartbeat_stale`, conditional on
     * the row — still online, and its Postgres `last_heartbeat_at` older than `staleBefore` too
     * (a mitra that went online again since the sweep read Valkey, or whose heartbeats reached
     * Postgres while Valkey was unreachable, stays online). The mirror write and the sessions hook
     * (live sessions rerouted) follow only when this call changed the row, so sweeps racing on
     * several instances write one audit row and reroute once. True when it took the mitra offline.
     * When the row was offline already, the mirror (which the sweep found online) is told so too.
     */
    const offlineIfStale = Effect.fn("MitraStatus.offlineIfStale")(
      function*(mitraId: string, staleBefore: Date, actor: string) {
        yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
        const at = yield* now
        const { outcome, version } = yield* orDatabaseUnavailable(sql.withTransaction(Effect.gen(function*() {
          const locked = yield* lockMitra(mitraId)
          if (yield* offlineRow(mitraId, "heartbeat_stale", actor, at, staleBefore)) {
            return { outcome: "changed" as const, version: (yield* bumpVersion(mitraId)).statusVersion }
          }
          // Read under the row lock: this state is the one `locked.statusVersion` names.
          const [row] = yield* sql<{ isOnline: boolean }>`SELECT is_online FROM mitra_online_status WHERE mitra_id = ${mitraId}`
          const outcome = row?.isOnline === true ? "online_in_postgres" as const : "offline_in_postgres" as const
          return { outcome, version: locked.statusVersion }
        })))
        const changed = outcome === "changed"
        yield* Effect.annotateCurrentSpan("mitra.went_offline", changed)
        // Already offline in Postgres but online in the mirror (the sweep read it there): a lost
        // or late mirror write. Re-assert the committed offline at its version (a newer online
        // wins over it); nothing else (no audit row, no rerouting).
        if (outcome === "offline_in_postgres") yield* mirrorWrite(repair, "markOffline", store.markOffline(mitraId, version))
        if (!changed) return false
        yield* mirrorWrite(repair, "markOffline", store.markOffline(mitraId, version))
        yield* rerouting.rerouteLiveSessionsOf(mitraId, "heartbeat_stale")
        return true
      }
    )

    /**
     * The mirror half, after the commit: `mitras:deactivated` (SADD + SREM online + DEL heartbeat,
     * or SREM), then, on deactivation, the sessions hook (offers withdrawn, live sessions rerouted).
     */
    const mirrorActiveFlag = Effect.fn("MitraStatus.mirrorActiveFlag")(
      function*(mitraId: string, isActive: boolean, version: number) {
        yield* mirrorWrite(repair, "setDeactivated", store.setDeactivated(mitraId, !isActive, version))
        if (!isActive) yield* rerouting.rerouteLiveSessionsOf(mitraId, "deactivated")
      }
    )

    return { setOnline, setOffline, offlineIfStale, mirrorActiveFlag } as const
  })
}) {}
