/**
 * Bearer-token authentication for each kind of caller, as `HttpApiMiddleware` tags that a group
 * or endpoint declares with `.middleware(...)`. Each verifies the access token, checks its kind,
 * and provides the principal to the handlers.
 */
import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Redacted, Schema } from "effect"
import { DatabaseUnavailable, orDatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { AccessTokens } from "./AccessTokens.js"
import { ccUserDeactivated, Forbidden, mitraDeactivated, Unauthorized } from "./AuthErrors.js"
import { CurrentCcUser, CurrentCustomer, CurrentMitra, MitraTokenSubject, type Permissions } from "./Principals.js"
import type { SubjectKind } from "./Principals.js"

const security = { bearer: HttpApiSecurity.bearer }

/** A mitra route: token of an existing, active mitra (read from Postgres on each request). */
export class MitraAuthentication extends HttpApiMiddleware.Tag<MitraAuthentication>()("MitraAuthentication", {
  failure: Schema.Union(Unauthorized, Forbidden, DatabaseUnavailable),
  provides: CurrentMitra,
  security
}) {}

/** The heartbeat route: a mitra token, no database read; deactivation is checked by the mirror's guard. */
export class MitraTokenAuthentication extends HttpApiMiddleware.Tag<MitraTokenAuthentication>()("MitraTokenAuthentication", {
  failure: Unauthorized,
  provides: MitraTokenSubject,
  security
}) {}

export class CustomerAuthentication extends HttpApiMiddleware.Tag<CustomerAuthentication>()("CustomerAuthentication", {
  failure: Schema.Union(Unauthorized, DatabaseUnavailable),
  provides: CurrentCustomer,
  security
}) {}

/** A control-center route: an active user; the route itself checks its permission (`requirePermission`). */
export class CcUserAuthentication extends HttpApiMiddleware.Tag<CcUserAuthentication>()("CcUserAuthentication", {
  failure: Schema.Union(Unauthorized, Forbidden, DatabaseUnavailable),
  provides: CurrentCcUser,
  security
}) {}

const wrongKind = new Unauthorized({ message: "Missing, invalid or expired access token" })
const unknownSubject = new Unauthorized({ message: "The account of this token no longer exists" })

const verifiedSubject = (tokens: AccessTokens["Type"], token: Redacted.Redacted<string>, kind: SubjectKind) =>
  tokens.verify(Redacted.value(token)).pipe(
    Effect.filterOrFail((verified) => verified.kind === kind, () => wrongKind),
    Effect.map((verified) => verified.subjectId)
  )

export const MitraAuthenticationLive = Layer.effect(
  MitraAuthentication,
  Effect.gen(function*() {
    const tokens = yield* AccessTokens
    const sql = yield* SqlClient.SqlClient
    return MitraAuthentication.of({
      bearer: (token) =>
        Effect.gen(function*() {
          const id = yield* verifiedSubject(tokens, token, "mitra")
          const [mitra] = yield* orDatabaseUnavailable(sql<{ isActive: boolean }>`SELECT is_active FROM mitras WHERE id = ${id}`)
          if (mitra === undefined) return yield* unknownSubject
          if (!mitra.isActive) return yield* mitraDeactivated
          return { id }
        }).pipe(Effect.withSpan("MitraAuthentication"))
    })
  })
)

export const MitraTokenAuthenticationLive = Layer.effect(
  MitraTokenAuthentication,
  Effect.map(AccessTokens, (tokens) =>
    MitraTokenAuthentication.of({
      bearer: (token) => Effect.map(verifiedSubject(tokens, token, "mitra"), (id) => ({ id }))
    }))
)

export const CustomerAuthenticationLive = Layer.effect(
  CustomerAuthentication,
  Effect.gen(function*() {
    const tokens = yield* AccessTokens
    const sql = yield* SqlClient.SqlClient
    return CustomerAuthentication.of({
      bearer: (token) =>
        Effect.gen(function*() {
          const id = yield* verifiedSubject(tokens, token, "customer")
          const rows = yield* orDatabaseUnavailable(sql`SELECT 1 FROM customers WHERE id = ${id}`)
          if (rows.length === 0) return yield* unknownSubject
          return { id }
        }).pipe(Effect.withSpan("CustomerAuthentication"))
    })
  })
)

export const CcUserAuthenticationLive = Layer.effect(
  CcUserAuthentication,
  Effect.gen(function*() {
    const tokens = yield* AccessTokens
    const sql = yield* SqlClient.SqlClient
    return CcUserAuthentication.of({
      bearer: (token) =>
        Effect.gen(function*() {
          const id = yield* verifiedSubject(tokens, token, "cc_user")
          const [user] = yield* orDatabaseUnavailable(sql<{ email: string; isActive: boolean; permissions: Permissions }>`
            SELECT u.email, u.is_active, r.permissions
            FROM control_center_users u JOIN roles r ON r.id = u.role_id
            WHERE u.id = ${id}
          `)
          if (user === undefined) return yield* unknownSubject
          if (!user.isActive) return yield* ccUserDeactivated
          return { id, email: user.email, permissions: user.permissions }
        }).pipe(Effect.withSpan("CcUserAuthentication"))
    })
  })
)

/** All four, for the API layer. */
export const AuthenticationLive = Layer.mergeAll(
  MitraAuthenticationLive,
  MitraTokenAuthenticationLive,
  CustomerAuthenticationLive,
  CcUserAuthenticationLive
)

/** Fails with 403 unless the current control-center user's role grants `action` on `resource`. */
export const requirePermission = (resource: string, action: string) =>
  Effect.flatMap(CurrentCcUser, (user) =>
    user.permissions[resource]?.includes(action) === true
      ? Effect.void
      : Effect.fail(new Forbidden({ message: `Missing permission ${resource}:${action}` })))
