import { describe, expect, it } from "@effect/vitest"
import { ConfigError, Duration, Effect, Either, LogLevel, Option } from "effect"
import { spawnSync } from "node:child_process"
import { formatConfigError } from "../../src/config/formatConfigError.js"
import { readTestConfig } from "../support/TestConfig.js"

const configError = (env: Record<string, string>) =>
  readTestConfig(env).pipe(
    Effect.either,
    Effect.map((result) => {
      if (Either.isRight(result) || !ConfigError.isConfigError(result.left)) throw new Error("expected a ConfigError")
      return formatConfigError(result.left)
    })
  )

describe("configuration", () => {
  it.effect("defaults match ARCHITECTURE.md section 6 when the environment sets nothing", () =>
    Effect.gen(function*() {
      const config = yield* readTestConfig({ LOG_LEVEL: "info" })
      expect(config.http.port).toBe(3000)
      expect(config.http.maxBodyBytes).toBe(64 * 1024)
      expect(Option.isNone(config.database.url)).toBe(true)
      expect(Option.isNone(config.valkey.url)).toBe(true)
      expect(config.valkey.keyPrefix).toBe("")
      expect(Duration.toSeconds(config.auth.accessTokenTtl)).toBe(900)
      expect(Duration.toDays(config.auth.refreshTokenTtl)).toBe(30)
      expect(Duration.toSeconds(config.sweeps.autoOffline)).toBe(30)
      expect(Duration.toSeconds(config.sweeps.heartbeatMirror)).toBe(60)
      expect(Duration.toSeconds(config.sweeps.reseed)).toBe(300)
      expect(Duration.toSeconds(config.sweeps.authSessionPrune)).toBe(3600)
      expect(Duration.toDays(config.auth.endedSessionRetention)).toBe(30)
      expect(Duration.toSeconds(config.availability.snapshotTtl)).toBe(10)
      expect(config.observability.logLevel).toBe(LogLevel.Info)
      expect(config.http.trustProxyHops).toBe(0)
      const limit = (settings: Option.Option<{ max: number; window: Duration.Duration }>) =>
        Option.map(settings, ({ max, window }) => [max, Duration.toSeconds(window)])
      expect(limit(config.rateLimits.loginFailuresPerAccount)).toEqual(Option.some([10, 900]))
      expect(limit(config.rateLimits.loginAttemptsPerAddress)).toEqual(Option.some([30, 60]))
      expect(limit(config.rateLimits.anonymousCustomersPerAddress)).toEqual(Option.some([10, 60]))
    }))

  it.effect("rate limits: each is read from its two variables, and a maximum of 0 switches it off", () =>
    Effect.gen(function*() {
      const config = yield* readTestConfig({
        LOGIN_MAX_FAILURES_PER_ACCOUNT: "5", LOGIN_ACCOUNT_WINDOW_SECONDS: "600",
        LOGIN_MAX_ATTEMPTS_PER_ADDRESS: "0", LOGIN_ADDRESS_WINDOW_SECONDS: "30",
        ANONYMOUS_CUSTOMERS_PER_ADDRESS: "3", ANONYMOUS_CUSTOMERS_WINDOW_SECONDS: "120",
        TRUST_PROXY_HOPS: "2"
      })
      const { loginFailuresPerAccount, loginAttemptsPerAddress, anonymousCustomersPerAddress } = config.rateLimits
      expect(Option.map(loginFailuresPerAccount, ({ max, window }) => [max, Duration.toSeconds(window)])).toEqual(Option.some([5, 600]))
      expect(Option.isNone(loginAttemptsPerAddress)).toBe(true)
      expect(Option.map(anonymousCustomersPerAddress, ({ max, window }) => [max, Duration.toSeconds(window)])).toEqual(Option.some([3, 120]))
      expect(config.http.trustProxyHops).toBe(2)
      expect(yield* configError({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "-1" })).toMatch(/LOGIN_MAX_FAILURES_PER_ACCOUNT: Expected a whole number/)
      expect(yield* configError({ LOGIN_ACCOUNT_WINDOW_SECONDS: "0" })).toMatch(/LOGIN_ACCOUNT_WINDOW_SECONDS: Expected a positive/)
      expect(yield* configError({ TRUST_PROXY_HOPS: "-1" })).toMatch(/TRUST_PROXY_HOPS/)
    }))

  it.effect("reads every variable it is given", () =>
    Effect.gen(function*() {
      const config = yield* readTestConfig({
        PORT: "8080", HOST: "127.0.0.1", DATABASE_URL: "postgres://u@db/x", VALKEY_URL: "redis://v:6379",
        VALKEY_KEY_PREFIX: "mitra:", ACCESS_TOKEN_TTL_SECONDS: "60", REFRESH_TOKEN_TTL_DAYS: "7",
        MITRA_AUTO_OFFLINE_SWEEP_SECONDS: "5", HEARTBEAT_MIRROR_INTERVAL_SECONDS: "6",
        VALKEY_ONLINE_MIRROR_SWEEP_SECONDS: "7", AVAILABILITY_SNAPSHOT_TTL_SECONDS: "3", LOG_LEVEL: "WARNING", LOG_FORMAT: "json",
        HTTP_MAX_BODY_BYTES: "1048576", AUTH_SESSION_PRUNE_SWEEP_SECONDS: "8", AUTH_SESSION_RETENTION_DAYS: "9"
      })
      expect(config.http).toEqual({ port: 8080, host: "127.0.0.1", maxBodyBytes: 1048576, trustProxyHops: 0 })
      expect(Option.isSome(config.database.url) && Option.isSome(config.valkey.url)).toBe(true)
      expect(config.valkey.keyPrefix).toBe("mitra:")
      expect(Duration.toSeconds(config.auth.accessTokenTtl)).toBe(60)
      expect(Duration.toDays(config.auth.refreshTokenTtl)).toBe(7)
      expect([config.sweeps.autoOffline, config.sweeps.heartbeatMirror, config.sweeps.reseed, config.sweeps.authSessionPrune].map(Duration.toSeconds))
        .toEqual([5, 6, 7, 8])
      expect(Duration.toDays(config.auth.endedSessionRetention)).toBe(9)
      expect(Duration.toSeconds(config.availability.snapshotTtl)).toBe(3)
      expect(config.observability.logLevel).toBe(LogLevel.Warning)
    }))

  it.effect("a bad value names the variable and the problem in one readable line", () =>
    Effect.gen(function*() {
      expect(yield* configError({ PORT: "abc" })).toMatch(/PORT: .*port.*abc/i)
      expect(yield* configError({ PORT: "70000" })).toMatch(/PORT/)
      expect(yield* configError({ MITRA_AUTO_OFFLINE_SWEEP_SECONDS: "0" })).toMatch(/MITRA_AUTO_OFFLINE_SWEEP_SECONDS: Expected a positive/)
      expect(yield* configError({ AUTH_SESSION_PRUNE_SWEEP_SECONDS: "-1" })).toMatch(/AUTH_SESSION_PRUNE_SWEEP_SECONDS: Expected a positive/)
      expect(yield* configError({ AUTH_SESSION_RETENTION_DAYS: "0" })).toMatch(/AUTH_SESSION_RETENTION_DAYS: Expected a positive/)
      expect(yield* configError({ LOG_FORMAT: "xml" })).toMatch(/LOG_FORMAT/)
      expect(yield* configError({ LOG_LEVEL: "loud" })).toMatch(/LOG_LEVEL: Expected one of/)
      expect(yield* configError({ HTTP_MAX_BODY_BYTES: "0" })).toMatch(/HTTP_MAX_BODY_BYTES: Expected a positive/)
    }))

  it("the service refuses to start on a bad PORT with a readable message, not a stack dump", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { ...process.env, PORT: "not-a-port" },
      encoding: "utf8",
      timeout: 20_000
    })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain("invalid configuration")
    expect(run.stderr).toMatch(/PORT: .*not-a-port/)
    expect(run.stderr).not.toMatch(/\n\s+at /) // no stack frames
  })
})
