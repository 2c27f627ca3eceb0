/**
 * Lua scripts as the service sends them: run with EVALSHA (the script's SHA1), falling back to
 * EVAL — which also caches it — when the server does not know it (first use, or after a restart
 * or a SCRIPT FLUSH).
 */
import { createHash } from "node:crypto"
import type { Redis } from "ioredis"

export interface LuaScript {
  readonly name: string
  readonly lua: string
  readonly sha: string
}

export const luaScript = (name: string, lua: string): LuaScript => ({
  name,
  lua,
  sha: createHash("sha1").update(lua).digest("hex")
})

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith("NOSCRIPT")

export const runScript = (
  redis: Redis,
  script: LuaScript,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | number>
): Promise<unknown> =>
  redis.evalsha(script.sha, keys.length, ...keys, ...args).catch((error: unknown) =>
    isNoScript(error) ? redis.eval(script.lua, keys.length, ...keys, ...args) : Promise.reject(error)
  )
