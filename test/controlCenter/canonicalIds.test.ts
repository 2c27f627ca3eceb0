/**
 * Ids are canonicalised once, at the boundary: a UUID typed in uppercase (or mixed case) in a
 * path, a payload or a cursor reaches the services in lowercase, so the Valkey mirror — whose keys
 * and set members compare as strings — names the same mitra Postgres does. And a reseed removes
 * per-mitra keys Postgres does not imply, so a stray key written under any other name cannot
 * outlive the next reseed.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { MirrorSeeder } from "../../src/availability/mirror/MirrorSeeder.js"
import { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { createMitra, loginAsCcUser, loginAsMitra } from "../support/fixtures.js"
import { get, patch, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

/** Runs raw commands on the app's own Valkey connection, under its key prefix. */
const valkey = Effect.gen(function*() {
  const connection = yield* ValkeyConnection
  const client = Option.getOrThrow(connection.client)
  const key = (name: string) => `${connection.keyPrefix}${name}`
  return {
    key,
    members: (set: string) => client.use("SMEMBERS", (r) => r.smembers(key(set))).pipe(Effect.orDie),
    get: (name: string) => client.use("GET", (r) => r.get(key(name))).pipe(Effect.orDie),
    set: (name: string, value: string) => client.use("SET", (r) => r.set(key(name), value)).pipe(Effect.orDie),
    exists: (name: string) => client.use("EXISTS", (r) => r.exists(key(name))).pipe(Effect.map((n) => n === 1), Effect.orDie)
  }
})

const mixedCase = (id: string) => id.split("").map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join("")

describe("ids are canonical at the boundary", () => {
  it.scopedLive("PATCH /internal/mitras/{UPPERCASE} deactivates the mitra in the mirror too: its heartbeat is 403, the beacon stops counting it", () =>
    Effect.gen(function*() {
      const v = yield* valkey
      const cc = yield* loginAsCcUser()
      const { mitra, accessToken } = yield* loginAsMitra()
      expect((yield* post("/api/mitra/status/online", { token: accessToken })).status).toBe(200)
      expect(yield* v.members("mitras:online")).toEqual([mitra.id])

      for (const variant of [mitra.id.toUpperCase(), mixedCase(mitra.id)]) {
        const answer = yield* patch(`/internal/mitras/${variant}`, { token: cc.accessToken, json: { isActive: false } })
        expect(answer.status).toBe(200)
        expect((answer.body as { mitra: { id: string } }).mitra.id).toBe(mitra.id)
        expect(yield* v.members("mitras:deactivated")).toEqual([mitra.id])
        expect(yield* v.members("mitras:online")).toEqual([])
        // The still-valid access token: refused by the mirror's guard.
        expect((yield* post("/api/mitra/status/heartbeat", { token: accessToken })).status).toBe(403)
        expect((yield* patch(`/internal/mitras/${variant}`, { token: cc.accessToken, json: { isActive: true } })).status)
          .toBe(200)
        expect(yield* v.members("mitras:deactivated")).toEqual([])
      }
      const beacon = yield* get("/api/availability")
      expect((beacon.body as { available: number }).available).toBe(0)
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("maxConcurrentSessions through an uppercase id writes the mitra's own capacity key, not a stray one", () =>
    Effect.gen(function*() {
      const v = yield* valkey
      const cc = yield* loginAsCcUser()
      const mitra = yield* createMitra()
      const upper = mitra.id.toUpperCase()
      expect((yield* patch(`/internal/mitras/${upper}`, { token: cc.accessToken, json: { maxConcurrentSessions: 3 } })).status)
        .toBe(200)
      expect(yield* v.exists(`mitra:capacity:${upper}`)).toBe(false)
      expect(yield* v.get(`mitra:capacity:${mitra.id}`)).toBe("0")
      const read = yield* get(`/internal/mitras/${upper}`, { token: cc.accessToken })
      expect(read.status).toBe(200)
      expect((read.body as { mitra: { id: string; maxConcurrentSessions: number } }).mitra).toMatchObject({
        id: mitra.id,
        maxConcurrentSessions: 3
      })
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("a list cursor with an uppercase id pages like the lowercase one", () =>
    Effect.gen(function*() {
      const cc = yield* loginAsCcUser()
      for (let i = 0; i < 3; i++) yield* createMitra()
      const first = (yield* get("/internal/mitras?limit=1", { token: cc.accessToken })).body as { nextCursor: string }
      const [micros, id] = JSON.parse(Buffer.from(first.nextCursor, "base64url").toString()) as [string, string]
      const upperCursor = Buffer.from(JSON.stringify([micros, id.toUpperCase()])).toString("base64url")
      const lower = yield* get(`/internal/mitras?limit=1&cursor=${first.nextCursor}`, { token: cc.accessToken })
      const upper = yield* get(`/internal/mitras?limit=1&cursor=${upperCursor}`, { token: cc.accessToken })
      expect(upper.status).toBe(200)
      expect(upper.body).toEqual(lower.body)
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("a reseed removes per-mitra keys Postgres does not imply, and keeps the ones it does", () =>
    Effect.gen(function*() {
      const v = yield* valkey
      const seeder = yield* MirrorSeeder
      const mitra = yield* createMitra({ isOnline: true })
      const stranger = "00000000-0000-4000-8000-000000000000"
      yield* v.set(`mitra:capacity:${mitra.id.toUpperCase()}`, "0")
      yield* v.set(`mitra:capacity:${stranger}`, "1")
      yield* v.set(`mitra:heartbeat:${stranger}`, new Date().toISOString())
      yield* v.set(`mitra:heartbeat:${mitra.id.toUpperCase()}`, new Date().toISOString())

      const { drift } = yield* seeder.reconcile()

      expect(yield* v.exists(`mitra:capacity:${mitra.id.toUpperCase()}`)).toBe(false)
      expect(yield* v.exists(`mitra:capacity:${stranger}`)).toBe(false)
      expect(yield* v.exists(`mitra:heartbeat:${stranger}`)).toBe(false)
      expect(yield* v.exists(`mitra:heartbeat:${mitra.id.toUpperCase()}`)).toBe(false)
      expect(yield* v.get(`mitra:capacity:${mitra.id}`)).toBe("0")
      expect(yield* v.exists(`mitra:heartbeat:${mitra.id}`)).toBe(true)
      expect(drift.capacityRemoved).toBe(2)
      expect(drift.heartbeatRemoved).toBe(2)
    }).pipe(Effect.provide(TestApp())))
})
