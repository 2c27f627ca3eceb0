/**
 * `MitrasRepo`'s availability reads, straight from the durable truth: the fallback of every
 * mirror read (the same question, the same answer) and the source of the mirror's seed and of
 * capacity. Every read takes the caller's `freshSince` instead of `now()`, so the mirror and
 * Postgres judge freshness at the same instant.
 */
import { type SqlClient, SqlSchema } from "@effect/sql"
import { Schema } from "effect"
import { liveSessionsByMitra, liveSessionsOf } from "../LiveSessions.js"

export const AvailabilityQuerySchema = Schema.Struct({
  freshSince: Schema.DateFromSelf,
  defaultMaxSessions: Schema.Number,
  defaultMaxVersion: Schema.Number
})

const Count = Schema.Struct({ n: Schema.Number })

export const CapacityRow = Schema.Struct({ liveSessions: Schema.Number, maxConcurrentSessions: Schema.NullOr(Schema.Number) })

export const SeedMitraRow = Schema.Struct({
  id: Schema.String,
  isActive: Schema.Boolean,
  isOnline: Schema.Boolean,
  lastHeartbeatAt: Schema.NullOr(Schema.DateFromSelf),
  statusVersion: Schema.Number,
  liveSessions: Schema.Number,
  maxConcurrentSessions: Schema.NullOr(Schema.Number)
})

export const availabilityQueries = (sql: SqlClient.SqlClient) => {
  const available = (query: typeof AvailabilityQuerySchema.Encoded) => sql`
    FROM mitra_online_status s
    JOIN mitras m ON m.id = s.mitra_id
    LEFT JOIN (${liveSessionsByMitra}) c ON c.mitra_id = s.mitra_id
    WHERE s.is_online AND m.is_active AND s.last_heartbeat_at >= ${query.freshSince}
      AND COALESCE(c.live, 0) < COALESCE(m.max_concurrent_sessions, ${query.defaultMaxSessions})
  `

  return {
    /** Online, active, fresh, below capacity. No order. */
    findAvailable: SqlSchema.findAll({
      Request: AvailabilityQuerySchema,
      Result: Schema.Struct({ id: Schema.String }),
      execute: (query) => sql`SELECT s.mitra_id AS id ${available(query)}`
    }),

    countAvailable: SqlSchema.single({
      Request: AvailabilityQuerySchema,
      Result: Count,
      execute: (query) => sql`SELECT count(*)::int AS n ${available(query)}`
    }),

    /** Online, active, fresh (capacity aside). */
    isReachable: SqlSchema.single({
      Request: Schema.Struct({ mitraId: Schema.String, freshSince: Schema.DateFromSelf }),
      Result: Schema.Struct({ reachable: Schema.Boolean }),
      execute: ({ freshSince, mitraId }) => sql`
        SELECT EXISTS (
          SELECT 1 FROM mitra_online_status s JOIN mitras m ON m.id = s.mitra_id
          WHERE s.mitra_id = ${mitraId} AND s.is_online AND m.is_active AND s.last_heartbeat_at >= ${freshSince}
        ) AS reachable
      `
    }),

    countOnline: SqlSchema.single({
      Request: Schema.Void,
      Result: Count,
      execute: () => sql`SELECT count(*)::int AS n FROM mitra_online_status WHERE is_online`
    })(undefined),

    /**
     * Queues the caller's transaction behind every other capacity recount of the mitra until it
     * ends (`Capacity.ts`): a transaction-level advisory lock on (a namespace, the mitra), no row
     * locked. Two keys, so it never meets the single-key advisory locks used elsewhere.
     */
    lockCapacityRecount: SqlSchema.void({
      Request: Schema.String,
      execute: (mitraId) => sql`SELECT pg_advisory_xact_lock(hashtext('mitra-availability:capacity'), hashtext(${mitraId}))`
    }),

    /** The mitra's live sessions and own maximum; None when there is no such mitra. */
    capacityOf: SqlSchema.findOne({
      Request: Schema.String,
      Result: CapacityRow,
      execute: (mitraId) => sql`
        SELECT m.max_concurrent_sessions, ${liveSessionsOf("m.id")} AS live_sessions FROM mitras m WHERE m.id = ${mitraId}
      `
    }),

    /** Every mitra with what the mirror holds of it. */
    seedRows: SqlSchema.findAll({
      Request: Schema.Void,
      Result: SeedMitraRow,
      execute: () => sql`
        SELECT m.id, m.is_active, m.max_concurrent_sessions, m.status_version::float8 AS status_version,
               COALESCE(s.is_online, false) AS is_online, s.last_heartbeat_at,
               COALESCE(c.live, 0) AS live_sessions
        FROM mitras m
        LEFT JOIN mitra_online_status s ON s.mitra_id = m.id
        LEFT JOIN (${liveSessionsByMitra}) c ON c.mitra_id = m.id
      `
    })(undefined)
  }
}
