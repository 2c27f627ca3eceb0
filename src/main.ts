/** Runs the service until SIGTERM/SIGINT, then closes the listener, fibers and pools in order. */
import { NodeRuntime } from "@effect/platform-node"
import { ConfigError, Effect, Layer } from "effect"
import { AppLive } from "./App.js"
import { formatConfigError } from "./config/formatConfigError.js"

const reportBadConfiguration = (error: ConfigError.ConfigError) =>
  Effect.sync(() => {
    process.stderr.write(`mitra-availability: invalid configuration\n${formatConfigError(error)}\n`)
    process.exitCode = 1
  })

AppLive.pipe(
  Layer.launch,
  Effect.catchIf(ConfigError.isConfigError, reportBadConfiguration),
  NodeRuntime.runMain({ disablePrettyLogger: true })
)
