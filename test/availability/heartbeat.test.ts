/**
 * POST /api/mitra/status/heartbeat: with Valkey up it is one mirror write and not one Postgres
 * statement (proved by counting the bytes sent to Postgres through a proxy); with Valkey down the
 * full database check guards it and Postgres records it. A deactivated mitra is refused either
 * way; an offline mitra's heartbeat is accepted and changes nothing.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { AccessTokens } from "../../src/auth/AccessTokens.js"
import { AvailabilityStore } from "../../src/availability/store/AvailabilityStore.js"
import { FailingAvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import { MitraAccounts } from "../../src/controlCenter/MitraAccounts.js"
import { Heartbeat } from "../../src/availability/Heartbeat.js"
import { mirrorState, mitraToken } from "../support/availability.js"
import { createMitra } from "../support/fixtures.js"
import { post } from "../support/http.js"
import { TestApp, type TestAppOptions } from "../support/TestApp.js"
import { cloneTemplateDatabase, pgClientLayer } from "../support/TestDatabase.js"
import { testValkeyConnection } from "../support/TestValkey.js"
import { startTcpProxy } from "../support/tcpProxy.js"
import { startValkeyServer } from "../support/valkeyServer.js"
import { TestServicesLive } from "../support/TestInfrastructure.js"

const heartbeat = (token: string) => post("/api/mitra/status/heartbeat", { token })

const lastHeartbeatAt = (mitraId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ lastHeartbeatAt: Date | null; isOnline: boolean }>`
      SELECT last_heartbeat_at, is_online FROM mitra_online_status WHERE mitra_id = ${mitraId}
    `).pipe(Effect.map((rows) => rows[0]), Effect.orDie)

/** A test app whose Postgres traffic goes through a proxy that counts it. */
const appBehindProxy = (options: Omit<TestAppOptions, "database"> = {}) =>
  Effect.gen(function*() {
    const database = yield* cloneTemplateDatabase
    const target = new URL(database.url)
    const proxy = yield* Effect.promise(() => startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }))
    yield* Effect.addFinalizer(() => Effect.promise(() => proxy.cut()))
    const viaProxy = new URL(database.url)
    viaProxy.port = String(proxy.port)
    return { proxy, app: TestApp({ ...options, database: pgClientLayer(viaProxy.toString(), 2) }) }
  })

const onlineMitra = Effect.gen(function*() {
  const mitra = yield* createMitra()
  const token = yield* mitraToken(mitra.id)
  expect((yield* post("/api/mitra/status/online", { token })).status).toBe(200)
  return { mitra, token }
})

