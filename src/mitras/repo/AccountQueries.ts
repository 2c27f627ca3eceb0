/** `MitrasRepo`'s statements about accounts: the control center's reads and writes of a mitra. */
import { type SqlClient, SqlSchema, type Statement } from "@effect/sql"
import { Schema } from "effect"
import { liveSessionsOf } from "../LiveSessions.js"
import { MitraRow } from "../Mitra.js"

/** Filters and position of a page, newest first. */
export const MitraListRequest = Schema.Struct({
  online: Schema.optionalWith(Schema.Boolean, { exact: true }),
  active: Schema.optionalWith(Schema.Boolean, { exact: true }),
  /** Rows to fetch (the page size plus one, to learn whether there is a next page). */
  limit: Schema.Int,
  /** `[created micros, id]` of the last row of the previous page. */
  after: Schema.optionalWith(Schema.Tuple(Schema.String, Schema.String), { exact: true })
})

export const NewMitraRow = Schema.Struct({
  displayName: Schema.String,
  phone: Schema.String,
  passwordHash: Schema.String,
  maxConcurrentSessions: Schema.NullOr(Schema.Number)
})

/** The profile fields a patch may change; absent ones are left alone. */
export const MitraProfileChanges = Schema.Struct({
  mitraId: Schema.String,
  displayName: Schema.optionalWith(Schema.String, { exact: true }),
  passwordHash: Schema.optionalWith(Schema.String, { exact: true }),
  maxConcurrentSessions: Schema.optionalWith(Schema.NullOr(Schema.Number), { exact: true })
})

const Id = Schema.Struct({ id: Schema.String })

export const accountQueries = (sql: SqlClient.SqlClient) => {
  const select = (where: Statement.Fragment, tail: Statement.Fragment = sql``) =>
    sql`
      SELECT m.id, m.display_name, m.phone, m.is_active, m.max_concurrent_sessions, m.created_at, m.updated_at,
             COALESCE(s.is_online, false) AS is_online, s.last_heartbeat_at,
             ${liveSessionsOf("m.id")} AS live_sessions,
             (extract(epoch FROM m.created_at) * 1000000)::bigint::text AS created_micros
      FROM mitras m LEFT JOIN mitra_online_status s ON s.mitra_id = m.id
      WHERE ${where}
      ${tail}
    `

  return {
    /** One mitra with its online state and live sessions. */
    findById: SqlSchema.findOne({
      Request: Schema.String,
      Result: MitraRow,
      execute: (mitraId) => select(sql`m.id = ${mitraId}`)
    }),

    /** A page, newest first; keyset on (created_at, id), stable under concurrent inserts. */
    list: SqlSchema.findAll({
      Request: MitraListRequest,
      Result: MitraRow,
      execute: ({ active, after, limit, online }) => {
        const position = sql`((extract(epoch FROM m.created_at) * 1000000)::bigint, m.id)`
        const conditions = [
          online === undefined ? undefined : sql`COALESCE(s.is_online, false) = ${online}`,
          active === undefined ? undefined : sql`m.is_active = ${active}`,
          after === undefined ? undefined : sql`${position} < (${after[0]}::bigint, ${after[1]}::uuid)`
        ].filter((condition) => condition !== undefined)
        return select(sql.and(conditions), sql`ORDER BY m.created_at DESC, m.id DESC LIMIT ${limit}`)
      }
    }),

    /** The new mitra's id; None when the phone is taken. */
    insert: SqlSchema.findOne({
      Request: NewMitraRow,
      Result: Id,
      execute: (mitra) => sql`
        INSERT INTO mitras (display_name, phone, password_hash, max_concurrent_sessions)
        VALUES (${mitra.displayName}, ${mitra.phone}, ${mitra.passwordHash}, ${mitra.maxConcurrentSessions})
        ON CONFLICT (phone) DO NOTHING
        RETURNING id
      `
    }),

    /** Writes the given profile fields; None when there is no such mitra. */
    updateProfile: SqlSchema.findOne({
      Request: MitraProfileChanges,
      Result: Id,
      execute: ({ mitraId, ...changes }) => sql`
        UPDATE mitras SET ${sql.update(changes)}, updated_at = now() WHERE id = ${mitraId} RETURNING id
      `
    }),

    /** Flips `is_active` and takes the next status version (under the row lock the caller holds). */
    setActiveFlag: SqlSchema.single({
      Request: Schema.Struct({ mitraId: Schema.String, isActive: Schema.Boolean }),
      Result: Schema.Struct({ statusVersion: Schema.Number }),
      execute: ({ isActive, mitraId }) => sql`
        UPDATE mitras SET is_active = ${isActive}, status_version = status_version + 1, updated_at = now()
        WHERE id = ${mitraId}
        RETURNING status_version::float8 AS status_version
      `
    })
  }
}
