/**
 * The auth-session pruning sweep, driven through its loop on the TestClock against a real
 * Postgres: after one cadence, sessions that ended (revoked or expired) more than
 * AUTH_SESSION_RETENTION_DAYS ago are deleted with their rotated-token rows, and rotated-token rows
 * older than the refresh TTL go even from live sessions; recently ended and live sessions stay,
 * with the rotated tokens reuse detection still needs. A backlog is deleted in batches of
 * `pruneBatchSize`, one statement each.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { pruneBatchSize } from "../../src/auth/RefreshSessions.js"
import { AuthSessionPruneSweep } from "../../src/sweeps/AuthSessionPruneSweep.js"
import { AuthSessionPruneSweepLive } from "../../src/sweeps/SweepsLive.js"
import { TestConfigLive } from "../support/TestConfig.js"
import { TestDatabaseLive } from "../support/TestDatabase.js"
import { advanceAndAwait, itemsOf, recordingSpans, seconds, sqlStatements, startClockAtRealTime } from "./kit.js"

/** Default cadence: one hour. Retention 30 days and refresh TTL 30 days, except where a test sets them. */
const cadence = seconds(3600)
const day = 86_400_000

const PruneTestLive = (env: Record<string, string> = {}) =>
  AuthSessionPruneSweep.Default.pipe(Layer.provideMerge(Layer.mergeAll(TestDatabaseLive, TestConfigLive(env))), Layer.orDie)

interface SessionRow {
  readonly createdAt: Date
  readonly expiresAt: Date
  readonly revokedAt?: Date
  /** When each of its earlier tokens was rotated out. */
  readonly rotatedAt?: ReadonlyArray<Date>
}

/** Inserts a session (and its rotated-token rows) as RefreshSessions would have left it; returns its id. */
const insertSession = (row: SessionRow) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [session] = yield* sql<{ id: string }>`
      INSERT INTO auth_sessions (subject_kind, subject_id, refresh_token_hash, created_at, expires_at, revoked_at, revoked_reason)
      VALUES ('mitra', ${randomUUID()}, ${randomUUID()}, ${row.createdAt}, ${row.expiresAt}, ${row.revokedAt ?? null},
              ${row.revokedAt === undefined ? null : "logout"})
      RETURNING id
    `
    for (const at of row.rotatedAt ?? []) {
      yield* sql`INSERT INTO auth_session_rotated_tokens (refresh_token_hash, session_id, rotated_at) VALUES (${randomUUID()}, ${session!.id}, ${at})`
    }
    return session!.id
  }).pipe(Effect.orDie)

const stored = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const sessions = yield* sql<{ id: string }>`SELECT id FROM auth_sessions ORDER BY id`
  const rotated = yield* sql<{ sessionId: string; rotatedAt: Date }>`SELECT session_id, rotated_at FROM auth_session_rotated_tokens`
  return {
    sessions: sessions.map((s) => s.id),
    rotated: (id: string) => rotated.filter((r) => r.sessionId === id).map((r) => r.rotatedAt.getTime()).sort()
  }
}).pipe(Effect.orDie)

