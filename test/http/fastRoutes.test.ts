/**
 * The fast path (`src/http/FastRoutes.ts`): which requests it takes, and that every answer it
 * gives is the API's answer to the same request, byte for byte where it matters (status, body,
 * content type). The API's answer is reached by adding a query string, which the fast path never
 * takes and the router ignores.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { AccessTokens } from "../../src/auth/AccessTokens.js"
import { dispatchTo, type FastRoute } from "../../src/http/FastRoutes.js"
import { mitraToken, seedMirror } from "../support/availability.js"
import { createCustomer, createMitra } from "../support/fixtures.js"
import { call, type JsonResponse } from "../support/http.js"
import { recordingSpans } from "../support/spans.js"
import { TestApp } from "../support/TestApp.js"

describe("which requests the fast path takes", () => {
  /** Where a request with these parts goes: "fast", "api", or "declined → api". */
  const routeOf = (request: { method: string; url: string; headers?: Record<string, string> }, accept = true) => {
    const taken: Array<string> = []
    const route: FastRoute = {
      method: "POST",
      path: "/api/mitra/status/heartbeat",
      handle: () => {
        taken.push("fast")
        return accept
      }
    }
    const dispatch = dispatchTo([route], () => taken.push("api"))
    dispatch({ headers: {}, ...request } as unknown as IncomingMessage, {} as ServerResponse)
    return taken.join(" → ")
  }
  const heartbeat = "/api/mitra/status/heartbeat"

  it("only the plainest form: its method, its exact path, no body and nothing about one", () => {
    expect(routeOf({ method: "POST", url: heartbeat })).toBe("fast")
    expect(routeOf({ method: "POST", url: heartbeat, headers: { "content-length": "0", authorization: "Bearer x" } })).toBe("fast")

    expect(routeOf({ method: "GET", url: heartbeat })).toBe("api")
    expect(routeOf({ method: "HEAD", url: heartbeat })).toBe("api")
    expect(routeOf({ method: "POST", url: `${heartbeat}?x=1` })).toBe("api")
    expect(routeOf({ method: "POST", url: `${heartbeat}/` })).toBe("api")
    expect(routeOf({ method: "POST", url: `/API/mitra/status/heartbeat` })).toBe("api")
    expect(routeOf({ method: "POST", url: `//api/mitra/status/heartbeat` })).toBe("api")
    expect(routeOf({ method: "POST", url: heartbeat, headers: { "content-length": "2" } })).toBe("api")
    expect(routeOf({ method: "POST", url: heartbeat, headers: { "content-length": "00" } })).toBe("api")
    expect(routeOf({ method: "POST", url: heartbeat, headers: { "transfer-encoding": "chunked" } })).toBe("api")
    expect(routeOf({ method: "POST", url: heartbeat, headers: { "content-type": "application/json" } })).toBe("api")
    expect(routeOf({ method: "POST", url: heartbeat, headers: { "content-type": "text/plain" } })).toBe("api")
    expect(routeOf({ method: "POST", url: heartbeat, headers: { "content-encoding": "gzip" } })).toBe("api")
    expect(routeOf({ method: "POST", url: "/api/mitra/status/online" })).toBe("api")
  })

  it("a request the route declines goes to the API", () => {
    expect(routeOf({ method: "POST", url: heartbeat }, false)).toBe("fast → api")
  })
})

/** What must be equal between the two paths. */
const answer = (response: JsonResponse) => ({
  status: response.status,
  text: response.text,
  contentType: response.headers["content-type"]
})

/** The request through the fast path, then through the API; both answers. */
const bothWays = (method: "GET" | "POST", path: string, headers: Record<string, string>) =>
  Effect.gen(function*() {
    const fast = answer(yield* call(method, path, { headers }))
    const api = answer(yield* call(method, `${path}?via=api`, { headers }))
    return { fast, api }
  })

