/**
 * Property: no JSON a client can send to the login, refresh, logout or config endpoints gets a
 * 5xx — anything that is not a valid request is a 4xx JSON answer. Nor does any body at all, in
 * any media type, however long or deep: and the error answer stays small whatever was sent.
 */
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect, FastCheck as fc } from "effect"
import { settingKeys } from "../../src/settings/SettingKeys.js"
import { createCcUser, createMitra, fixturePassword, loginAsCcUser } from "../support/fixtures.js"
import { call } from "../support/http.js"
import { rawRequest } from "../support/rawHttp.js"
import { TestApp } from "../support/TestApp.js"

/** Arbitrary JSON, and objects with the right field names holding arbitrary (sometimes valid) values. */
const anyJson = fc.jsonValue({ maxDepth: 3 })
const plausibleString = fc.oneof(fc.string(), fc.fullUnicodeString(), fc.emailAddress(), fc.constant(fixturePassword))
const field = fc.oneof(anyJson, plausibleString)
/** Credentials that exist (created first), so some requests take the success path too. */
const knownGood = fc.constantFrom<unknown>(
  { email: "fuzz@example.com", password: fixturePassword },
  { phone: "+6281234567890", password: fixturePassword },
  { displayName: "Fuzz" },
  {}
)
const loginBody = fc.oneof(
  anyJson,
  knownGood,
  fc.record({ email: field, password: field }, { requiredKeys: [] }),
  fc.record({ phone: fc.oneof(field, fc.stringMatching(/^\+[1-9][0-9]{6,14}$/)), password: field }, { requiredKeys: [] }),
  fc.record({ displayName: field }, { requiredKeys: [] }),
  fc.record({ refreshToken: field }, { requiredKeys: [] })
)
const path = fc.constantFrom(
  "/api/auth/cc/login",
  "/api/auth/mitra/login",
  "/api/auth/customer/anonymous",
  "/api/auth/refresh",
  "/api/auth/logout"
)
/** Any bytes as a body: JSON or not, long, deep, under any media type (or none). */
const anyBodyText = fc.oneof(
  fc.json(),
  fc.string(),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify({ email: value, password: value, displayName: value, refreshToken: value })),
  fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1_000, max: 20_000 })).map(([s, n]) => JSON.stringify({ email: s.repeat(n), password: "p" })),
  fc.tuple(fc.constantFrom("[", "{\"a\":", "[{\"a\":"), fc.integer({ min: 10, max: 6_000 })).map(([open, depth]) => open.repeat(depth))
)
const anyContentType = fc.constantFrom(
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "multipart/form-data",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded"
)

const settingKey = fc.oneof(fc.constantFrom(...settingKeys), fc.string({ maxLength: 40 }))
const settingBody = fc.oneof(anyJson, fc.record({ value: anyJson }))

const expectClientOrSuccess = (response: { readonly status: number; readonly text: string }, request: string) => {
  expect(response.status, `${request} → ${response.status} ${response.text}`).toBeLessThan(500)
  if (response.status >= 400) expect(JSON.parse(response.text)).toHaveProperty("_tag")
}

layer(TestApp(), { excludeTestServices: true })("arbitrary input", (it) => {
  it.effect("(setup) the accounts some generated requests sign in with exist", () =>
    Effect.gen(function*() {
      yield* createCcUser({ email: "fuzz@example.com", password: fixturePassword })
      yield* createMitra({ phone: "+6281234567890", password: fixturePassword })
      expect((yield* call("POST", "/api/auth/cc/login", { json: { email: "fuzz@example.com", password: fixturePassword } })).status)
        .toBe(200)
    }))
  it.effect.prop(
    "POST /api/auth/* with any JSON body never answers 5xx",
    [path, loginBody],
    ([target, json]) =>
      Effect.gen(function*() {
        const response = yield* call("POST", target, { json })
        expectClientOrSuccess(response, `POST ${target} ${JSON.stringify(json)}`)
      }),
    { fastCheck: { numRuns: 100 } }
  )

  it.effect.prop(
    "POST /api/auth/* with any body text under any content type: never 5xx, never a hang, a small JSON error",
    [path, anyBodyText, anyContentType],
    ([target, text, contentType]) =>
      Effect.gen(function*() {
        const headers: Record<string, string> = { "Content-Length": String(Buffer.byteLength(text)) }
        if (contentType !== undefined) headers["Content-Type"] = contentType
        const response = yield* rawRequest({ method: "POST", path: target, headers, body: text })
        expectClientOrSuccess(response, `POST ${target} ${contentType} ${text.slice(0, 80)}`)
        if (response.status >= 400) expect(response.text.length, response.text.slice(0, 200)).toBeLessThan(4096)
      }),
    { fastCheck: { numRuns: 100 } }
  )

  it.effect.prop(
    "PUT /internal/config/{key} with any key and any JSON body never answers 5xx",
    [settingKey, settingBody],
    ([key, json]) =>
      Effect.gen(function*() {
        const admin = yield* adminToken
        const response = yield* call("PUT", `/internal/config/${encodeURIComponent(key)}`, { token: admin, json })
        expectClientOrSuccess(response, `PUT ${key} ${JSON.stringify(json)}`)
      }),
    { fastCheck: { numRuns: 100 } }
  )

})

/** One admin for the whole file, signed in on first use. */
let cachedAdmin: string | undefined
const adminToken = Effect.suspend(() =>
  cachedAdmin !== undefined
    ? Effect.succeed(cachedAdmin)
    : Effect.map(loginAsCcUser(), ({ accessToken }) => (cachedAdmin = accessToken))
)
