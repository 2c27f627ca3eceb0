/**
 * Request bodies have a size limit (`HTTP_MAX_BODY_BYTES`, 64 KiB by default) on every route,
 * however the body is framed, and no error answer grows with the input it rejects.
 */
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { createCcUser, createMitra, fixturePassword, loginAsCcUser } from "../support/fixtures.js"
import { call, type JsonResponse } from "../support/http.js"
import { chunk, lastChunk, rawRequest, type RawResponse } from "../support/rawHttp.js"
import { TestApp } from "../support/TestApp.js"

const defaultLimit = 64 * 1024
/** What an error answer may weigh at most, whatever was sent. */
const maxErrorBytes = 4096

const expectPayloadTooLarge = (response: RawResponse | JsonResponse, what: string) => {
  expect(response.status, `${what} → ${response.status} ${response.text.slice(0, 300)}`).toBe(413)
  expect(response.headers["content-type"]).toContain("application/json")
  expect(JSON.parse(response.text)).toMatchObject({ _tag: "PayloadTooLarge", message: expect.any(String) })
  expect(response.text.length).toBeLessThan(maxErrorBytes)
}

const expectSmallJsonError = (response: RawResponse | JsonResponse, status: number, tag: string, what: string) => {
  expect(response.status, `${what} → ${response.status} ${response.text.slice(0, 300)}`).toBe(status)
  expect(response.headers["content-type"]).toContain("application/json")
  expect(JSON.parse(response.text)).toMatchObject({ _tag: tag, message: expect.any(String) })
  expect(response.text.length, `${what}: ${response.text.length} bytes`).toBeLessThan(maxErrorBytes)
}

/** Routes that take a body, with and without a token (none of them is reached past the limit). */
const bodyRoutes = (mitraId: string) => [
  ["POST", "/api/auth/cc/login"],
  ["POST", "/api/auth/mitra/login"],
  ["POST", "/api/auth/customer/anonymous"],
  ["POST", "/api/auth/refresh"],
  ["POST", "/internal/mitras"],
  ["PATCH", `/internal/mitras/${mitraId}`],
  ["PUT", "/internal/config/max_sessions_per_mitra"],
  ["POST", "/api/no-such-route"]
] as const

/** A JSON object of about `bytes` bytes: one long string field. */
const jsonOfSize = (bytes: number) => JSON.stringify({ email: "x".repeat(bytes - 20), password: "p" })

