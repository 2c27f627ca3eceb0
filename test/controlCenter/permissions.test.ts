/**
 * Every `/internal` route refuses a caller without a token (401) and a control-center user whose
 * role lacks the route's permission (403), changing nothing; the permission alone lets it through.
 * The route list is checked against the API definition, so a new `/internal` route cannot slip by.
 */
import { HttpApi } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { AccessTokens } from "../../src/auth/AccessTokens.js"
import { allPermissions } from "../../src/auth/PermissionCatalog.js"
import { Api } from "../../src/Api.js"
import { insertSession } from "../support/availability.js"
import { createCcUser, createMitra, fixturePassword } from "../support/fixtures.js"
import { call } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

type Method = "GET" | "POST" | "PUT" | "PATCH"

interface Route {
  readonly method: Method
  /** As in the API definition (`:id` for path parameters). */
  readonly path: string
  readonly permission: readonly [resource: string, action: string]
  /**
   * A request that would succeed with the permission. `roleId` is a role holding only
   * `control_center_users:create`, so the route's permission alone may grant it.
   */
  readonly request: (ids: { readonly mitraId: string; readonly userId: string; readonly roleId: string; readonly sessionId: string }) => {
    readonly url: string
    readonly json?: unknown
  }
}

const routes: ReadonlyArray<Route> = [
  { method: "GET", path: "/internal/mitras", permission: ["mitra", "read"], request: () => ({ url: "/internal/mitras" }) },
  {
    method: "POST",
    path: "/internal/mitras",
    permission: ["mitra", "create"],
    request: () => ({
      url: "/internal/mitras",
      json: { displayName: "New", phone: `+6281${Math.floor(Math.random() * 1e9)}`, password: fixturePassword }
    })
  },
  {
    method: "GET",
    path: "/internal/mitras/:id",
    permission: ["mitra", "read"],
    request: ({ mitraId }) => ({ url: `/internal/mitras/${mitraId}` })
  },
  {
    method: "PATCH",
    path: "/internal/mitras/:id",
    permission: ["mitra", "update"],
    request: ({ mitraId }) => ({ url: `/internal/mitras/${mitraId}`, json: { isActive: false, displayName: "Changed" } })
  },
  {
    method: "GET",
    path: "/internal/mitras/:id/status-events",
    permission: ["mitra", "read"],
    request: ({ mitraId }) => ({ url: `/internal/mitras/${mitraId}/status-events` })
  },
  {
    method: "GET",
    path: "/internal/chat-sessions",
    permission: ["sessions", "read"],
    request: () => ({ url: "/internal/chat-sessions" })
  },
  {
    method: "GET",
    path: "/internal/chat-sessions/:id",
    permission: ["sessions", "read"],
    request: ({ sessionId }) => ({ url: `/internal/chat-sessions/${sessionId}` })
  },
  { method: "GET", path: "/internal/config", permission: ["config", "read"], request: () => ({ url: "/internal/config" }) },
  {
    method: "PUT",
    path: "/internal/config/:key",
    permission: ["config", "update"],
    request: () => ({ url: "/internal/config/max_extensions", json: { value: 7 } })
  },
  { method: "GET", path: "/internal/roles", permission: ["roles", "read"], request: () => ({ url: "/internal/roles" }) },
  {
    method: "POST",
    path: "/internal/roles",
    permission: ["roles", "create"],
    // Only permissions the caller holds itself can go into a new role (see grants.test.ts).
    request: () => ({ url: "/internal/roles", json: { name: `role-${Math.random()}`, permissions: { roles: ["create"] } } })
  },
  {
    method: "GET",
    path: "/internal/cc-users",
    permission: ["control_center_users", "read"],
    request: () => ({ url: "/internal/cc-users" })
  },
  {
    method: "POST",
    path: "/internal/cc-users",
    permission: ["control_center_users", "create"],
    request: ({ roleId }) => ({
      url: "/internal/cc-users",
      json: { email: `new-${Math.random().toString(36).slice(2)}@example.com`, displayName: "New", password: fixturePassword, roleId }
    })
  },
  {
    method: "PATCH",
    path: "/internal/cc-users/:id",
    permission: ["control_center_users", "update"],
    request: ({ userId }) => ({ url: `/internal/cc-users/${userId}`, json: { isActive: false, displayName: "Changed" } })
  }
]

/** Every `/internal` endpoint of the API, as "METHOD path". */
const internalEndpoints = () => {
  const found: Array<{ method: string; path: string; simple: boolean }> = []
  HttpApi.reflect(Api, {
    onGroup: () => undefined,
    onEndpoint: ({ endpoint }) => {
      if (endpoint.path.startsWith("/internal")) {
        found.push({
          method: endpoint.method,
          path: endpoint.path,
          simple: endpoint.method === "GET" && !endpoint.path.includes(":")
        })
      }
    }
  })
  return found
}