describe("POST /api/mitra/status/heartbeat", () => {
  it.scopedLive("with Valkey up: 204, the mirror's heartbeat moves, and no byte reaches Postgres", () =>
    Effect.gen(function*() {
      const { proxy, app } = yield* appBehindProxy()
      yield* Effect.gen(function*() {
        const { mitra, token } = yield* onlineMitra
        const inPostgres = (yield* lastHeartbeatAt(mitra.id))!.lastHeartbeatAt
        const mirrored = (yield* mirrorState).heartbeat[mitra.id]

        const bytesBefore = proxy.bytesToServer()
        for (let i = 0; i < 25; i++) {
          yield* Effect.sleep("2 millis")
          expect((yield* heartbeat(token)).status).toBe(204)
        }
        expect(proxy.bytesToServer()).toBe(bytesBefore)

        expect((yield* mirrorState).heartbeat[mitra.id]! > mirrored!).toBe(true)
        expect((yield* lastHeartbeatAt(mitra.id))!.lastHeartbeatAt).toEqual(inPostgres)
      }).pipe(Effect.provide(app))
    }))

  it.scopedLive("with Valkey down (failing store): the database check, then last_heartbeat_at in Postgres", () =>
    Effect.gen(function*() {
      const { proxy, app } = yield* appBehindProxy({ store: FailingAvailabilityStoreLive })
      yield* Effect.gen(function*() {
        const { mitra, token } = yield* onlineMitra
        const before = (yield* lastHeartbeatAt(mitra.id))!.lastHeartbeatAt!
        const bytesBefore = proxy.bytesToServer()
        yield* Effect.sleep("5 millis")
        expect((yield* heartbeat(token)).status).toBe(204)
        expect(proxy.bytesToServer()).toBeGreaterThan(bytesBefore)
        expect((yield* lastHeartbeatAt(mitra.id))!.lastHeartbeatAt!.getTime()).toBeGreaterThan(before.getTime())
      }).pipe(Effect.provide(app))
    }))

  it.scopedLive("a deactivated mitra's still-valid token gets 403 with Valkey up, from the mirror alone", () =>
    Effect.gen(function*() {
      const { proxy, app } = yield* appBehindProxy()
      yield* Effect.gen(function*() {
        const { mitra, token } = yield* onlineMitra
        yield* (yield* MitraAccounts).setActive(mitra.id, false, "cc:test")
        const bytesBefore = proxy.bytesToServer()
        const refused = yield* heartbeat(token)
        expect(refused.status).toBe(403)
        expect(refused.body).toMatchObject({ _tag: "Forbidden" })
        expect(proxy.bytesToServer()).toBe(bytesBefore)
        expect((yield* lastHeartbeatAt(mitra.id))).toMatchObject({ isOnline: false })
      }).pipe(Effect.provide(app))
    }))

  it.scopedLive("a deactivated mitra gets 403 while Valkey is down (failing store), and so does an unknown one", () =>
    Effect.gen(function*() {
      const inactive = yield* createMitra({ isActive: false, isOnline: true })
      expect((yield* heartbeat(yield* mitraToken(inactive.id))).status).toBe(403)
      const unknown = yield* heartbeat(yield* mitraToken("00000000-0000-4000-8000-000000000000"))
      expect(unknown.status).toBe(403)
      const active = yield* createMitra({ isOnline: true })
      expect((yield* heartbeat(yield* mitraToken(active.id))).status).toBe(204)
    }).pipe(Effect.provide(TestApp({ store: FailingAvailabilityStoreLive }))))

  it.scopedLive("a deactivated mitra gets 403 while the real Valkey server is stopped; an active one is recorded in Postgres", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startValkeyServer()), (s) => Effect.promise(() => s.stop()))
      yield* Effect.gen(function*() {
        const { mitra: deactivated, token: deactivatedToken } = yield* onlineMitra
        yield* (yield* MitraAccounts).setActive(deactivated.id, false, "cc:test")
        const { mitra, token } = yield* onlineMitra
        const before = (yield* lastHeartbeatAt(mitra.id))!.lastHeartbeatAt!
        yield* Effect.promise(() => server.stop())
        expect((yield* heartbeat(deactivatedToken)).status).toBe(403)
        yield* Effect.sleep("5 millis")
        expect((yield* heartbeat(token)).status).toBe(204)
        expect((yield* lastHeartbeatAt(mitra.id))!.lastHeartbeatAt!.getTime()).toBeGreaterThan(before.getTime())
      }).pipe(Effect.provide(TestApp({ valkey: testValkeyConnection({ url: server.url }) })))
    }))

  it.scopedLive("an offline mitra's heartbeat is a 204 no-op: it stays offline in the mirror and in Postgres", () =>
    Effect.gen(function*() {
      const { mitra, token } = yield* onlineMitra
      expect((yield* post("/api/mitra/status/offline", { token })).status).toBe(200)
      expect((yield* heartbeat(token)).status).toBe(204)
      const state = yield* mirrorState
      expect(state.online).not.toContain(mitra.id)
      expect(state.heartbeat[mitra.id]).toBeUndefined()
      expect(yield* lastHeartbeatAt(mitra.id)).toMatchObject({ isOnline: false })
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("no token, a malformed one or a customer's: 401", () =>
    Effect.gen(function*() {
      expect((yield* post("/api/mitra/status/heartbeat")).status).toBe(401)
      expect((yield* post("/api/mitra/status/heartbeat", { token: "nope" })).status).toBe(401)
      const customerToken = yield* Effect.flatMap(AccessTokens, (tokens) => tokens.issue("customer", "00000000-0000-4000-8000-000000000000"))
      const response = yield* post("/api/mitra/status/heartbeat", { token: customerToken.accessToken })
      expect(response.status).toBe(401)
      expect(response.body).toMatchObject({ _tag: "Unauthorized" })
    }).pipe(Effect.provide(TestApp())))
})

describe("Heartbeat.record on an unseeded mirror (a Valkey just restarted, before its reseed)", () => {
  it.live("the mirror cannot vouch for anyone: a deactivated mitra is refused by the database check; an active one is recorded in Postgres", () =>
    Effect.gen(function*() {
      const heartbeats = yield* Heartbeat
      const store = yield* AvailabilityStore
      // A fresh key prefix is what a restarted server looks like: no keys, not seeded.
      expect(yield* store.isSeeded).toBe(false)
      const deactivated = yield* createMitra({ isActive: false, isOnline: true })
      const refused = yield* Effect.flip(heartbeats.record(deactivated.id))
      expect(refused._tag).toBe("Forbidden")

      const active = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(Date.now() - 60_000) })
      const before = (yield* lastHeartbeatAt(active.id))!.lastHeartbeatAt!
      expect(yield* heartbeats.record(active.id)).toBe("recorded")
      expect((yield* lastHeartbeatAt(active.id))!.lastHeartbeatAt!.getTime()).toBeGreaterThan(before.getTime())
    }).pipe(Effect.provide(TestServicesLive()), Effect.orDie))
})
