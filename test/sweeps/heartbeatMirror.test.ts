/**
 * The heartbeat mirror, driven through its loop on the TestClock against real Postgres and
 * Valkey: one SQL statement per cycle whether 1, 100 or 10,000 mitras are online (counted from
 * the SQL client's own `sql.execute` spans), times only ever move forward, instances running it
 * at once write each row once, a Valkey outage skips the cycle without touching Postgres, and in
 * in-memory mode the in-memory heartbeats are copied too.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Heartbeat } from "../../src/availability/Heartbeat.js"
import { HeartbeatMirrorSweepLive } from "../../src/sweeps/SweepsLive.js"
import { mirrorState, seedMirror } from "../support/availability.js"
import { createMitra } from "../support/fixtures.js"
import { cloneTemplateDatabase, pgClientLayer } from "../support/TestDatabase.js"
import { randomKeyPrefix, testValkeyConnection } from "../support/TestValkey.js"
import {
  advanceAndAwait,
  itemsOf,
  recordingSpans,
  seconds,
  sqlStatements,
  startClockAtRealTime,
  SweepTestLive,
  ticksOf
} from "./kit.js"

/** Default config: `HEARTBEAT_MIRROR_INTERVAL_SECONDS` 60. */
const cadence = seconds(60)

const startLoop = Layer.build(HeartbeatMirrorSweepLive)

let phoneCounter = 0

/** `n` online mitras straight into Postgres, heartbeat at `at` (bulk, for the big worlds). */
const insertOnline = (n: number, at: Date) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const base = (phoneCounter += 1) * 100_000
    yield* sql`
      WITH created AS (
        INSERT INTO mitras (display_name, phone, password_hash)
        SELECT 'Swept ' || i, '+6281' || lpad((${base}::int + i)::text, 9, '0'), 'unusable'
        FROM generate_series(1, ${n}::int) AS i
        RETURNING id
      )
      INSERT INTO mitra_online_status (mitra_id, is_online, last_online_at, last_heartbeat_at, updated_at)
      SELECT id, true, ${at}, ${at}, ${at} FROM created
    `
  }).pipe(Effect.orDie)

const heartbeatsInPostgres = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ mitraId: string; lastHeartbeatAt: Date | null }>`
    SELECT mitra_id, last_heartbeat_at FROM mitra_online_status
  `.pipe(Effect.orDie)
  return Object.fromEntries(rows.map((r) => [r.mitraId, r.lastHeartbeatAt?.toISOString() ?? null]))
})

const heartbeatsInMirror = mirrorState.pipe(
  Effect.map((state) => Object.fromEntries(state.online.map((id) => [id, state.heartbeat[id] ?? null]))),
  Effect.orDie
)

