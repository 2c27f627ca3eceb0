/**
 * The bearer-token middleware of each kind of caller, on a probe API that uses the real
 * middleware layers against a real Postgres: every forged, expired, malformed or misdirected token
 * is the same 401 JSON; a deactivated account is 403 where the database is read.
 */
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect, Layer, Schema } from "effect"
import { SignJWT } from "jose"
import { randomUUID } from "node:crypto"
import { AccessTokens } from "../../src/auth/AccessTokens.js"
import { AuthenticationLive } from "../../src/auth/AuthenticationLive.js"
import {
  CcUserAuthentication,
  CustomerAuthentication,
  MitraAuthentication,
  MitraTokenAuthentication
} from "../../src/auth/Middleware.js"
import type { SubjectKind } from "../../src/auth/Principals.js"
import { CurrentCcUser, CurrentCustomer, CurrentMitra, MitraTokenSubject } from "../../src/auth/Principals.js"
import { JsonErrorResponsesLive } from "../../src/http/JsonErrorResponses.js"
import { createCcUser, createCustomer, createMitra } from "../support/fixtures.js"
import { acceptedTimes, refusedTimes, signWith } from "../support/handSignedTokens.js"
import { get } from "../support/http.js"
import { TestConfigLive, testEnvironment } from "../support/TestConfig.js"
import { TestDatabaseLive } from "../support/TestDatabase.js"

const Who = Schema.Struct({ id: Schema.String })

class ProbeApi extends HttpApi.make("probe").add(
  HttpApiGroup.make("probe")
    .add(HttpApiEndpoint.get("mitra", "/mitra").addSuccess(Who).middleware(MitraAuthentication))
    .add(HttpApiEndpoint.get("mitraToken", "/mitra-token").addSuccess(Who).middleware(MitraTokenAuthentication))
    .add(HttpApiEndpoint.get("customer", "/customer").addSuccess(Who).middleware(CustomerAuthentication))
    .add(HttpApiEndpoint.get("cc", "/cc").addSuccess(Who).middleware(CcUserAuthentication))
) {}

const ProbeLive = HttpApiBuilder.group(ProbeApi, "probe", (handlers) =>
  handlers
    .handle("mitra", () => Effect.map(CurrentMitra, ({ id }) => ({ id })))
    .handle("mitraToken", () => Effect.map(MitraTokenSubject, ({ id }) => ({ id })))
    .handle("customer", () => Effect.map(CurrentCustomer, ({ id }) => ({ id })))
    .handle("cc", () => Effect.map(CurrentCcUser, ({ id }) => ({ id }))))

const ProbeServer = HttpApiBuilder.serve().pipe(
  Layer.provide(JsonErrorResponsesLive),
  Layer.provide(HttpApiBuilder.api(ProbeApi).pipe(Layer.provide(ProbeLive))),
  Layer.provide(AuthenticationLive),
  Layer.provideMerge(AccessTokens.Default),
  Layer.provideMerge(NodeHttpServer.layerTest),
  Layer.provideMerge(Layer.merge(TestDatabaseLive, TestConfigLive())),
  Layer.orDie
)

const key = new TextEncoder().encode(testEnvironment.JWT_SECRET)
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

const signed = (claims: { kind: string; sub: string; exp?: number; iss?: string }, signingKey = key) =>
  Effect.promise(() =>
    new SignJWT({ kind: claims.kind })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(claims.iss ?? "mitra-availability")
      .setSubject(claims.sub)
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? "15m")
      .sign(signingKey)
  )

const issue = (kind: SubjectKind, id: string) =>
  Effect.flatMap(AccessTokens, (tokens) => tokens.issue(kind, id)).pipe(Effect.map((t) => t.accessToken))

const expectUnauthorized = (path: string, headers: Record<string, string>) =>
  Effect.gen(function*() {
    const response = yield* get(path, { headers })
    expect(response.status, `${path} with ${JSON.stringify(headers)}`).toBe(401)
    expect(response.headers["content-type"]).toContain("application/json")
    expect(response.body).toMatchObject({ _tag: "Unauthorized" })
  })

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

