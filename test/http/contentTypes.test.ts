/**
 * The API reads JSON bodies only. A body-taking request (POST, PUT, PATCH, DELETE) that says it
 * carries anything else gets a JSON 415 at once — before its body is read, whatever its length,
 * whether or not the route exists — so a form post cannot sign anyone in without a CORS preflight.
 */
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { createCcUser, fixturePassword, loginAsCcUser, loginAsMitra } from "../support/fixtures.js"
import { call, get } from "../support/http.js"
import { chunk, lastChunk, rawRequest, type RawResponse } from "../support/rawHttp.js"
import { TestApp } from "../support/TestApp.js"

const expectUnsupported = (response: RawResponse, what: string) => {
  expect(response.status, `${what} → ${response.status} ${response.text.slice(0, 300)}`).toBe(415)
  expect(response.headers["content-type"]).toContain("application/json")
  expect(response.body).toMatchObject({ _tag: "UnsupportedMediaType", message: expect.any(String) })
}

const withLength = (headers: Record<string, string>, body: string) => ({
  headers: { ...headers, "Content-Length": String(Buffer.byteLength(body)) },
  body
})

layer(TestApp(), { excludeTestServices: true })("content types", (it) => {
  it.effect("multipart with or without a boundary, with or without content, is a 415 at once", () =>
    Effect.gen(function*() {
      const form = "--xyz\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.co\r\n--xyz--\r\n"
      const variants = [
        ["no boundary", withLength({ "Content-Type": "multipart/form-data" }, form)],
        ["no boundary, empty", withLength({ "Content-Type": "multipart/form-data" }, "")],
        ["boundary, content-length 0", withLength({ "Content-Type": "multipart/form-data; boundary=xyz" }, "")],
        ["boundary and a form", withLength({ "Content-Type": "multipart/form-data; boundary=xyz" }, form)],
        // Announced, never sent: only an answer given before reading arrives.
        ["boundary, body never sent", { headers: { "Content-Type": "multipart/form-data; boundary=xyz", "Content-Length": "500" } }],
        ["chunked, never ended", { headers: { "Content-Type": "multipart/form-data; boundary=xyz", "Transfer-Encoding": "chunked" }, body: chunk("--xyz\r\n") }]
      ] as const
      for (const path of ["/api/auth/cc/login", "/api/auth/customer/anonymous", "/api/no-such-route"]) {
        for (const [what, request] of variants) {
          expectUnsupported(yield* rawRequest({ method: "POST", path, ...request }), `${path} multipart ${what}`)
        }
      }
    }))

  it.effect("a form-encoded or text login with valid credentials is refused; JSON in any spelling signs in", () =>
    Effect.gen(function*() {
      const user = yield* createCcUser({ password: fixturePassword })
      const form = `email=${encodeURIComponent(user.email)}&password=${encodeURIComponent(fixturePassword)}`
      const json = JSON.stringify({ email: user.email, password: fixturePassword })
      const refused = [
        ["application/x-www-form-urlencoded", form],
        ["application/x-www-form-urlencoded; charset=UTF-8", form],
        ["text/plain", json],
        ["text/plain; charset=utf-8", json],
        // A CORS-safelisted type with "application/json" in a parameter is still text/plain.
        ["text/plain; a=application/json", json],
        ["application/octet-stream", json],
        ["application/jsonx", json],
        ["application/json-patch+json", json],
        ["application/json; charset=latin1", json]
      ] as const
      for (const [contentType, body] of refused) {
        expectUnsupported(
          yield* rawRequest({ method: "POST", path: "/api/auth/cc/login", ...withLength({ "Content-Type": contentType }, body) }),
          `login as ${contentType}`
        )
      }
      for (const contentType of ["application/json", "application/json; charset=utf-8", "Application/JSON;Charset=UTF-8", "application/json ;  charset=\"utf-8\"", " APPLICATION/json "]) {
        const response = yield* rawRequest({ method: "POST", path: "/api/auth/cc/login", ...withLength({ "Content-Type": contentType }, json) })
        expect(response.status, `login as ${contentType} → ${response.text}`).toBe(200)
      }
    }))

  it.effect("any body-taking method and route: a non-JSON type is a 415 whatever the length, before the body", () =>
    Effect.gen(function*() {
      const { accessToken } = yield* loginAsCcUser()
      const auth = { Authorization: `Bearer ${accessToken}` }
      const targets = [
        ["POST", "/api/auth/customer/anonymous"],
        ["POST", "/api/mitra/status/online"],
        ["PATCH", "/internal/mitras/00000000-0000-4000-8000-000000000000"],
        ["PUT", "/internal/config/max_sessions_per_mitra"],
        ["DELETE", "/internal/mitras/00000000-0000-4000-8000-000000000000"],
        ["POST", "/api/no-such-route"]
      ] as const
      for (const [method, path] of targets) {
        for (const [what, request] of [
          ["empty", withLength({ ...auth, "Content-Type": "text/plain" }, "")],
          ["short", withLength({ ...auth, "Content-Type": "text/plain" }, "{}")],
          ["announced, never sent", { headers: { ...auth, "Content-Type": "application/xml", "Content-Length": "1000" } }],
          ["chunked, never ended", { headers: { ...auth, "Content-Type": "text/csv", "Transfer-Encoding": "chunked" }, body: chunk("a,b") }],
          ["compressed JSON", { headers: { ...auth, "Content-Type": "application/json", "Content-Encoding": "gzip", "Content-Length": "1000" } }]
        ] as const) {
          expectUnsupported(yield* rawRequest({ method, path, ...request }), `${method} ${path} ${what}`)
        }
      }
    }))

  it.effect("no content-type: fine without a body (payload-less routes), a 415 with one", () =>
    Effect.gen(function*() {
      const { accessToken } = yield* loginAsMitra()
      const auth = { Authorization: `Bearer ${accessToken}` }
      for (const [path, isOnline] of [["/api/mitra/status/online", true], ["/api/mitra/status/offline", false]] as const) {
        const bare = yield* rawRequest({ method: "POST", path, headers: auth })
        expect(bare.status, bare.text).toBe(200)
        expect(bare.body).toEqual({ isOnline })
        const zero = yield* rawRequest({ method: "POST", path, headers: { ...auth, "Content-Length": "0" } })
        expect(zero.status, zero.text).toBe(200)
        expect((yield* call("POST", path, { token: accessToken })).status).toBe(200)
      }
      const user = yield* createCcUser({ password: fixturePassword })
      const json = JSON.stringify({ email: user.email, password: fixturePassword })
      expectUnsupported(
        yield* rawRequest({ method: "POST", path: "/api/auth/cc/login", headers: { "Content-Length": String(json.length) }, body: json }),
        "a JSON login without content-type"
      )
      expectUnsupported(
        yield* rawRequest({ method: "POST", path: "/api/auth/cc/login", headers: { "Transfer-Encoding": "chunked" }, body: Buffer.concat([chunk(json), Buffer.from(lastChunk)]) }),
        "a chunked JSON login without content-type"
      )
    }))

  it.effect("the documentation is still served, and lists the 413 and 415 answers", () =>
    Effect.gen(function*() {
      const docs = yield* get("/docs")
      expect(docs.status).toBe(200)
      expect(docs.headers["content-type"]).toContain("text/html")
      const openApi = yield* get("/openapi.json")
      expect(openApi.status).toBe(200)
      const spec = openApi.body as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }
      const login = spec.paths["/api/auth/cc/login"]?.["post"]
      expect(Object.keys(login?.responses ?? {})).toEqual(expect.arrayContaining(["200", "400", "413", "415"]))
    }))
})
