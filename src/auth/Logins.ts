/**
 * Signing in and staying signed in: each kind of caller's credential check, the token pair it
 * earns, refresh and logout. Rate limits come before any lookup or hash, and wrong credentials
 * answer and cost the same whether or not the account exists (docs/auth.md, docs/security.md
 * "Rate limits").
 */
import { Effect, Option } from "effect"
import { CustomersRepo } from "../customers/CustomersRepo.js"
import type { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { MitrasRepo } from "../mitras/MitrasRepo.js"
import { RateLimiter } from "../ratelimit/RateLimiter.js"
import { AccessTokens } from "./AccessTokens.js"
import { ccUserDeactivated, Forbidden, mitraDeactivated, Unauthorized } from "./AuthErrors.js"
import { CcUsersRepo } from "./CcUsersRepo.js"
import { unmatchableHash, verifyPassword } from "./Passwords.js"
import type { SubjectKind } from "./Principals.js"
import { RefreshSessions } from "./RefreshSessions.js"

export interface TokenPair {
  readonly accessToken: string
  readonly refreshToken: string
  /** Seconds until the access token expires. */
  readonly expiresIn: number
}

const invalidCredentials = new Unauthorized({ message: "Invalid credentials" })

interface Account {
  readonly id: string
  readonly passwordHash: string
  readonly isActive: boolean
}

export class Logins extends Effect.Service<Logins>()("mitra/Logins", {
  effect: Effect.gen(function*() {
    const ccUsers = yield* CcUsersRepo
    const mitras = yield* MitrasRepo
    const customers = yield* CustomersRepo
    const accessTokens = yield* AccessTokens
    const sessions = yield* RefreshSessions
    const limiter = yield* RateLimiter

    const issuePair = (kind: SubjectKind, subjectId: string) =>
      Effect.gen(function*() {
        const refreshToken = yield* sessions.create(kind, subjectId)
        const { accessToken, expiresIn } = yield* accessTokens.issue(kind, subjectId)
        return { accessToken, refreshToken, expiresIn } satisfies TokenPair
      })

    /** The same work and the same answer for an unknown account as for a wrong password. */
    const checkPassword = (found: Option.Option<Account>, password: string, deactivated: Forbidden) =>
      Effect.gen(function*() {
        const account = Option.getOrUndefined(found)
        const matches = yield* verifyPassword(password, account?.passwordHash ?? unmatchableHash)
        if (account === undefined || !matches) return yield* invalidCredentials
        if (!account.isActive) return yield* deactivated
        return account
      })

    /**
     * Runs `lookUpAndCheck` under the login limits: the address's attempts, then the account's
     * failures (`accountKey` names the account whether or not it exists, so a limited unknown
     * account looks like a limited known one).
     */
    const throttled = (
      accountKey: string,
      clientAddress: string,
      lookUpAndCheck: Effect.Effect<Account, Unauthorized | Forbidden | DatabaseUnavailable>
    ) =>
      Effect.gen(function*() {
        yield* limiter.consume("login_address", clientAddress)
        const admission = yield* limiter.consume("login_account", accountKey)
        return yield* lookUpAndCheck.pipe(
          Effect.tap(() => admission.clear),
          Effect.tapError((error) =>
            error._tag === "Forbidden" ? admission.clear : error._tag === "DatabaseUnavailable" ? admission.takeBack : Effect.void
          )
        )
      })

    const controlCenterUser = Effect.fn("Logins.controlCenterUser")(function*(email: string, password: string, clientAddress: string) {
      const user = yield* throttled(
        `cc:${email.toLowerCase()}`,
        clientAddress,
        Effect.flatMap(ccUsers.credentialsByEmail(email), (account) => checkPassword(account, password, ccUserDeactivated))
      )
      yield* Effect.annotateCurrentSpan("cc_user.id", user.id)
      return yield* issuePair("cc_user", user.id)
    })

    const mitra = Effect.fn("Logins.mitra")(function*(phone: string, password: string, clientAddress: string) {
      const mitra = yield* throttled(
        `mitra:${phone}`,
        clientAddress,
        Effect.flatMap(mitras.credentialsByPhone(phone), (account) => checkPassword(account, password, mitraDeactivated))
      )
      yield* Effect.annotateCurrentSpan("mitra.id", mitra.id)
      return yield* issuePair("mitra", mitra.id)
    })

    /** A new anonymous customer and its first session, within the per-address limit. */
    const anonymousCustomer = Effect.fn("Logins.anonymousCustomer")(function*(
      displayName: Option.Option<string>,
      clientAddress: string
    ) {
      yield* limiter.consume("anonymous_customer_address", clientAddress)
      const customerId = yield* customers.insertAnonymous(displayName)
      yield* Effect.annotateCurrentSpan("customer.id", customerId)
      return { customerId, ...(yield* issuePair("customer", customerId)) }
    })

    /**
     * May this subject still hold a session? Deactivation revokes sessions already; this is the
     * backstop. Runs inside the rotation's transaction (`RefreshSessions.rotate`).
     */
    const maySignIn = (kind: SubjectKind, subjectId: string): Effect.Effect<boolean, DatabaseUnavailable> =>
      kind === "mitra"
        ? Effect.map(mitras.activeFlag(subjectId), Option.exists((mitra) => mitra.isActive))
        : kind === "cc_user"
        ? Effect.map(ccUsers.activeFlag(subjectId), Option.exists((user) => user.isActive))
        : customers.exists(subjectId)

    /**
     * Rotates the refresh token and issues a fresh access token for the same subject. The subject
     * check and the rotation commit together: a failure of either leaves the presented token usable.
     */
    const refresh = Effect.fn("Logins.refresh")(function*(refreshToken: string) {
      const session = yield* sessions.rotate(refreshToken, maySignIn)
      const { accessToken, expiresIn } = yield* accessTokens.issue(session.kind, session.subjectId)
      return { accessToken, refreshToken: session.refreshToken, expiresIn } satisfies TokenPair
    })

    /** Ends the token's session. Always succeeds: logging out twice, or with a stale token, is fine. */
    const logout = Effect.fn("Logins.logout")(function*(refreshToken: string) {
      yield* sessions.revoke(refreshToken, "logout")
    })

    return { controlCenterUser, mitra, anonymousCustomer, refresh, logout }
  }),
  dependencies: [
    RefreshSessions.Default,
    RateLimiter.Default,
    AccessTokens.Default,
    CcUsersRepo.Default,
    MitrasRepo.Default,
    CustomersRepo.Default
  ]
}) {}
