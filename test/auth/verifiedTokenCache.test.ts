/**
 * Verified access tokens remembered (`src/auth/VerifiedTokenCache.ts`): never past their validity,
 * never more than the capacity, never for another token's bytes; and through `AccessTokens`, a
 * cached token answers as a fresh verification would.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit } from "effect"
import { makeAccessTokens } from "../../src/auth/AccessTokens.js"
import { makeVerifiedTokenCache } from "../../src/auth/VerifiedTokenCache.js"

const mitra = (n: number) => ({ kind: "mitra" as const, subjectId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}` })

describe("VerifiedTokenCache", () => {
  it("answers a token it was given until its validity ends, then forgets it", () => {
    const cache = makeVerifiedTokenCache(10)
    cache.add("t1", mitra(1), 2_000, 1_000)
    expect(cache.get("t1", 1_999)).toEqual(mitra(1))
    expect(cache.get("t1", 2_000)).toBeUndefined()
    expect(cache.size()).toBe(0)
    expect(cache.get("t2", 1_000)).toBeUndefined()
  })

  it("keeps no token already invalid, and nothing at capacity 0", () => {
    const cache = makeVerifiedTokenCache(10)
    cache.add("t1", mitra(1), 1_000, 1_000)
    expect(cache.size()).toBe(0)
    const off = makeVerifiedTokenCache(0)
    off.add("t1", mitra(1), 9_000, 1_000)
    expect(off.get("t1", 1_000)).toBeUndefined()
  })

  it("holds at most its capacity: the oldest goes first, expired ones before any live one", () => {
    const cache = makeVerifiedTokenCache(3)
    for (let n = 1; n <= 5; n++) cache.add(`t${n}`, mitra(n), 10_000, 1_000)
    expect(cache.size()).toBe(3)
    expect(["t1", "t2", "t3", "t4", "t5"].map((t) => cache.get(t, 1_000) !== undefined)).toEqual([false, false, true, true, true])

    const mixed = makeVerifiedTokenCache(100)
    mixed.add("short", mitra(1), 2_000, 1_000)
    mixed.add("long", mitra(2), 9_000, 1_000)
    mixed.add("later", mitra(3), 9_000, 3_000)
    expect(mixed.size()).toBe(2)
    expect(mixed.get("long", 3_000)).toEqual(mitra(2))
  })
})

describe("AccessTokens with the cache", () => {
  const secret = new TextEncoder().encode("a-test-secret-of-at-least-thirty-two-bytes")

  it.effect("a cached token verifies as before; its altered twin and a token of another key never do", () =>
    Effect.gen(function*() {
      const tokens = yield* makeAccessTokens(secret, Duration.minutes(15), 100)
      const { accessToken } = yield* tokens.issue("mitra", mitra(7).subjectId)
      expect(yield* tokens.verify(accessToken)).toEqual(mitra(7))
      expect(yield* tokens.verify(accessToken)).toEqual(mitra(7))

      const [header, payload, signature] = accessToken.split(".")
      const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>
      const altered = [header, Buffer.from(JSON.stringify({ ...claims, sub: mitra(8).subjectId })).toString("base64url"), signature].join(".")
      expect(Exit.isFailure(yield* Effect.exit(tokens.verify(altered)))).toBe(true)

      const other = yield* makeAccessTokens(new TextEncoder().encode("another-secret-of-at-least-thirty-two-bytes"), Duration.minutes(15), 100)
      expect(Exit.isFailure(yield* Effect.exit(other.verify(accessToken)))).toBe(true)
    }))
})
