/**
 * JSON nested thousands of levels deep — the whole body or one field of an otherwise valid body —
 * is a 400 with a clear JSON message on every route, never a 500 from a stack overflow while the
 * error is described.
 */
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { createMitra, loginAsCcUser } from "../support/fixtures.js"
import { call, type JsonResponse } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

const deepArray = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
const deepObject = (depth: number) => "{\"a\":".repeat(depth) + "1" + "}".repeat(depth)
/** Arrays and objects alternating: `[{"a":[{"a":…}]}]`. */
const deepMixed = (depth: number) => "[{\"a\":".repeat(depth / 2) + "null" + "}]".repeat(depth / 2)

const expectTooDeep = (response: JsonResponse, what: string) => {
  expect(response.status, `${what} → ${response.status} ${response.text.slice(0, 300)}`).toBe(400)
  expect(response.headers["content-type"]).toContain("application/json")
  expect(response.body).toMatchObject({ _tag: "BadRequest", message: expect.stringMatching(/nested/i) })
  expect(response.text.length).toBeLessThan(4096)
}

layer(TestApp(), { excludeTestServices: true })("deeply nested JSON", (it) => {
  it.effect("a deep body is a 400 on login routes, signed in routes and unknown routes", () =>
    Effect.gen(function*() {
      const { accessToken: token } = yield* loginAsCcUser()
      const mitra = yield* createMitra()
      const routes = [
        ["POST", "/api/auth/cc/login", undefined],
        ["POST", "/api/auth/mitra/login", undefined],
        ["POST", "/api/auth/customer/anonymous", undefined],
        ["POST", "/api/auth/refresh", undefined],
        ["POST", "/api/auth/logout", undefined],
        ["PATCH", `/internal/mitras/${mitra.id}`, token],
        ["POST", "/internal/mitras", token],
        ["PUT", "/internal/config/max_sessions_per_mitra", token],
        ["POST", "/internal/roles", token],
        ["POST", "/api/no-such-route", undefined]
      ] as const
      for (const [method, path, token] of routes) {
        for (const [shape, body] of [["array", deepArray(5000)], ["object", deepObject(5000)], ["mixed", deepMixed(5000)]] as const) {
          const options = token === undefined ? { rawJson: body } : { rawJson: body, token }
          expectTooDeep(yield* call(method, path, options), `${method} ${path} ${shape}`)
        }
      }
    }))

  it.effect("a deep value inside an otherwise valid field is a 400 too; shallow nesting is judged as usual", () =>
    Effect.gen(function*() {
      const { accessToken: token } = yield* loginAsCcUser()
      const mitra = yield* createMitra()
      const cases = [
        ["POST", "/api/auth/cc/login", `{"email":"a@b.co","password":${deepArray(5000)}}`, undefined],
        ["POST", "/api/auth/mitra/login", `{"phone":${deepObject(5000)},"password":"p"}`, undefined],
        ["POST", "/api/auth/customer/anonymous", `{"displayName":${deepArray(5000)}}`, undefined],
        ["PATCH", `/internal/mitras/${mitra.id}`, `{"displayName":"Ayu","maxConcurrentSessions":${deepObject(5000)}}`, token],
        // `value` is any JSON at the schema; the handler checks it against the setting's own schema.
        ["PUT", "/internal/config/max_sessions_per_mitra", `{"value":${deepArray(5000)}}`, token],
        ["PUT", "/internal/config/max_sessions_per_mitra", `{"value":${deepObject(5000)}}`, token],
        ["POST", "/internal/roles", `{"name":"deep","permissions":{"mitra":${deepArray(5000)}}}`, token]
      ] as const
      for (const [method, path, body, token] of cases) {
        const options = token === undefined ? { rawJson: body } : { rawJson: body, token }
        expectTooDeep(yield* call(method, path, options), `${method} ${path} ${body.slice(0, 40)}`)
      }
      // Nesting within the bound is read and judged by the route's schema as usual.
      const shallow = yield* call("POST", "/api/auth/cc/login", { rawJson: `{"email":"a@b.co","password":${deepArray(20)}}` })
      expect(shallow.status).toBe(400)
      expect(shallow.body).toMatchObject({ _tag: "HttpApiDecodeError" })
      const setting = yield* call("PUT", "/internal/config/max_sessions_per_mitra", { token, rawJson: `{"value":${deepObject(20)}}` })
      expect(setting.status).toBe(400)
      expect(setting.body).toMatchObject({ _tag: "InvalidSettingValue" })
      // Brackets inside strings are text, not nesting.
      const inString = yield* call("POST", "/api/auth/customer/anonymous", { json: { displayName: "[".repeat(90) } })
      expect(inString.status).toBe(201)
    }))
})
