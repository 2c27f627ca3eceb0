/**
 * Password hashing with scrypt (memory-hard, in `node:crypto`, run on libuv's thread pool so the
 * event loop is not blocked). Stored as `scrypt$N$r$p$salt$hash` so parameters can be raised later
 * without invalidating existing hashes.
 */
import { Effect } from "effect"
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto"

const params = { N: 16384, r: 8, p: 1 } as const
const keyLength = 32

const derive = (password: string, salt: Buffer, options: ScryptOptions) =>
  Effect.async<Buffer>((resume) => {
    scrypt(password.normalize("NFKC"), salt, keyLength, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      resume(error ? Effect.die(error) : Effect.succeed(key))
    )
  })

export const hashPassword = (password: string) =>
  Effect.gen(function*() {
    const salt = randomBytes(16)
    const key = yield* derive(password, salt, params)
    return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString("base64")}$${key.toString("base64")}`
  }).pipe(Effect.withSpan("Passwords.hash"))

/** A hash of nothing anyone knows: verified against when an account does not exist, so both cases take as long. */
export const unmatchableHash =
  "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/** Constant-time comparison; false (never an error) for a malformed stored hash. */
export const verifyPassword = (password: string, stored: string) =>
  Effect.gen(function*() {
    const [scheme, n, r, p, salt, hash] = stored.split("$")
    if (scheme !== "scrypt" || salt === undefined || hash === undefined) return false
    const expected = Buffer.from(hash, "base64")
    const key = yield* derive(password, Buffer.from(salt, "base64"), { N: Number(n), r: Number(r), p: Number(p) })
    return expected.length === key.length && timingSafeEqual(expected, key)
  }).pipe(Effect.catchAllDefect(() => Effect.succeed(false)), Effect.withSpan("Passwords.verify"))