layer(TestApp(), { excludeTestServices: true })("body size limit (default 64 KiB)", (it) => {
  it.effect("a body over the limit is refused with a JSON 413 on every route, signed in or not", () =>
    Effect.gen(function*() {
      const { accessToken } = yield* loginAsCcUser()
      const mitra = yield* createMitra()
      const body = jsonOfSize(defaultLimit + 1024)
      for (const [method, path] of bodyRoutes(mitra.id)) {
        expectPayloadTooLarge(yield* call(method, path, { rawJson: body }), `${method} ${path}`)
        expectPayloadTooLarge(yield* call(method, path, { rawJson: body, token: accessToken }), `${method} ${path} signed in`)
      }
    }))

  it.effect("a declared content-length over the limit is refused before the body is sent", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra()
      // 20 MB announced, a few bytes sent: only a server that answers without reading can answer.
      for (const [method, path] of [...bodyRoutes(mitra.id), ["GET", "/healthz"] as const]) {
        const response = yield* rawRequest({
          method,
          path,
          headers: { "Content-Type": "application/json", "Content-Length": String(20 * 1024 * 1024) },
          body: "{\"email\":\""
        })
        expectPayloadTooLarge(response, `${method} ${path}`)
        expect(response.headers["connection"]).toBe("close")
      }
    }))

  it.effect("a chunked body is counted as it arrives and refused once it passes the limit", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra()
      // 80 KiB in chunks and no last chunk: the answer can only come from counting while reading.
      const chunks = Buffer.concat([chunk("{\"email\":\""), ...Array.from({ length: 5 }, () => chunk("x".repeat(16 * 1024)))])
      for (const [method, path] of bodyRoutes(mitra.id)) {
        const response = yield* rawRequest({
          method,
          path,
          headers: { "Content-Type": "application/json", "Transfer-Encoding": "chunked" },
          body: chunks
        })
        expectPayloadTooLarge(response, `${method} ${path} chunked`)
      }
    }))

  it.effect("a body within the limit is served, by content-length or chunked", () =>
    Effect.gen(function*() {
      const user = yield* createCcUser({ password: fixturePassword })
      const login = JSON.stringify({ email: user.email, password: fixturePassword })
      const byLength = yield* rawRequest({
        method: "POST",
        path: "/api/auth/cc/login",
        headers: { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(login)) },
        body: login
      })
      expect(byLength.status, byLength.text).toBe(200)
      const chunked = yield* rawRequest({
        method: "POST",
        path: "/api/auth/cc/login",
        headers: { "Content-Type": "application/json", "Transfer-Encoding": "chunked" },
        body: Buffer.concat([chunk(login.slice(0, 10)), chunk(login.slice(10)), Buffer.from(lastChunk)])
      })
      expect(chunked.status, chunked.text).toBe(200)
      expect(chunked.body).toMatchObject({ accessToken: expect.any(String) })
      // Just under the limit is still read (and rejected for what it says, not for its size).
      expectSmallJsonError(
        yield* call("POST", "/api/auth/cc/login", { rawJson: jsonOfSize(defaultLimit - 100) }),
        400,
        "HttpApiDecodeError",
        "a login body just under the limit"
      )
    }))

  it.effect("a decode error does not echo a long value: the 400 stays small", () =>
    Effect.gen(function*() {
      const long = "a".repeat(60_000)
      const controls = "\u0001".repeat(10_000) // six bytes each once escaped
      const requests: ReadonlyArray<readonly [string, Parameters<typeof call>]> = [
        ["login email", ["POST", "/api/auth/cc/login", { json: { email: long, password: "p" } }]],
        ["login password", ["POST", "/api/auth/cc/login", { json: { email: "a@b.co", password: long } }]],
        ["mitra phone", ["POST", "/api/auth/mitra/login", { json: { phone: controls, password: "p" } }]],
        ["display name", ["POST", "/api/auth/customer/anonymous", { json: { displayName: long } }]],
        ["refresh token", ["POST", "/api/auth/refresh", { json: { refreshToken: long } }]],
        ["a wide array", ["POST", "/api/auth/cc/login", { json: { email: Array(20_000).fill(1), password: "p" } }]],
        ["a wide object", ["POST", "/api/auth/cc/login", { json: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, long.slice(0, 10)])) }]],
        ["a long key", ["POST", "/api/auth/customer/anonymous", { json: { [long]: 1, displayName: 5 } }]]
      ]
      for (const [what, args] of requests) {
        expectSmallJsonError(yield* call(...args), 400, "HttpApiDecodeError", what)
      }
    }))

  it.effect("path, query and handler errors do not echo long input either", () =>
    Effect.gen(function*() {
      const { accessToken: token } = yield* loginAsCcUser()
      const long = "b".repeat(8_000) // within Node's 16 KiB header limit
      // The router matches path parameters of at most 100 characters: longer is no route at all.
      expectSmallJsonError(yield* call("GET", `/internal/mitras/${long}`, { token }), 404, "NotFound", "path id")
      expectSmallJsonError(yield* call("PATCH", `/internal/mitras/${long}`, { token, json: {} }), 404, "NotFound", "patch path id")
      expectSmallJsonError(yield* call("GET", `/internal/mitras/${long.slice(0, 100)}`, { token }), 400, "HttpApiDecodeError", "path id")
      expectSmallJsonError(yield* call("GET", `/internal/mitras?limit=${long}`, { token }), 400, "HttpApiDecodeError", "limit")
      expectSmallJsonError(yield* call("GET", `/internal/mitras?cursor=${long}`, { token }), 400, "HttpApiDecodeError", "cursor")
      expectSmallJsonError(yield* call("GET", `/internal/mitras?online=${long.slice(0, 4000)}&active=${long.slice(0, 4000)}`, { token }), 400, "HttpApiDecodeError", "flags")
      expectSmallJsonError(
        yield* call("PUT", `/internal/config/${long.slice(0, 100)}`, { token, json: { value: 1 } }),
        404,
        "SettingNotFound",
        "unknown setting key"
      )
      expectSmallJsonError(
        yield* call("PUT", "/internal/config/max_sessions_per_mitra", { token, json: { value: "c".repeat(60_000) } }),
        400,
        "InvalidSettingValue",
        "setting value"
      )
      expectSmallJsonError(
        yield* call("PUT", "/internal/config/max_sessions_per_mitra", { token, json: { value: Array(12_000).fill("c") } }),
        400,
        "InvalidSettingValue",
        "setting value array"
      )
      expectSmallJsonError(
        yield* call("POST", "/internal/mitras", { token, json: { displayName: long, phone: long, password: long } }),
        400,
        "HttpApiDecodeError",
        "new mitra"
      )
      expectSmallJsonError(
        yield* call("PATCH", `/internal/mitras/${randomUUID()}`, { token, json: { displayName: long, maxConcurrentSessions: long } }),
        400,
        "HttpApiDecodeError",
        "mitra patch"
      )
    }))
})

layer(TestApp({ env: { HTTP_MAX_BODY_BYTES: "2048" } }), { excludeTestServices: true })("HTTP_MAX_BODY_BYTES", (it) => {
  it.effect("sets the limit: over it 413 (the answer names it), under it served", () =>
    Effect.gen(function*() {
      const over = yield* call("POST", "/api/auth/customer/anonymous", { rawJson: jsonOfSize(2100) })
      expectPayloadTooLarge(over, "2.1 KB with a 2 KiB limit")
      expect((over.body as { message: string }).message).toContain("2048")
      const chunked = yield* rawRequest({
        method: "POST",
        path: "/api/auth/customer/anonymous",
        headers: { "Content-Type": "application/json", "Transfer-Encoding": "chunked" },
        body: Buffer.concat([chunk("x".repeat(1500)), chunk("x".repeat(1500))])
      })
      expectPayloadTooLarge(chunked, "3 KB chunked with a 2 KiB limit")
      const under = yield* call("POST", "/api/auth/customer/anonymous", { json: { displayName: "x".repeat(1500) } })
      expectSmallJsonError(under, 400, "HttpApiDecodeError", "1.5 KB with a 2 KiB limit")
      expect((yield* call("POST", "/api/auth/customer/anonymous", { json: { displayName: "Ayu" } })).status).toBe(201)
    }))
})
