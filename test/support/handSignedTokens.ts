/**
 * Access tokens signed by hand with the test app's JWT secret and issuer, with exactly the
 * `iat`/`exp` a test wants (or none), and the claim times every route must refuse or accept.
 */
import { Effect } from "effect"
import { SignJWT } from "jose"
import { testEnvironment } from "./TestConfig.js"

const key = new TextEncoder().encode(testEnvironment.JWT_SECRET)

/** The default ACCESS_TOKEN_TTL_SECONDS. */
const ttl = 900

interface Claims {
  readonly kind: string
  readonly sub: string
  /** Seconds since the epoch; null leaves the claim out. */
  readonly iat: number | null
  readonly exp: number | null
}

/** A token signed with the app's own key and issuer, with exactly the `iat`/`exp` given. */
export const signWith = ({ exp, iat, kind, sub }: Claims) =>
  Effect.promise(() => {
    let jwt = new SignJWT({ kind }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuer("mitra-availability").setSubject(sub)
    if (iat !== null) jwt = jwt.setIssuedAt(iat)
    if (exp !== null) jwt = jwt.setExpirationTime(exp)
    return jwt.sign(key)
  })

/** `iat`/`exp` pairs every route must refuse (401), relative to now. */
export const refusedTimes = (now: number) => ({
  "no exp": { iat: now, exp: null },
  "no exp, no iat": { iat: null, exp: null },
  "no iat": { iat: null, exp: now + 600 },
  "iat an hour ahead": { iat: now + 3600, exp: now + 3600 + 600 },
  "iat an hour ahead, no exp": { iat: now + 3600, exp: null },
  "exp a year ahead, issued longer ago than the TTL": { iat: now - ttl - 60, exp: now + 365 * 86400 },
  "expired": { iat: now - 1200, exp: now - 600 }
})

/** Pairs every route must accept: a normal token, and an `iat` within the clock tolerance. */
export const acceptedTimes = (now: number) => ({
  "normal": { iat: now, exp: now + ttl },
  "iat 2 s ahead (clock skew)": { iat: now + 2, exp: now + ttl }
})