describe("auth-session pruning sweep", () => {
  it.scoped("after one cadence: long-ended sessions and their rotated tokens go; recent, live ones and recent rotated tokens stay", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const ago = (days: number) => new Date(t0 - days * day)
      // Times are as of the tick, one cadence (an hour) after t0; the margins are days.
      const revokedLongAgo = yield* insertSession({
        createdAt: ago(50), expiresAt: ago(10), revokedAt: ago(40), rotatedAt: [ago(45), ago(41)]
      })
      const expiredLongAgo = yield* insertSession({ createdAt: ago(70), expiresAt: ago(31), rotatedAt: [ago(35)] })
      // Revoked long ago, though its expiry (which slid on each refresh) is recent: it ended when revoked.
      const revokedBeforeExpiry = yield* insertSession({ createdAt: ago(60), expiresAt: ago(-5), revokedAt: ago(32) })
      const revokedRecently = yield* insertSession({
        createdAt: ago(40), expiresAt: ago(-2), revokedAt: ago(29), rotatedAt: [ago(29.5), ago(31)]
      })
      const expiredRecently = yield* insertSession({ createdAt: ago(31), expiresAt: ago(1), rotatedAt: [ago(2)] })
      const live = yield* insertSession({ createdAt: ago(90), expiresAt: ago(-29), rotatedAt: [ago(60), ago(31), ago(1)] })
      const fresh = yield* insertSession({ createdAt: ago(0), expiresAt: ago(-30) })

      const sessionsDeleted = yield* itemsOf("auth_session_prune", "sessions_deleted")
      const rotatedDeleted = yield* itemsOf("auth_session_prune", "rotated_tokens_deleted")
      yield* Layer.build(AuthSessionPruneSweepLive)
      yield* advanceAndAwait("auth_session_prune", cadence)

      const after = yield* stored
      expect(after.sessions).toEqual([revokedRecently, expiredRecently, live, fresh].sort())
      for (const gone of [revokedLongAgo, expiredLongAgo, revokedBeforeExpiry]) expect(after.rotated(gone)).toEqual([])
      // Rotated tokens are kept for the refresh TTL (30 days), whatever their session.
      expect(after.rotated(revokedRecently)).toEqual([ago(29.5).getTime()])
      expect(after.rotated(expiredRecently)).toEqual([ago(2).getTime()])
      expect(after.rotated(live)).toEqual([ago(1).getTime()])
      expect(yield* itemsOf("auth_session_prune", "sessions_deleted")).toBe(sessionsDeleted + 3)
      expect(yield* itemsOf("auth_session_prune", "rotated_tokens_deleted")).toBe(rotatedDeleted + 6)

      // Nothing left to prune: the next tick deletes nothing.
      yield* advanceAndAwait("auth_session_prune", cadence)
      expect(yield* itemsOf("auth_session_prune", "sessions_deleted")).toBe(sessionsDeleted + 3)
    }).pipe(Effect.provide(PruneTestLive())))

  it.scoped("retention and cadence come from the environment; rotated tokens of pruned sessions go even when younger than the TTL", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const ago = (days: number) => new Date(t0 - days * day)
      const pruned = yield* insertSession({ createdAt: ago(20), expiresAt: ago(-20), revokedAt: ago(8), rotatedAt: [ago(9)] })
      const kept = yield* insertSession({ createdAt: ago(20), expiresAt: ago(-20), revokedAt: ago(6), rotatedAt: [ago(7)] })
      yield* Layer.build(AuthSessionPruneSweepLive)
      yield* advanceAndAwait("auth_session_prune", seconds(60))
      const after = yield* stored
      expect(after.sessions).toEqual([kept])
      expect(after.rotated(pruned)).toEqual([])
      expect(after.rotated(kept)).toEqual([ago(7).getTime()])
    }).pipe(Effect.provide(PruneTestLive({ AUTH_SESSION_RETENTION_DAYS: "7", AUTH_SESSION_PRUNE_SWEEP_SECONDS: "60" }))))

  it.scoped(`a backlog is deleted in batches of ${pruneBatchSize}, one statement each, until none is left`, () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const sql = yield* SqlClient.SqlClient
      const backlog = 2 * pruneBatchSize + 1
      // Long-expired sessions, each with one rotated token from just before it ended (older than the TTL).
      yield* sql`
        WITH s AS (
          INSERT INTO auth_sessions (subject_kind, subject_id, refresh_token_hash, created_at, expires_at)
          SELECT 'customer', gen_random_uuid(), md5(random()::text || g), ${new Date(t0 - 100 * day)}, ${new Date(t0 - 60 * day)}
          FROM generate_series(1, ${backlog}) g
          RETURNING id
        )
        INSERT INTO auth_session_rotated_tokens (refresh_token_hash, session_id, rotated_at)
        SELECT md5(id::text), id, ${new Date(t0 - 61 * day)} FROM s
      `.pipe(Effect.orDie)
      const live = yield* insertSession({ createdAt: new Date(t0), expiresAt: new Date(t0 + 30 * day) })

      const result = yield* recordingSpans((spans) =>
        Effect.gen(function*() {
          const tick = yield* (yield* AuthSessionPruneSweep).tick()
          return { tick, statements: sqlStatements(spans) }
        })
      )
      expect(result.tick.counts).toEqual({ sessions_deleted: backlog, rotated_tokens_deleted: backlog })
      const sessionDeletes = result.statements.filter((s) => /DELETE FROM auth_sessions/.test(s))
      const rotatedDeletes = result.statements.filter((s) => /DELETE FROM auth_session_rotated_tokens/.test(s))
      // 5000, 5000, 1: the last batch is short, so the loop stops.
      expect(sessionDeletes).toHaveLength(3)
      // All rotated rows are older than the TTL: three batches, then one empty pass over ended sessions.
      expect(rotatedDeletes).toHaveLength(4)
      expect((yield* stored).sessions).toEqual([live])
    }).pipe(Effect.provide(PruneTestLive())), 60_000)
})
