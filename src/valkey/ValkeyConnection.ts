/**
 * Whether this process mirrors availability in Valkey (`VALKEY_URL` set) or keeps it in memory.
 * Everything that behaves differently in the two modes (the availability store, readiness, the
 * reseed on reconnect) reads this one service, so the switch lives in one place.
 */
import { Context, Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { makeValkeyClient, type ValkeyClientShape } from "./ValkeyClient.js"

export type ValkeyState = "up" | "degraded" | "disabled"

export interface ValkeyConnectionShape {
  /** None in in-memory mode. */
  readonly client: Option.Option<ValkeyClientShape>
  /** Prepended to every key of the mirror ("" = the contract's names exactly). */
  readonly keyPrefix: string
  /** up: PING answered; degraded: configured but not answering; disabled: in-memory mode. */
  readonly state: Effect.Effect<ValkeyState>
}

export class ValkeyConnection extends Context.Tag("mitra/ValkeyConnection")<ValkeyConnection, ValkeyConnectionShape>() {
  static readonly fromClient = (client: ValkeyClientShape, keyPrefix = ""): ValkeyConnectionShape => ({
    client: Option.some(client),
    keyPrefix,
    state: client.ping.pipe(
      Effect.as("up" as const),
      Effect.orElseSucceed(() => "degraded" as const)
    )
  })

  static readonly disabled: ValkeyConnectionShape = {
    client: Option.none(),
    keyPrefix: "",
    state: Effect.succeed("disabled")
  }

  /** From `VALKEY_URL` (+ prefix and command timeout); in-memory mode when it is unset. */
  static readonly layer = Layer.scoped(
    ValkeyConnection,
    Effect.gen(function*() {
      const { valkey } = yield* AppConfig
      if (Option.isNone(valkey.url)) {
        yield* Effect.logWarning(
          "IN-MEMORY MODE: no VALKEY_URL set, availability and rate-limit counts are kept in this process's memory. " +
            "For trying the service out on one instance only; production sets VALKEY_URL."
        )
        return ValkeyConnection.disabled
      }
      const client = yield* makeValkeyClient({ url: valkey.url.value, commandTimeout: valkey.commandTimeout })
      yield* Effect.logInfo(
        `Valkey: mirroring availability${valkey.keyPrefix === "" ? "" : ` under key prefix "${valkey.keyPrefix}"`}`
      )
      return ValkeyConnection.fromClient(client, valkey.keyPrefix)
    })
  )
}
