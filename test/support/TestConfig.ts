/** The service's configuration for tests: the real `appConfig` read from a fixed map, not the environment. */
import { ConfigProvider, Effect, Layer } from "effect"
import { AppConfig, appConfig } from "../../src/config/AppConfig.js"

export const testEnvironment: Record<string, string> = {
  JWT_SECRET: "test-secret-that-is-long-enough-for-hs256-0123456789",
  LOG_LEVEL: "Warning",
  LOG_FORMAT: "pretty",
  PAYMENT_WEBHOOK_SECRET: "test-payment-webhook-secret"
}

/**
 * Reads `appConfig` from `env` (over the test defaults) exactly as start-up reads the environment;
 * `unset` names variables absent from it, test defaults included.
 */
export const readTestConfig = (env: Record<string, string> = {}, unset: ReadonlyArray<string> = []) =>
  Effect.withConfigProvider(
    appConfig,
    ConfigProvider.fromMap(new Map(Object.entries({ ...testEnvironment, ...env }).filter(([name]) => !unset.includes(name))))
  )

/**
 * A test app's configuration. Its database is the harness's own Postgres (never the embedded one),
 * so `DATABASE_URL` is set — to a placeholder, as the database layer comes from the harness — and
 * the app behaves as a configured deployment (no embedded-mode conveniences such as a generated
 * control-center admin). Tests of embedded-mode behaviour pass their own `config`.
 */
export const TestConfigLive = (env: Record<string, string> = {}, unset: ReadonlyArray<string> = []) =>
  Layer.effect(
    AppConfig,
    Effect.orDie(readTestConfig({ DATABASE_URL: "postgres://database-from-the-test-harness", ...generousRateLimits, ...env }, unset))
  )

/**
 * A test file signs in far more often from one address than any client should (`loginAsMitra`,
 * `loginAsCcUser`), so a test app's limits are out of the way — but still counted, so every login
 * runs through the limiter. Tests of the limits set tight ones explicitly.
 */
export const generousRateLimits: Record<string, string> = {
  LOGIN_MAX_FAILURES_PER_ACCOUNT: "1000",
  LOGIN_MAX_ATTEMPTS_PER_ADDRESS: "100000",
  ANONYMOUS_CUSTOMERS_PER_ADDRESS: "100000",
  SESSION_REQUESTS_PER_CUSTOMER: "100000"
}
