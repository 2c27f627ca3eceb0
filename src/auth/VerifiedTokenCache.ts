/**
 * Access tokens already verified, so a token sent again is not verified again: a mitra's app
 * heartbeats with the same token every ~20 s for the token's whole life, and an HS256 check with
 * jose costs ~100 µs of CPU (WebCrypto) where a lookup costs well under one (docs/performance.md).
 *
 * Keyed by the whole token, so a hit means these exact bytes passed the full verification. An
 * entry is kept until the earlier of the token's `exp` and `iat` + TTL, without the verification's
 * clock tolerance: a cached answer is never more lenient than a fresh one. Verifying is pure (no
 * access token is revoked one by one: accounts are checked per request, as before), so caching it
 * changes no answer. Bounded: past `capacity` entries the oldest goes (first in, first out, which
 * is also about the order they expire in); 0 turns the cache off.
 */
interface Entry<A> {
  readonly verified: A
  readonly validUntilMillis: number
}

/** `A`: what the verification said of the token (its kind and subject). */
export interface VerifiedTokenCache<A> {
  readonly get: (token: string, nowMillis: number) => A | undefined
  readonly add: (token: string, verified: A, validUntilMillis: number, nowMillis: number) => void
  readonly size: () => number
}

export const makeVerifiedTokenCache = <A>(capacity: number): VerifiedTokenCache<A> => {
  const entries = new Map<string, Entry<A>>()

  /** Drops expired entries from the old end, then the oldest while full. */
  const makeRoom = (nowMillis: number) => {
    for (const [token, entry] of entries) {
      if (entry.validUntilMillis > nowMillis && entries.size < capacity) break
      entries.delete(token)
    }
  }

  return {
    get: (token, nowMillis) => {
      const entry = entries.get(token)
      if (entry === undefined) return undefined
      if (entry.validUntilMillis > nowMillis) return entry.verified
      entries.delete(token)
      return undefined
    },
    add: (token, verified, validUntilMillis, nowMillis) => {
      if (capacity <= 0 || validUntilMillis <= nowMillis) return
      makeRoom(nowMillis)
      entries.set(token, { verified, validUntilMillis })
    },
    size: () => entries.size
  }
}
