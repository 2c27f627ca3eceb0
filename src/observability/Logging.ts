/** Structured logs: JSON lines in production, pretty for a terminal; level from `LOG_LEVEL`. */
import { Effect, Layer, Logger } from "effect"
import { AppConfig } from "../config/AppConfig.js"

export const LoggingLive = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ observability }) =>
    Layer.merge(
      observability.logFormat === "json" ? Logger.json : Logger.pretty,
      Logger.minimumLogLevel(observability.logLevel)
    )
  )
)