const without = (resource: string, action: string) =>
  Object.fromEntries(
    Object.entries(allPermissions)
      .map(([r, actions]) => [r, r === resource ? actions.filter((a) => a !== action) : actions] as const)
      .filter(([, actions]) => actions.length > 0)
  )

/** Everything a refused request could have touched. */
const snapshot = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ state: unknown }>`
    SELECT json_build_object(
      'mitras', (SELECT json_agg(m ORDER BY id) FROM mitras m),
      'roles', (SELECT json_agg(r ORDER BY id) FROM roles r),
      'users', (SELECT json_agg(u ORDER BY id) FROM control_center_users u),
      'config', (SELECT json_agg(c ORDER BY key) FROM app_config c),
      'sessions', (SELECT json_agg(s ORDER BY id) FROM auth_sessions s),
      'events', (SELECT count(*) FROM mitra_status_events)
    ) AS state
  `.pipe(Effect.map(([row]) => row!.state), Effect.orDie))

const tokenFor = (permissions: Record<string, ReadonlyArray<string>>) =>
  Effect.gen(function*() {
    const user = yield* createCcUser({ permissions })
    const tokens = yield* AccessTokens
    return (yield* tokens.issue("cc_user", user.id)).accessToken
  })

const fixtureIds = Effect.gen(function*() {
  const mitra = yield* createMitra()
  // Within any caller's permissions: changing a user needs every permission of its role (lockout.test.ts).
  const user = yield* createCcUser({ permissions: {} })
  const grantable = yield* createCcUser({ permissions: { control_center_users: ["create"] } })
  const sessionId = yield* insertSession({ mitraId: mitra.id, status: "ended" })
  return { mitraId: mitra.id, userId: user.id, roleId: grantable.roleId, sessionId }
})

layer(TestApp(), { excludeTestServices: true })("permissions on /internal", (it) => {
  it.effect("the route list covers every /internal endpoint of the API", () =>
    Effect.sync(() => {
      const listed = new Set(routes.map((r) => `${r.method} ${r.path}`))
      const unlisted = internalEndpoints().filter((e) => !e.simple && !listed.has(`${e.method} ${e.path}`))
      // A new /internal route with a body or path parameters: add it to `routes` above.
      expect(unlisted).toEqual([])
    }))

  it.effect("without a token, every /internal route → 401 JSON", () =>
    Effect.gen(function*() {
      const ids = yield* fixtureIds
      for (const route of routes) {
        const { url, json } = route.request(ids)
        const response = yield* call(route.method, url, json === undefined ? {} : { json })
        expect(response.status, `${route.method} ${url}`).toBe(401)
        expect(response.body).toMatchObject({ _tag: "Unauthorized" })
      }
      for (const endpoint of internalEndpoints().filter((e) => e.simple)) {
        expect((yield* call("GET", endpoint.path)).status, endpoint.path).toBe(401)
      }
    }))

  it.effect("a user holding every permission but the route's own → 403, and nothing changes", () =>
    Effect.gen(function*() {
      const ids = yield* fixtureIds
      const tokens = yield* Effect.forEach(routes, (route) => tokenFor(without(...route.permission)))
      const before = yield* snapshot
      for (const [index, route] of routes.entries()) {
        const { url, json } = route.request(ids)
        const response = yield* call(route.method, url, { token: tokens[index]!, ...(json === undefined ? {} : { json }) })
        expect(response.status, `${route.method} ${url} without ${route.permission.join(":")}`).toBe(403)
        expect(response.body).toEqual({ _tag: "Forbidden", message: `Missing permission ${route.permission.join(":")}` })
      }
      expect(yield* snapshot).toEqual(before)
    }))

  it.effect("a user with no permissions at all → 403 on every /internal route, including ones added by other parts", () =>
    Effect.gen(function*() {
      const ids = yield* fixtureIds
      const token = yield* tokenFor({})
      for (const route of routes) {
        const { url, json } = route.request(ids)
        expect((yield* call(route.method, url, { token, ...(json === undefined ? {} : { json }) })).status, url).toBe(403)
      }
      for (const endpoint of internalEndpoints().filter((e) => e.simple)) {
        expect((yield* call("GET", endpoint.path, { token })).status, endpoint.path).toBe(403)
      }
    }))

  it.effect("the route's permission alone is enough", () =>
    Effect.gen(function*() {
      for (const route of routes) {
        const ids = yield* fixtureIds
        const [resource, action] = route.permission
        const token = yield* tokenFor({ [resource]: [action] })
        const { url, json } = route.request(ids)
        const response = yield* call(route.method, url, { token, ...(json === undefined ? {} : { json }) })
        expect([200, 201], `${route.method} ${url}: ${response.text}`).toContain(response.status)
      }
    }))
})
