/**
 * The live layers of the authentication middleware (`Middleware.ts`): each verifies the access
 * token, checks its kind, and — except for the heartbeat's token-only check — reads the subject
 * from Postgres on every request, so a deactivation or a role change applies to tokens already
 * issued. Each layer brings its own repositories and `AccessTokens`; only `SqlClient` and
 * `AppConfig` come from outside.
 */
import { Effect, Layer, Option, Redacted } from "effect"
import { CustomersRepo } from "../customers/CustomersRepo.js"
import { MitrasRepo } from "../mitras/MitrasRepo.js"
import { AccessTokens } from "./AccessTokens.js"
import { ccUserDeactivated, mitraDeactivated, Unauthorized } from "./AuthErrors.js"
import { CcUsersRepo } from "./CcUsersRepo.js"
import { CcUserAuthentication, CustomerAuthentication, MitraAuthentication, MitraTokenAuthentication } from "./Middleware.js"
import type { SubjectKind } from "./Principals.js"

const wrongKind = new Unauthorized({ message: "Missing, invalid or expired access token" })
const unknownSubject = new Unauthorized({ message: "The account of this token no longer exists" })

const verifiedSubject = (tokens: AccessTokens, token: Redacted.Redacted<string>, kind: SubjectKind) =>
  tokens.verify(Redacted.value(token)).pipe(
    Effect.filterOrFail((verified) => verified.kind === kind, () => wrongKind),
    Effect.map((verified) => verified.subjectId)
  )

export const MitraAuthenticationLive = Layer.effect(
  MitraAuthentication,
  Effect.gen(function*() {
    const tokens = yield* AccessTokens
    const mitras = yield* MitrasRepo
    return MitraAuthentication.of({
      bearer: (token) =>
        Effect.gen(function*() {
          const id = yield* verifiedSubject(tokens, token, "mitra")
          const mitra = yield* mitras.activeFlag(id)
          if (Option.isNone(mitra)) return yield* unknownSubject
          if (!mitra.value.isActive) return yield* mitraDeactivated
          return { id }
        }).pipe(Effect.withSpan("MitraAuthentication"))
    })
  })
).pipe(Layer.provide([AccessTokens.Default, MitrasRepo.Default]))

/** The heartbeat's check: a valid mitra token, nothing read from the database (the fast route uses it too). */
export const mitraOfToken = (tokens: AccessTokens, token: Redacted.Redacted<string>) =>
  Effect.map(verifiedSubject(tokens, token, "mitra"), (id) => ({ id }))

export const MitraTokenAuthenticationLive = Layer.effect(
  MitraTokenAuthentication,
  Effect.map(AccessTokens, (tokens) => MitraTokenAuthentication.of({ bearer: (token) => mitraOfToken(tokens, token) }))
).pipe(Layer.provide(AccessTokens.Default))

export const CustomerAuthenticationLive = Layer.effect(
  CustomerAuthentication,
  Effect.gen(function*() {
    const tokens = yield* AccessTokens
    const customers = yield* CustomersRepo
    return CustomerAuthentication.of({
      bearer: (token) =>
        Effect.gen(function*() {
          const id = yield* verifiedSubject(tokens, token, "customer")
          if (!(yield* customers.exists(id))) return yield* unknownSubject
          return { id }
        }).pipe(Effect.withSpan("CustomerAuthentication"))
    })
  })
).pipe(Layer.provide([AccessTokens.Default, CustomersRepo.Default]))

export const CcUserAuthenticationLive = Layer.effect(
  CcUserAuthentication,
  Effect.gen(function*() {
    const tokens = yield* AccessTokens
    const users = yield* CcUsersRepo
    return CcUserAuthentication.of({
      bearer: (token) =>
        Effect.gen(function*() {
          const id = yield* verifiedSubject(tokens, token, "cc_user")
          const user = yield* users.principal(id)
          if (Option.isNone(user)) return yield* unknownSubject
          if (!user.value.isActive) return yield* ccUserDeactivated
          return { id, email: user.value.email, permissions: user.value.permissions }
        }).pipe(Effect.withSpan("CcUserAuthentication"))
    })
  })
).pipe(Layer.provide([AccessTokens.Default, CcUsersRepo.Default]))

/** All four (the authentication tests' probe API uses them together). */
export const AuthenticationLive = Layer.mergeAll(
  MitraAuthenticationLive,
  MitraTokenAuthenticationLive,
  CustomerAuthenticationLive,
  CcUserAuthenticationLive
)