describe("heartbeat mirror sweep", () => {
  it.scoped("one SQL statement per cycle for 1, 100 and 10,000 online mitras, and every row then holds the mirror's time", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const sql = yield* SqlClient.SqlClient
      yield* recordingSpans((spans) =>
        Effect.gen(function*() {
          yield* startLoop
          let online = 0
          for (const total of [1, 100, 10_000]) {
            yield* insertOnline(total - online, new Date(t0 - 30_000))
            online = total
            yield* seedMirror
            // Postgres falls 10 s behind the mirror for every mitra, as between two cycles.
            yield* sql`UPDATE mitra_online_status SET last_heartbeat_at = last_heartbeat_at - interval '10 seconds'`
            const written = yield* itemsOf("heartbeat_mirror", "written")
            spans.length = 0
            yield* advanceAndAwait("heartbeat_mirror", cadence)
            const statements = sqlStatements(spans)
            expect(statements, `${total} online`).toHaveLength(1)
            expect(statements[0]).toMatch(/UPDATE mitra_online_status[\s\S]*unnest/)
            expect(yield* itemsOf("heartbeat_mirror", "written")).toBe(written + total)
            expect(yield* heartbeatsInPostgres).toEqual(yield* heartbeatsInMirror)
          }
        })
      )
    }).pipe(Effect.provide(SweepTestLive())), 60_000)

  it.scoped("never moves a time backwards: a newer Postgres time is kept, older ones move forward, nothing is written twice", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const sql = yield* SqlClient.SqlClient
      const newerInPostgres = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 30_000) })
      const newerInMirror = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 30_000) })
      const offline = yield* createMitra({ lastHeartbeatAt: new Date(t0 - 30_000) })
      yield* seedMirror
      // Written by the heartbeat route's database path during a Valkey hiccup: newer than the mirror's.
      yield* sql`UPDATE mitra_online_status SET last_heartbeat_at = ${new Date(t0 + 5_000)} WHERE mitra_id = ${newerInPostgres.id}`
      yield* (yield* Heartbeat).record(newerInMirror.id)
      yield* startLoop
      const written = yield* itemsOf("heartbeat_mirror", "written")
      yield* advanceAndAwait("heartbeat_mirror", cadence)
      const after = yield* heartbeatsInPostgres
      expect(after[newerInPostgres.id]).toBe(new Date(t0 + 5_000).toISOString())
      expect(after[newerInMirror.id]).toBe(new Date(t0).toISOString())
      expect(after[offline.id]).toBeUndefined()
      expect(yield* itemsOf("heartbeat_mirror", "written")).toBe(written + 1)
      // The next cycle finds nothing newer: idempotent.
      yield* advanceAndAwait("heartbeat_mirror", cadence)
      expect(yield* itemsOf("heartbeat_mirror", "written")).toBe(written + 1)
      expect(yield* heartbeatsInPostgres).toEqual(after)
    }).pipe(Effect.provide(SweepTestLive())))

  it.scoped("two instances copying at once write each row once and agree with one", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const database = yield* cloneTemplateDatabase
      const keyPrefix = randomKeyPrefix()
      const instance = () =>
        Layer.build(SweepTestLive({ database: pgClientLayer(database.url, 2), valkey: testValkeyConnection({ keyPrefix }) }))
      const [a, b] = [yield* instance(), yield* instance()]
      yield* Effect.gen(function*() {
        yield* insertOnline(200, new Date(t0 - 30_000))
        yield* seedMirror
        const sql = yield* SqlClient.SqlClient
        yield* sql`UPDATE mitra_online_status SET last_heartbeat_at = last_heartbeat_at - interval '10 seconds'`.pipe(Effect.orDie)
      }).pipe(Effect.provide(a))
      yield* startLoop.pipe(Effect.provide(a))
      yield* startLoop.pipe(Effect.provide(b))
      const written = yield* itemsOf("heartbeat_mirror", "written")
      yield* advanceAndAwait("heartbeat_mirror", cadence, 2)
      expect(yield* itemsOf("heartbeat_mirror", "written")).toBe(written + 200)
      const inPostgres = yield* heartbeatsInPostgres.pipe(Effect.provide(a))
      expect(inPostgres).toEqual(yield* heartbeatsInMirror.pipe(Effect.provide(b)))
      expect(Object.values(inPostgres).every((at) => at === new Date(t0 - 30_000).toISOString())).toBe(true)
    }))

  it.scoped("with Valkey down (the failing layer) the cycle is skipped: no statement, Postgres unchanged", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 30_000) })
      const before = yield* heartbeatsInPostgres
      const skipped = yield* ticksOf("heartbeat_mirror", "skipped")
      yield* recordingSpans((spans) =>
        Effect.gen(function*() {
          yield* startLoop
          yield* advanceAndAwait("heartbeat_mirror", cadence)
          expect(sqlStatements(spans)).toEqual([])
        })
      )
      expect(yield* ticksOf("heartbeat_mirror", "skipped")).toBe(skipped + 1)
      expect(yield* heartbeatsInPostgres).toEqual(before)
    }).pipe(Effect.provide(SweepTestLive({ store: "failing" }))))

  it.scoped("in in-memory mode the in-memory heartbeats are copied to Postgres too", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const mitra = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 30_000) })
      yield* seedMirror
      yield* (yield* Heartbeat).record(mitra.id)
      yield* startLoop
      yield* advanceAndAwait("heartbeat_mirror", cadence)
      expect((yield* heartbeatsInPostgres)[mitra.id]).toBe(new Date(t0).toISOString())
    }).pipe(Effect.provide(SweepTestLive({ store: "memory" }))))
})