layer(ProbeServer, { excludeTestServices: true })("authentication middleware", (it) => {
  it.effect("a valid token of the right kind reaches the handler with its principal", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra()
      const customer = yield* createCustomer()
      const user = yield* createCcUser()
      for (const [path, kind, id] of [
        ["/mitra", "mitra", mitra.id],
        ["/mitra-token", "mitra", mitra.id],
        ["/customer", "customer", customer.id],
        ["/cc", "cc_user", user.id]
      ] as const) {
        const response = yield* get(path, { token: yield* issue(kind, id) })
        expect(response, path).toMatchObject({ status: 200, body: { id } })
      }
    }))

  it.effect("no token, another scheme, or a malformed token → 401", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra()
      const valid = yield* issue("mitra", mitra.id)
      for (const path of ["/mitra", "/mitra-token", "/customer", "/cc"]) {
        yield* expectUnauthorized(path, {})
        for (
          const authorization of [
            "Bearer",
            "Bearer ",
            "Bearer not-a-jwt",
            "Bearer a.b.c",
            `Bearer ${valid.split(".").slice(0, 2).join(".")}`, // signature missing
            `Basic ${Buffer.from("user:pass").toString("base64")}`,
            valid // no scheme
          ]
        ) yield* expectUnauthorized(path, { authorization })
      }
    }))

  it.effect("an expired token → 401", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra()
      const expired = yield* signed({ kind: "mitra", sub: mitra.id, exp: Math.floor(Date.now() / 1000) - 60 })
      yield* expectUnauthorized("/mitra", bearer(expired))
      yield* expectUnauthorized("/mitra-token", bearer(expired))
    }))

  it.effect("every kind: a token without exp or iat, issued in the future, or older than the TTL → 401; a normal one → 200", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra()
      const customer = yield* createCustomer()
      const user = yield* createCcUser()
      const now = Math.floor(Date.now() / 1000)
      for (const [path, kind, sub] of [
        ["/mitra", "mitra", mitra.id],
        ["/mitra-token", "mitra", mitra.id],
        ["/customer", "customer", customer.id],
        ["/cc", "cc_user", user.id]
      ] as const) {
        for (const times of Object.values(refusedTimes(now))) {
          yield* expectUnauthorized(path, bearer(yield* signWith({ kind, sub, ...times })))
        }
        for (const times of Object.values(acceptedTimes(now))) {
          expect(yield* get(path, { token: yield* signWith({ kind, sub, ...times }) }), path).toMatchObject({ status: 200, body: { id: sub } })
        }
      }
    }))

  it.effect("a token signed with another key → 401", () =>
    Effect.gen(function*() {
      const user = yield* createCcUser()
      const forged = yield* signed({ kind: "cc_user", sub: user.id }, new TextEncoder().encode("x".repeat(64)))
      yield* expectUnauthorized("/cc", bearer(forged))
    }))

  it.effect("an unsigned token (alg: none) → 401", () =>
    Effect.gen(function*() {
      const user = yield* createCcUser()
      const now = Math.floor(Date.now() / 1000)
      const payload = { kind: "cc_user", sub: user.id, iss: "mitra-availability", iat: now, exp: now + 600 }
      for (const alg of ["none", "None", "NONE"]) {
        yield* expectUnauthorized("/cc", bearer(`${base64url({ alg, typ: "JWT" })}.${base64url(payload)}.`))
      }
    }))

  it.effect("a tampered payload (subject or kind changed, signature kept) → 401", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra()
      const user = yield* createCcUser()
      const [header, payload, signature] = (yield* issue("mitra", mitra.id)).split(".")
      const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>
      const otherSubject = base64url({ ...claims, sub: randomUUID() })
      yield* expectUnauthorized("/mitra", bearer(`${header}.${otherSubject}.${signature}`))
      const promoted = base64url({ ...claims, kind: "cc_user", sub: user.id })
      yield* expectUnauthorized("/cc", bearer(`${header}.${promoted}.${signature}`))
    }))

  it.effect("a token of another kind, issuer, or for an account that does not exist → 401", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra()
      const customer = yield* createCustomer()
      const mitraToken = yield* issue("mitra", mitra.id)
      const customerToken = yield* issue("customer", customer.id)
      yield* expectUnauthorized("/cc", bearer(mitraToken))
      yield* expectUnauthorized("/customer", bearer(mitraToken))
      yield* expectUnauthorized("/mitra", bearer(customerToken))
      yield* expectUnauthorized("/mitra-token", bearer(customerToken))
      yield* expectUnauthorized("/mitra", bearer(yield* signed({ kind: "mitra", sub: mitra.id, iss: "someone-else" })))
      yield* expectUnauthorized("/mitra", bearer(yield* signed({ kind: "robot", sub: mitra.id })))
      yield* expectUnauthorized("/mitra", bearer(yield* signed({ kind: "mitra", sub: "not-a-uuid" })))
      yield* expectUnauthorized("/mitra", bearer(yield* issue("mitra", randomUUID())))
      yield* expectUnauthorized("/customer", bearer(yield* issue("customer", randomUUID())))
      yield* expectUnauthorized("/cc", bearer(yield* issue("cc_user", randomUUID())))
    }))

  it.effect("a deactivated mitra or control-center user → 403 where the database is read; the heartbeat guard passes it on", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const mitra = yield* createMitra()
      const user = yield* createCcUser()
      const mitraToken = yield* issue("mitra", mitra.id)
      const ccToken = yield* issue("cc_user", user.id)
      yield* sql`UPDATE mitras SET is_active = false WHERE id = ${mitra.id}`
      yield* sql`UPDATE control_center_users SET is_active = false WHERE id = ${user.id}`

      expect(yield* get("/mitra", { token: mitraToken })).toMatchObject({ status: 403, body: { _tag: "Forbidden" } })
      expect(yield* get("/cc", { token: ccToken })).toMatchObject({ status: 403, body: { _tag: "Forbidden" } })
      // Token-only by design: the heartbeat route's deactivation check is the availability mirror's guard.
      expect(yield* get("/mitra-token", { token: mitraToken })).toMatchObject({ status: 200, body: { id: mitra.id } })
    }))
})
