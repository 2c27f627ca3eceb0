/**
 * The availability reads straight from Postgres, the durable truth: the fallback of every mirror
 * read (same question, same answer) and the source of the seed and of capacity. Every query takes
 * the caller's `freshSince` instead of `now()`, so both paths judge freshness at the same instant.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import { orDatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import type { AvailabilityQuery, MitraCapacity, SeedMitra } from "./AvailabilityStore.js"
import { liveStatusList } from "../mitras/LiveSessions.js"


export class PostgresAvailability extends Effect.Service<PostgresAvailability>()("mitra/PostgresAvailability", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const liveCounts = sql`
      SELECT mitra_id, count(*)::int AS live FROM chat_sessions
      WHERE status IN ${liveStatusList} AND mitra_id IS NOT NULL
      GROUP BY mitra_id
    `

    const available = (query: AvailabilityQuery) => sql`
      FROM mitra_online_status s
      JOIN mitras m ON m.id = s.mitra_id
      LEFT JOIN (${liveCounts}) c ON c.mitra_id = s.mitra_id
      WHERE s.is_online AND m.is_active AND s.last_heartbeat_at >= ${query.freshSince}
        AND COALESCE(c.live, 0) < COALESCE(m.max_concurrent_sessions, ${query.defaultMaxSessions})
    `

    const findAvailable = (query: AvailabilityQuery) =>
      orDatabaseUnavailable(sql<{ id: string }>`SELECT s.mitra_id AS id ${available(query)}`).pipe(
        Effect.map((rows) => rows.map((r) => r.id)),
        Effect.withSpan("PostgresAvailability.findAvailable")
      )

    const countAvailable = (query: AvailabilityQuery) =>
      orDatabaseUnavailable(sql<{ n: number }>`SELECT count(*)::int AS n ${available(query)}`).pipe(
        Effect.map((rows) => rows[0]?.n ?? 0),
        Effect.withSpan("PostgresAvailability.countAvailable")
      )

    const isReachable = (mitraId: string, freshSince: Date) =>
      orDatabaseUnavailable(sql<{ reachable: boolean }>`
        SELECT EXISTS (
          SELECT 1 FROM mitra_online_status s JOIN mitras m ON m.id = s.mitra_id
          WHERE s.mitra_id = ${mitraId} AND s.is_online AND m.is_active AND s.last_heartbeat_at >= ${freshSince}
        ) AS reachable
      `).pipe(Effect.map((rows) => rows[0]?.reachable === true), Effect.withSpan("PostgresAvailability.isReachable"))

    const countOnline = orDatabaseUnavailable(sql<{ n: number }>`
      SELECT count(*)::int AS n FROM mitra_online_status WHERE is_online
    `).pipe(Effect.map((rows) => rows[0]?.n ?? 0), Effect.withSpan("PostgresAvailability.countOnline"))

    /** The mitra's live sessions and own maximum; None when there is no such mitra. */
    const capacityOf = (mitraId: string) =>
      orDatabaseUnavailable(sql<{ liveSessions: number; maxConcurrentSessions: number | null }>`
        SELECT m.max_concurrent_sessions,
               (SELECT count(*)::int FROM chat_sessions c
                WHERE c.mitra_id = m.id AND c.status IN ${liveStatusList}) AS live_sessions
        FROM mitras m WHERE m.id = ${mitraId}
      `).pipe(
        Effect.map((rows) => Option.fromNullable(rows[0] as MitraCapacity | undefined)),
        Effect.withSpan("PostgresAvailability.capacityOf")
      )

    /** Every mitra with what the mirror holds of it. */
    const seedRows = orDatabaseUnavailable(sql<SeedMitra>`
      SELECT m.id, m.is_active, m.max_concurrent_sessions, m.status_version::float8 AS status_version,
             COALESCE(s.is_online, false) AS is_online, s.last_heartbeat_at,
             COALESCE(c.live, 0) AS live_sessions
      FROM mitras m
      LEFT JOIN mitra_online_status s ON s.mitra_id = m.id
      LEFT JOIN (${liveCounts}) c ON c.mitra_id = m.id
    `).pipe(Effect.withSpan("PostgresAvailability.seedRows"))

    /** Session counts for the dashboard (no mirror: sessions live in Postgres only). */
    const sessionCounts = orDatabaseUnavailable(sql<{ liveSessions: number; searching: number }>`
      SELECT count(*) FILTER (WHERE status IN ${liveStatusList})::int AS live_sessions,
             count(*) FILTER (WHERE status = 'searching')::int AS searching
      FROM chat_sessions WHERE status IN ('active', 'pending_payment', 'searching')
    `).pipe(
      Effect.map((rows) => rows[0] ?? { liveSessions: 0, searching: 0 }),
      Effect.withSpan("PostgresAvailability.sessionCounts")
    )

    return { findAvailable, countAvailable, isReachable, countOnline, capacityOf, seedRows, sessionCounts } as const
  })
}) {}
