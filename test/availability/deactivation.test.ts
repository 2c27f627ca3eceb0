/**
 * Deactivation end to end (PATCH /internal/mitras/:id): the control center's transaction revokes
 * the mitra's sessions and takes it offline; the availability follow-up mirrors it into
 * `mitras:deactivated` (out of `mitras:online`, heartbeat key gone), so the heartbeat guard
 * refuses the still-valid access token without a database hit. Reactivation undoes the flag only.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Availability } from "../../src/availability/Availability.js"
import { valkeyWriteFailures } from "../../src/availability/AvailabilityMetrics.js"
import { counterValue } from "../support/metrics.js"
import { FailingAvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import { loginAsCcUser, loginAsMitra } from "../support/fixtures.js"
import { patch, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"
import { mirrorState } from "../support/availability.js"

const setActive = (mitraId: string, isActive: boolean, ccToken: string) =>
  patch(`/internal/mitras/${mitraId}`, { token: ccToken, json: { isActive } })

const postgresState = (mitraId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [mitra] = yield* sql<{ isActive: boolean; isOnline: boolean | null }>`
      SELECT m.is_active, s.is_online FROM mitras m LEFT JOIN mitra_online_status s ON s.mitra_id = m.id WHERE m.id = ${mitraId}
    `
    const sessions = yield* sql<{ revokedReason: string | null }>`
      SELECT revoked_reason FROM auth_sessions WHERE subject_kind = 'mitra' AND subject_id = ${mitraId}
    `
    const events = yield* sql<{ event: string; reason: string }>`
      SELECT event, reason FROM mitra_status_events WHERE mitra_id = ${mitraId} ORDER BY id
    `
    return { ...mitra!, sessions: sessions.map((s) => s.revokedReason), events: events.map((e) => `${e.event}:${e.reason}`) }
  }).pipe(Effect.orDie)

describe("deactivation flow", () => {
  it.scopedLive("revokes sessions, goes offline, enters mitras:deactivated; the old token's heartbeat is 403; reactivation", () =>
    Effect.gen(function*() {
      const availability = yield* Availability
      const cc = yield* loginAsCcUser()
      const { mitra, accessToken, refreshToken } = yield* loginAsMitra()
      expect((yield* post("/api/mitra/status/online", { token: accessToken })).status).toBe(200)
      expect(yield* availability.findAvailableMitras()).toEqual([mitra.id])

      expect((yield* setActive(mitra.id, false, cc.accessToken)).status).toBe(200)

      expect(yield* postgresState(mitra.id)).toEqual({
        isActive: false,
        isOnline: false,
        sessions: ["mitra_deactivated"],
        events: ["online:manual", "deactivated:admin", "offline:deactivated"]
      })
      const state = yield* mirrorState
      expect(state.deactivated).toEqual([mitra.id])
      expect(state.online).toEqual([])
      expect(state.heartbeat[mitra.id]).toBeUndefined()
      expect(yield* availability.findAvailableMitras()).toEqual([])
      expect(yield* availability.isMitraReachable(mitra.id)).toBe(false)

      // The access token is still valid until it expires: the mirror's guard refuses it.
      const heartbeat = yield* post("/api/mitra/status/heartbeat", { token: accessToken })
      expect(heartbeat.status).toBe(403)
      expect((yield* post("/api/mitra/status/online", { token: accessToken })).status).toBe(403)
      expect((yield* post("/api/auth/refresh", { json: { refreshToken } })).status).toBe(401)

      expect((yield* setActive(mitra.id, true, cc.accessToken)).status).toBe(200)
      expect((yield* mirrorState).deactivated).toEqual([])
      // Reactivated, not online: a heartbeat changes nothing until the mitra goes online itself.
      expect((yield* post("/api/mitra/status/heartbeat", { token: accessToken })).status).toBe(204)
      expect(yield* availability.findAvailableMitras()).toEqual([])
      expect((yield* post("/api/mitra/status/online", { token: accessToken })).status).toBe(200)
      expect(yield* availability.findAvailableMitras()).toEqual([mitra.id])
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("with Valkey down it still deactivates (Postgres), counts the skipped mirror write, and the heartbeat is 403", () =>
    Effect.gen(function*() {
      const cc = yield* loginAsCcUser()
      const { mitra, accessToken } = yield* loginAsMitra()
      expect((yield* post("/api/mitra/status/online", { token: accessToken })).status).toBe(200)
      const before = yield* counterValue(valkeyWriteFailures, { operation: "setDeactivated" })
      expect((yield* setActive(mitra.id, false, cc.accessToken)).status).toBe(200)
      expect(yield* postgresState(mitra.id)).toMatchObject({ isActive: false, isOnline: false, sessions: ["mitra_deactivated"] })
      expect(yield* counterValue(valkeyWriteFailures, { operation: "setDeactivated" })).toBe(before + 1)
      expect((yield* post("/api/mitra/status/heartbeat", { token: accessToken })).status).toBe(403)
      expect(yield* (yield* Availability).findAvailableMitras()).toEqual([])
    }).pipe(Effect.provide(TestApp({ store: FailingAvailabilityStoreLive }))))

  it.scopedLive("an id spelled in uppercase in the path deactivates the same mitra in the mirror: out of mitras:online, heartbeat 403", () =>
    Effect.gen(function*() {
      const cc = yield* loginAsCcUser()
      const { mitra, accessToken } = yield* loginAsMitra()
      expect((yield* post("/api/mitra/status/online", { token: accessToken })).status).toBe(200)

      const response = yield* setActive(mitra.id.toUpperCase(), false, cc.accessToken)
      expect(response.body).toMatchObject({ mitra: { id: mitra.id, isActive: false } })
      const state = yield* mirrorState
      expect(state.deactivated).toEqual([mitra.id])
      expect(state.online).toEqual([])
      expect((yield* post("/api/mitra/status/heartbeat", { token: accessToken })).status).toBe(403)
      expect(yield* (yield* Availability).findAvailableMitras()).toEqual([])
    }).pipe(Effect.provide(TestApp())))
})
