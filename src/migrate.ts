/** `npm run migrate`: applies pending migrations to the configured database and exits. */
import { NodeRuntime } from "@effect/platform-node"
import { ConfigError, Effect, Layer } from "effect"
import { AppConfig } from "./config/AppConfig.js"
import { formatConfigError } from "./config/formatConfigError.js"
import { DatabaseLive } from "./db/Database.js"
import { migrateConfiguredDatabase } from "./db/Migrations.js"
import { LoggingLive } from "./observability/Logging.js"

migrateConfiguredDatabase.pipe(
  Effect.provide(DatabaseLive.pipe(Layer.provideMerge(LoggingLive), Layer.provideMerge(AppConfig.layer))),
  Effect.catchIf(ConfigError.isConfigError, (error) =>
    Effect.sync(() => {
      process.stderr.write(`mitra-availability: invalid configuration\n${formatConfigError(error)}\n`)
      process.exitCode = 1
    })),
  NodeRuntime.runMain({ disablePrettyLogger: true })
)
