/**
 * A new `maxConcurrentSessions` (PATCH /internal/mitras/:id) reaches the mirror at once: the
 * control center's follow-up recomputes the mitra's capacity after the commit, so the Valkey read
 * path agrees with Postgres without waiting for a session change or the reseed sweep.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Availability } from "../../src/availability/Availability.js"
import { Capacity } from "../../src/availability/Capacity.js"
import { insertSession } from "../support/availability.js"
import { loginAsCcUser, loginAsMitra } from "../support/fixtures.js"
import { patch, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

describe("changing a mitra's maximum of concurrent sessions", () => {
  it.scopedLive("is mirrored at once: a full mitra becomes available when raised, and full again when lowered", () =>
    Effect.gen(function*() {
      const availability = yield* Availability
      const capacity = yield* Capacity
      const cc = yield* loginAsCcUser()
      const { mitra, accessToken } = yield* loginAsMitra()
      expect((yield* post("/api/mitra/status/online", { token: accessToken })).status).toBe(200)
      yield* insertSession({ mitraId: mitra.id, status: "active" })
      yield* capacity.recomputeCapacityForMitra(mitra.id) // as the sessions code does after a transition
      // One live session against the default maximum of 1: full.
      expect(yield* availability.findAvailableMitras()).toEqual([])

      const raised = yield* patch(`/internal/mitras/${mitra.id}`, { token: cc.accessToken, json: { maxConcurrentSessions: 2 } })
      expect(raised.status).toBe(200)
      expect(yield* availability.findAvailableMitras()).toEqual([mitra.id])

      const lowered = yield* patch(`/internal/mitras/${mitra.id}`, { token: cc.accessToken, json: { maxConcurrentSessions: 1 } })
      expect(lowered.status).toBe(200)
      expect(yield* availability.findAvailableMitras()).toEqual([])
    }).pipe(Effect.provide(TestApp())))
})
