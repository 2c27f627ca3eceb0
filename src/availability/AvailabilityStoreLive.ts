/**
 * The availability mirror's swappable infrastructure, as one layer: the store port, its inspector
 * and the beacon cache, all on one connection (or one process's memory). `AvailabilityStoreLive`
 * follows `ValkeyConnection`, the one switch between modes: a Valkey client → Valkey under the
 * configured prefix; none → in memory. Tests swap in the in-memory or the failing (outage) layer.
 */
import { Context, Effect, Layer, Option } from "effect"
import { ValkeyConnection } from "../valkey/ValkeyConnection.js"
import { BeaconCache, type BeaconCacheShape } from "./beaconCache/BeaconCache.js"
import { makeFailingBeaconCache } from "./beaconCache/FailingBeaconCache.js"
import { makeInMemoryBeaconCache } from "./beaconCache/InMemoryBeaconCache.js"
import { makeValkeyBeaconCache } from "./beaconCache/ValkeyBeaconCache.js"
import { AvailabilityStore, type AvailabilityStoreShape } from "./store/AvailabilityStore.js"
import { makeFailingAvailabilityStore } from "./store/FailingAvailabilityStore.js"
import { makeInMemoryAvailabilityStore } from "./store/InMemoryAvailabilityStore.js"
import { MirrorInspector } from "./store/MirrorInspector.js"
import { makeValkeyAvailabilityStore, makeValkeyMirrorInspector } from "./store/ValkeyAvailabilityStore.js"
import { ValkeyError } from "../valkey/ValkeyError.js"

const mirror = (store: AvailabilityStoreShape, inspector: MirrorInspector["Type"], beaconCache: BeaconCacheShape) =>
  Context.make(AvailabilityStore, store).pipe(Context.add(MirrorInspector, inspector), Context.add(BeaconCache, beaconCache))

const inMemory = () => {
  const { inspector, store } = makeInMemoryAvailabilityStore()
  return mirror(store, inspector, makeInMemoryBeaconCache())
}

export const AvailabilityStoreLive = Layer.effectContext(
  Effect.map(ValkeyConnection, (connection) =>
    Option.match(connection.client, {
      onNone: inMemory,
      onSome: (client) =>
        mirror(
          makeValkeyAvailabilityStore(client, connection.keyPrefix),
          makeValkeyMirrorInspector(client, connection.keyPrefix),
          makeValkeyBeaconCache(client, connection.keyPrefix)
        )
    }))
)

export const InMemoryAvailabilityStoreLive = Layer.syncContext(inMemory)

const outage = "Valkey is unavailable (simulated outage)"

/** Every operation fails with `ValkeyError`: a Valkey outage, for tests. */
export const FailingAvailabilityStoreLive = Layer.syncContext(() =>
  mirror(
    makeFailingAvailabilityStore(outage),
    { readState: Effect.fail(new ValkeyError({ message: `Valkey readState failed: ${outage}` })) },
    makeFailingBeaconCache(outage)
  )
)
