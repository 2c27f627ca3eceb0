/**
 * The hot routes are untraced end to end: a heartbeat and a beacon poll open none of the service's
 * spans (`Heartbeat.record`, `Availability.countAvailableMitrasFromCache`, the store's and the
 * fallback's), so nothing is exported per request; going online still is traced (the control).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mitraToken, seedMirror } from "../support/availability.js"
import { createMitra } from "../support/fixtures.js"
import { get, post } from "../support/http.js"
import { recordingSpans } from "../support/spans.js"
import { TestApp } from "../support/TestApp.js"

describe("hot routes are untraced", () => {
  it.scopedLive("heartbeat and beacon open no spans; setOnline does", () =>
    recordingSpans((spans) => {
      const names = () => spans.map((span) => span.name)
      return Effect.gen(function*() {
        const mitra = yield* createMitra()
        yield* seedMirror
        const token = yield* mitraToken(mitra.id)
        expect((yield* post("/api/mitra/status/online", { token })).status).toBe(200)
        expect(names()).toContain("MitraStatus.setOnline")

        spans.length = 0
        expect((yield* post("/api/mitra/status/heartbeat", { token })).status).toBe(204)
        expect((yield* get("/api/availability")).status).toBe(200)
        // Only the test's own client spans; not one from the service (server, services, store, SQL).
        expect(names().filter((n) => !n.startsWith("http.client"))).toEqual([])
      }).pipe(Effect.provide(TestApp()))
    }))
})
