/** The service's configuration for tests: the real `appConfig` read from a fixed map, not the environment. */
import { ConfigProvider, Effect, Layer } from "effect"
import { AppConfig, appConfig } from "../../src/config/AppConfig.js"

export const testEnvironment: Record<string, string> = {
  JWT_SECRET: "test-secret-that-is-long-enough-for-hs256-0123456789",
  LOG_LEVEL: "Warning",
  LOG_FORMAT: "pretty"
}

/** Reads `appConfig` from `env` (over the test defaults) exactly as start-up reads the environment. */
export const readTestConfig = (env: Record<string, string> = {}) =>
  Effect.withConfigProvider(appConfig, ConfigProvider.fromMap(new Map(Object.entries({ ...testEnvironment, ...env }))))

export const TestConfigLive = (env: Record<string, string> = {}) => Layer.effect(AppConfig, Effect.orDie(readTestConfig(env)))
