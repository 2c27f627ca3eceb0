/**
 * Access tokens: short-lived HS256 JWTs carrying the subject's kind and id. Verification refuses
 * anything but our key and algorithm, and any token that would outlive the TTL whatever its
 * claims; every refusal is the same `Unauthorized` (docs/security.md, "Tokens").
 */
import { ConfigError, Duration, Effect, Option, Redacted } from "effect"
import { jwtVerify, SignJWT } from "jose"
import { randomBytes, webcrypto } from "node:crypto"
import { AppConfig, isEmbeddedDatabase } from "../config/AppConfig.js"
import { canonicalUuidOf } from "../domain/Uuid.js"
import { Unauthorized } from "./AuthErrors.js"
import { SubjectKind } from "./Principals.js"
import { makeVerifiedTokenCache } from "./VerifiedTokenCache.js"

export interface VerifiedToken {
  readonly kind: SubjectKind
  readonly subjectId: string
}

export interface IssuedAccessToken {
  readonly accessToken: string
  readonly expiresIn: number
}

/** A plain lookup, not `Schema.is`: every authenticated request, the heartbeat above all, runs it. */
const subjectKinds: ReadonlyArray<unknown> = SubjectKind.literals
const isSubjectKind = (value: unknown): value is SubjectKind => subjectKinds.includes(value)
const issuer = "mitra-availability"

/**
 * Clock skew tolerated between the instance that signed a token and the one verifying it (for
 * `exp`, and for an `iat` slightly in the future). Small: instances are expected to run NTP.
 */
const clockToleranceSeconds = 5

/** HS256 needs a key at least as long as its output: 32 bytes. */
const minimumSecretLength = 32

export interface AccessTokensShape {
  readonly issue: (kind: SubjectKind, subjectId: string) => Effect.Effect<IssuedAccessToken>
  readonly verify: (token: string) => Effect.Effect<VerifiedToken, Unauthorized>
}

/** Signs with `JWT_SECRET`; embedded mode without one generates a per-process key (tokens die with the process). */
export class AccessTokens extends Effect.Service<AccessTokens>()("mitra/AccessTokens", {
  effect: Effect.gen(function*() {
    const config = yield* AppConfig
    const secret = yield* Option.match(config.auth.jwtSecret, {
      onSome: (secret) =>
        Redacted.value(secret).length >= minimumSecretLength
          ? Effect.succeed(Redacted.value(secret))
          : Effect.fail(ConfigError.InvalidData(["JWT_SECRET"], `Expected at least ${minimumSecretLength} characters`)),
      onNone: () =>
        isEmbeddedDatabase(config)
          ? Effect.logWarning("JWT_SECRET not set: embedded mode signs tokens with a random per-process key").pipe(
            Effect.as(randomBytes(48).toString("base64url"))
          )
          : Effect.fail(ConfigError.MissingData(["JWT_SECRET"], "Expected JWT_SECRET to be set when DATABASE_URL is set"))
    })
    return yield* makeAccessTokens(new TextEncoder().encode(secret), config.auth.accessTokenTtl, config.auth.verifiedTokenCacheSize)
  })
}) {}

/**
 * The secret is imported once as a WebCrypto key: verifying with raw bytes re-imports the key on
 * every call, which measured here doubles the cost of a verify (139 µs → 61 µs of CPU), and every
 * mitra route — the heartbeat above all — verifies a token.
 */
export const makeAccessTokens = (secret: Uint8Array, ttl: Duration.Duration, verifiedCacheSize = 0) =>
  Effect.map(
    Effect.promise(() =>
      webcrypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"])
    ),
    (key) => accessTokensWithKey(key, ttl, verifiedCacheSize)
  )

const accessTokensWithKey = (key: webcrypto.CryptoKey, ttl: Duration.Duration, verifiedCacheSize: number): AccessTokensShape => {
  const expiresIn = Math.floor(Duration.toSeconds(ttl))
  const unauthorized = new Unauthorized({ message: "Missing, invalid or expired access token" })
  // Date.now, not Effect's Clock: jose judges `exp` and `iat` by it, and the cache must agree.
  const verified = makeVerifiedTokenCache<VerifiedToken>(verifiedCacheSize)

  const issue = Effect.fn("AccessTokens.issue")(function*(kind: SubjectKind, subjectId: string) {
    const accessToken = yield* Effect.promise(() =>
      new SignJWT({ kind })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setIssuer(issuer)
        .setSubject(subjectId)
        .setIssuedAt()
        .setExpirationTime(`${expiresIn}s`)
        .sign(key)
    )
    return { accessToken, expiresIn }
  })

  const verifyWithJose = (token: string) =>
    Effect.tryPromise({
      try: () =>
        jwtVerify(token, key, {
          algorithms: ["HS256"],
          issuer,
          requiredClaims: ["exp", "iat", "sub"],
          // Also refuses an `iat` in the future (beyond the tolerance), and caps a token's age at
          // the TTL even if its `exp` says later.
          maxTokenAge: expiresIn,
          clockTolerance: clockToleranceSeconds
        }),
      // Every rejection (bad signature, alg, expiry, shape) is the same answer to the caller.
      catch: () => unauthorized
    }).pipe(
      Effect.flatMap(({ payload }) => {
        const kind = payload["kind"]
        const subjectId = typeof payload.sub === "string" ? canonicalUuidOf(payload.sub) : undefined
        if (!isSubjectKind(kind) || subjectId === undefined) return Effect.fail(unauthorized)
        const result: VerifiedToken = { kind, subjectId }
        // Both are numbers: `requiredClaims` and jose's own checks refused the token otherwise.
        const validUntilSeconds = Math.min(payload.exp!, payload.iat! + expiresIn)
        verified.add(token, result, validUntilSeconds * 1000, Date.now())
        return Effect.succeed(result)
      })
    )

  const verify = (token: string) => {
    const known = verified.get(token, Date.now())
    return known === undefined ? verifyWithJose(token) : Effect.succeed(known)
  }

  return { issue, verify }
}
