/**
 * Mitra accounts as the control center manages them: create, list, read, edit, and
 * (de)activate. Reads join the availability truth in Postgres (`mitra_online_status`, live
 * `chat_sessions`), so an operator sees the durable state, not the Valkey mirror.
 */
import { SqlClient, type Statement } from "@effect/sql"
import { Effect, Schema } from "effect"
import { hashPassword } from "../auth/Passwords.js"
import { RefreshSessions } from "../auth/RefreshSessions.js"
import { orDatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { defaultPageSize, maxPageSize, type Mitra, MitraCursor, MitraRow } from "../mitras/Mitra.js"
import { DuplicatePhone, MitraNotFound } from "../mitras/MitraErrors.js"
import { type MitraActivationChange, MitraAccountFollowUp } from "./MitraAccountFollowUp.js"
import { liveStatusList } from "../mitras/LiveSessions.js"

export interface MitraListQuery {
  readonly online?: boolean
  readonly active?: boolean
  readonly limit?: number
  readonly cursor?: typeof MitraCursor.Type
}

export interface NewMitra {
  readonly displayName: string
  readonly phone: string
  readonly password: string
  readonly maxConcurrentSessions?: number | null
}

export interface MitraProfilePatch {
  readonly displayName?: string
  readonly password?: string
  readonly maxConcurrentSessions?: number | null
}

const decodeRows = Schema.decodeUnknown(Schema.Array(MitraRow))
const toMitra = ({ createdMicros: _, ...mitra }: typeof MitraRow.Type): Mitra => mitra

export class MitraAccounts extends Effect.Service<MitraAccounts>()("mitra/MitraAccounts", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const sessions = yield* RefreshSessions
    const followUp = yield* MitraAccountFollowUp

    const notFound = (mitraId: string) => new MitraNotFound({ message: "No such mitra", mitraId })

    const selectMitras = (where: Statement.Fragment, tail: Statement.Fragment = sql``) =>
      orDatabaseUnavailable(sql`
        SELECT m.id, m.display_name, m.phone, m.is_active, m.max_concurrent_sessions, m.created_at, m.updated_at,
               COALESCE(s.is_online, false) AS is_online, s.last_heartbeat_at,
               (SELECT count(*)::int FROM chat_sessions c
                WHERE c.mitra_id = m.id AND c.status IN ${liveStatusList}) AS live_sessions,
               (extract(epoch FROM m.created_at) * 1000000)::bigint::text AS created_micros
        FROM mitras m LEFT JOIN mitra_online_status s ON s.mitra_id = m.id
        WHERE ${where}
        ${tail}
      `).pipe(
        Effect.flatMap(decodeRows),
        // Rows that do not match the schema are a bug here, not a bad request.
        Effect.catchTag("ParseError", Effect.die)
      )

    const get = Effect.fn("MitraAccounts.get")(function*(mitraId: string) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const [row] = yield* selectMitras(sql`m.id = ${mitraId}`)
      if (row === undefined) return yield* notFound(mitraId)
      return toMitra(row)
    })

    /** Newest first; keyset pagination on (created_at, id), stable under concurrent inserts. */
    const list = Effect.fn("MitraAccounts.list")(function*(query: MitraListQuery) {
      const limit = Math.min(query.limit ?? defaultPageSize, maxPageSize)
      const position = sql`((extract(epoch FROM m.created_at) * 1000000)::bigint, m.id)`
      const conditions = [
        query.online === undefined ? undefined : sql`COALESCE(s.is_online, false) = ${query.online}`,
        query.active === undefined ? undefined : sql`m.is_active = ${query.active}`,
        query.cursor === undefined ? undefined : sql`${position} < (${query.cursor[0]}::bigint, ${query.cursor[1]}::uuid)`
      ].filter((condition) => condition !== undefined)
      const rows = yield* selectMitras(
        sql.and(conditions),
        sql`ORDER BY m.created_at DESC, m.id DESC LIMIT ${limit + 1}`
      )
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      return {
        items: page.map(toMitra),
        nextCursor: rows.length > limit && last !== undefined
          ? Schema.encodeSync(MitraCursor)([last.createdMicros, last.id])
          : null
      }
    })

    const create = Effect.fn("MitraAccounts.create")(function*(mitra: NewMitra) {
      const passwordHash = yield* hashPassword(mitra.password)
      const [created] = yield* orDatabaseUnavailable(sql<{ id: string }>`
        INSERT INTO mitras (display_name, phone, password_hash, max_concurrent_sessions)
        VALUES (${mitra.displayName}, ${mitra.phone}, ${passwordHash}, ${mitra.maxConcurrentSessions ?? null})
        ON CONFLICT (phone) DO NOTHING
        RETURNING id
      `)
      if (created === undefined) {
        return yield* new DuplicatePhone({ message: "A mitra with this phone number already exists", phone: mitra.phone })
      }
      yield* Effect.annotateCurrentSpan("mitra.id", created.id)
      return yield* get(created.id).pipe(Effect.catchTag("MitraNotFound", Effect.die))
    })

    /** Display name, password, capacity. A new password ends the mitra's sessions (it signs in again). */
    const updateProfile = Effect.fn("MitraAccounts.updateProfile")(function*(mitraId: string, patch: MitraProfilePatch) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const { password, ...fields } = patch
      const passwordHash = password === undefined ? undefined : yield* hashPassword(password)
      const changes = { ...fields, ...(passwordHash === undefined ? {} : { passwordHash }) }
      if (Object.keys(changes).length === 0) return
      const updated = yield* orDatabaseUnavailable(sql.withTransaction(Effect.gen(function*() {
        const rows = yield* sql`UPDATE mitras SET ${sql.update(changes)}, updated_at = now() WHERE id = ${mitraId} RETURNING id`
        if (rows.length > 0 && passwordHash !== undefined) {
          yield* sessions.revokeAllOf("mitra", mitraId, "password_changed")
        }
        return rows.length > 0
      })))
      if (!updated) return yield* notFound(mitraId)
      if (fields.maxConcurrentSessions !== undefined) {
        yield* followUp.afterMaxSessionsChange(mitraId).pipe(
          Effect.catchAllDefect((defect) =>
            Effect.logError("Capacity follow-up failed after commit; the reconciliation sweep will heal it", defect)
          )
        )
      }
    })

    /**
     * THE activation change (ARCHITECTURE.md section 3, `updateMitraStatus`). In one transaction:
     * flip `mitras.is_active`; on deactivation also revoke every `auth_sessions` row of the mitra
     * (its refresh tokens die now; access tokens are refused by `MitraAuthentication`, which reads
     * `is_active`) and take it offline; write the audit events. Then, after the commit, the
     * `MitraAccountFollowUp` (the Valkey mirror and rerouting of the availability part).
     *
     * The row lock (`FOR UPDATE`) serialises concurrent activation changes of one mitra, and any
     * writer that locks the mitra row (`FOR SHARE`) before putting it online.
     * Uninterruptible: a client hanging up between the commit and the follow-up must not leave the
     * mirror behind the truth.
     */
    const setActive = Effect.fn("MitraAccounts.setActive")(function*(mitraId: string, isActive: boolean, actor: string) {
      yield* Effect.annotateCurrentSpan({ "mitra.id": mitraId, "mitra.is_active": isActive })
      const change = yield* orDatabaseUnavailable(sql.withTransaction(Effect.gen(function*() {
        const [current] = yield* sql<{ isActive: boolean; statusVersion: number }>`
          SELECT is_active, status_version::float8 AS status_version FROM mitras WHERE id = ${mitraId} FOR UPDATE
        `
        if (current === undefined) return yield* notFound(mitraId)
        const unchanged: MitraActivationChange = {
          mitraId,
          isActive,
          changed: false,
          wentOffline: false,
          actor,
          statusVersion: current.statusVersion
        }
        if (current.isActive === isActive) return unchanged
        // A status change: the next status version (see `StatusVersion` in the availability store).
        const [updated] = yield* sql<{ statusVersion: number }>`
          UPDATE mitras SET is_active = ${isActive}, status_version = status_version + 1, updated_at = now()
          WHERE id = ${mitraId}
          RETURNING status_version::float8 AS status_version
        `
        const changed = { ...unchanged, changed: true, statusVersion: updated!.statusVersion }
        if (isActive) {
          yield* sql`
            INSERT INTO mitra_status_events (mitra_id, event, reason, actor) VALUES (${mitraId}, 'reactivated', 'admin', ${actor})
          `
          return changed
        }
        yield* sessions.revokeAllOf("mitra", mitraId, "mitra_deactivated")
        const offline = yield* sql`
          UPDATE mitra_online_status SET is_online = false, updated_at = now()
          WHERE mitra_id = ${mitraId} AND is_online
          RETURNING mitra_id
        `
        yield* sql`
          INSERT INTO mitra_status_events (mitra_id, event, reason, actor) VALUES (${mitraId}, 'deactivated', 'admin', ${actor})
        `
        if (offline.length > 0) {
          yield* sql`
            INSERT INTO mitra_status_events (mitra_id, event, reason, actor) VALUES (${mitraId}, 'offline', 'deactivated', ${actor})
          `
        }
        return { ...changed, wentOffline: offline.length > 0 }
      })))
      yield* followUp.afterActivation(change).pipe(
        Effect.catchAllDefect((defect) =>
          Effect.logError("Mitra activation follow-up failed after commit; the reconciliation sweep will heal it", defect)
        )
      )
      return change
    }, Effect.uninterruptible)

    /**
     * PATCH: the profile fields, then the activation through `setActive` (the one place that
     * changes it). Two transactions; a PATCH is idempotent, so a retry after a failure converges.
     */
    const update = Effect.fn("MitraAccounts.update")(
      function*(mitraId: string, patch: MitraProfilePatch & { readonly isActive?: boolean }, actor: string) {
        const { isActive, ...profile } = patch
        yield* updateProfile(mitraId, profile)
        if (isActive !== undefined) yield* setActive(mitraId, isActive, actor)
        return yield* get(mitraId)
      }
    )

    return { get, list, create, update, updateProfile, setActive }
  }),
  dependencies: [RefreshSessions.Default]
}) {}
