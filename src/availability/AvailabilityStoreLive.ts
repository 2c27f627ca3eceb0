/**
 * The store layers. `AvailabilityStoreLive` follows `ValkeyConnection`, the one switch between
 * modes: a Valkey client → the Valkey store under the configured prefix; none → in memory.
 */
import { Effect, Layer, Option } from "effect"
import { ValkeyConnection } from "../valkey/ValkeyConnection.js"
import { AvailabilityStore } from "./AvailabilityStore.js"
import { makeFailingAvailabilityStore } from "./FailingAvailabilityStore.js"
import { makeInMemoryAvailabilityStore } from "./InMemoryAvailabilityStore.js"
import { makeValkeyAvailabilityStore } from "./ValkeyAvailabilityStore.js"

export const AvailabilityStoreLive = Layer.effect(
  AvailabilityStore,
  Effect.map(ValkeyConnection, (connection) =>
    Option.match(connection.client, {
      onNone: makeInMemoryAvailabilityStore,
      onSome: (client) => makeValkeyAvailabilityStore(client, connection.keyPrefix)
    }))
)

export const InMemoryAvailabilityStoreLive = Layer.sync(AvailabilityStore, makeInMemoryAvailabilityStore)

/** Every operation fails with `ValkeyError`: a Valkey outage, for tests. */
export const FailingAvailabilityStoreLive = Layer.sync(AvailabilityStore, () => makeFailingAvailabilityStore())
