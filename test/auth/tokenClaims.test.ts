/**
 * Access tokens must carry `exp` and `iat`, must not be issued in the future, and live no longer
 * than the access-token TTL, whatever their claims say: hand-signed tokens (with the test app's
 * real JWT secret) against a mitra route, the token-only heartbeat route and a control-center
 * route of the real app. (The customer middleware, which no app route uses yet, is covered on the
 * probe API of authentication.test.ts.)
 */
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { createCcUser, createMitra } from "../support/fixtures.js"
import { acceptedTimes, refusedTimes, signWith } from "../support/handSignedTokens.js"
import { get, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

layer(TestApp(), { excludeTestServices: true })("access-token claims on the app's routes", (it) => {
  it.effect("no exp, no iat, iat in the future or older than the TTL → 401 on mitra, heartbeat and cc routes; a normal token → 2xx", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra()
      const user = yield* createCcUser()
      const routes = [
        { name: "GET /api/mitra/me", kind: "mitra", sub: mitra.id, call: (token: string) => get("/api/mitra/me", { token }) },
        {
          name: "POST /api/mitra/status/heartbeat",
          kind: "mitra",
          sub: mitra.id,
          call: (token: string) => post("/api/mitra/status/heartbeat", { token })
        },
        { name: "GET /internal/config", kind: "cc_user", sub: user.id, call: (token: string) => get("/internal/config", { token }) }
      ]
      const now = Math.floor(Date.now() / 1000)
      for (const route of routes) {
        for (const [what, times] of Object.entries(refusedTimes(now))) {
          const response = yield* route.call(yield* signWith({ kind: route.kind, sub: route.sub, ...times }))
          expect(response.status, `${route.name}, ${what}`).toBe(401)
          expect(response.body).toMatchObject({ _tag: "Unauthorized" })
        }
        for (const [what, times] of Object.entries(acceptedTimes(now))) {
          const response = yield* route.call(yield* signWith({ kind: route.kind, sub: route.sub, ...times }))
          expect(response.status, `${route.name}, ${what}: ${response.text}`).toBeGreaterThanOrEqual(200)
          expect(response.status, `${route.name}, ${what}`).toBeLessThan(300)
        }
      }
    }))
})