describe("the fast path answers as the API does", () => {
  it.scopedLive("heartbeat: every kind of credential, accepted or refused", () =>
    Effect.gen(function*() {
      const tokens = yield* AccessTokens
      const online = yield* createMitra({ isOnline: true })
      const offline = yield* createMitra()
      const deactivated = yield* createMitra({ isActive: false })
      const customer = yield* createCustomer()
      yield* seedMirror
      const onlineToken = yield* mitraToken(online.id)
      const cases: ReadonlyArray<readonly [string, Record<string, string>, number]> = [
        ["an online mitra", { authorization: `Bearer ${onlineToken}` }, 204],
        ["the scheme in lower case (read as the API reads it)", { authorization: `bearer ${onlineToken}` }, 204],
        ["an offline mitra (nothing recorded)", { authorization: `Bearer ${yield* mitraToken(offline.id)}` }, 204],
        ["a deactivated mitra", { authorization: `Bearer ${yield* mitraToken(deactivated.id)}` }, 403],
        ["no credentials", {}, 401],
        ["a malformed token", { authorization: "Bearer not.a.token" }, 401],
        ["another scheme", { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` }, 401],
        ["a token with its payload altered", { authorization: `Bearer ${tampered(onlineToken)}` }, 401],
        ["a customer's token", { authorization: `Bearer ${(yield* tokens.issue("customer", customer.id)).accessToken}` }, 401]
      ]
      for (const [what, headers, status] of cases) {
        const { api, fast } = yield* bothWays("POST", "/api/mitra/status/heartbeat", headers)
        expect(fast, what).toEqual(api)
        expect(fast.status, what).toBe(status)
      }
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("beacon: the same snapshot, the same JSON", () =>
    Effect.gen(function*() {
      yield* createMitra({ isOnline: true })
      yield* seedMirror
      const { api, fast } = yield* bothWays("GET", "/api/availability", {})
      expect(fast).toEqual(api)
      expect(JSON.parse(fast.text)).toMatchObject({ available: 1 })
    }).pipe(Effect.provide(TestApp())))
})

/** The token with one claim changed and the signature kept: must never pass, cached or not. */
const tampered = (token: string) => {
  const [header, payload, signature] = token.split(".")
  const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>
  return [header, Buffer.from(JSON.stringify({ ...claims, kind: "mitra", exp: Number(claims["exp"]) + 3600 })).toString("base64url"), signature].join(".")
}

/** An online, mirrored mitra's token; the spans recorded so far forgotten. */
const onlineMitraToken = (spans: Array<unknown>) =>
  Effect.gen(function*() {
    const mitra = yield* createMitra({ isOnline: true })
    yield* seedMirror
    const token = yield* mitraToken(mitra.id)
    spans.length = 0
    return token
  })

describe("HOT_ROUTES_TRACE_RATIO", () => {
  it.scopedLive("1: every fast request is traced under a server span, its service spans beneath", () =>
    recordingSpans((spans) =>
      Effect.gen(function*() {
        const token = yield* onlineMitraToken(spans)
        expect((yield* call("POST", "/api/mitra/status/heartbeat", { token })).status).toBe(204)
        const server = spans.find((span) => span.name === "http.server POST")
        expect(server?.attributes.get("http.route")).toBe("/api/mitra/status/heartbeat")
        expect(server?.attributes.get("http.response.status_code")).toBe(204)
        const record = spans.find((span) => span.name === "Heartbeat.record")
        expect(record?.parent._tag === "Some" && record.parent.value.spanId).toBe(server?.spanId)

        spans.length = 0
        expect((yield* call("GET", "/api/availability")).status).toBe(200)
        expect(spans.map((span) => span.name)).toEqual(expect.arrayContaining(["http.server GET", "Beacon.current"]))
      }).pipe(Effect.provide(TestApp({ env: { HOT_ROUTES_TRACE_RATIO: "1" } })))))

  it.scopedLive("0 (the default): no span at all", () =>
    recordingSpans((spans) =>
      Effect.gen(function*() {
        const token = yield* onlineMitraToken(spans)
        expect((yield* call("POST", "/api/mitra/status/heartbeat", { token })).status).toBe(204)
        expect((yield* call("GET", "/api/availability")).status).toBe(200)
        expect(spans.filter((span) => !span.name.startsWith("http.client"))).toEqual([])
      }).pipe(Effect.provide(TestApp()))))
})
