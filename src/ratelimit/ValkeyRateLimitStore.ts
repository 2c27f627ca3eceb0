/**
 * Rate-limit counters in Valkey, shared by every instance: one script per operation, so counting
 * and opening the window are one atomic round trip (a window can never be left without expiry).
 */
import { Duration, Effect } from "effect"
import { luaScript, runScript } from "../valkey/LuaScript.js"
import type { ValkeyClientShape } from "../valkey/ValkeyClient.js"
import type { RateLimitStore, WindowCount } from "./RateLimitStore.js"

/**
 * KEYS[1]: the counter; ARGV[1]: window in ms. A counter without an expiry (only possible if
 * someone wrote the key by hand) gets one, so no key can block forever. Returns {count, ms left}.
 */
const hitScript = luaScript("rateLimitHit", `
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
`)

/** KEYS[1]: the counter. DECR keeps the expiry; an ended (absent) window is not brought back. */
const takeBackScript = luaScript("rateLimitTakeBack", `
local count = tonumber(redis.call('GET', KEYS[1]))
if count and count > 0 then redis.call('DECR', KEYS[1]) end
return 1
`)

export const makeValkeyRateLimitStore = (client: ValkeyClientShape, keyPrefix: string): RateLimitStore => {
  const name = (key: string) => `${keyPrefix}${key}`
  return {
    hit: (key, window) =>
      client.use("rate limit hit", (redis) => runScript(redis, hitScript, [name(key)], [Math.max(1, Math.ceil(Duration.toMillis(window)))])).pipe(
        Effect.map((reply): WindowCount => {
          const [count, left] = reply as [number, number]
          return { count, resetsInMillis: left }
        })
      ),
    takeBack: (key) => client.use("rate limit take-back", (redis) => runScript(redis, takeBackScript, [name(key)], [])).pipe(Effect.asVoid),
    clear: (key) => client.use("rate limit clear", (redis) => redis.del(name(key))).pipe(Effect.asVoid)
  }
}
