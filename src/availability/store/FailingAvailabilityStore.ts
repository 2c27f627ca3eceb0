/**
 * A store whose every operation fails with `ValkeyError`, as during a Valkey outage: tests swap
 * it in to prove that reads fall back to Postgres with the same answers and writes still succeed.
 */
import { Effect } from "effect"
import { ValkeyError } from "../../valkey/ValkeyError.js"
import type { AvailabilityStoreShape } from "./AvailabilityStore.js"

export const makeFailingAvailabilityStore = (message = "Valkey is unavailable (simulated outage)"): AvailabilityStoreShape => {
  const fail = (operation: string) => Effect.fail(new ValkeyError({ message: `Valkey ${operation} failed: ${message}` }))
  return {
    kind: "failing",
    markOnline: () => fail("markOnline"),
    markOffline: () => fail("markOffline"),
    setDeactivated: () => fail("setDeactivated"),
    setCapacity: () => fail("setCapacity"),
    recordHeartbeat: () => fail("heartbeat"),
    isReachable: () => fail("isReachable"),
    findAvailable: () => fail("findAvailable"),
    countAvailable: () => fail("countAvailable"),
    countOnline: fail("countOnline"),
    staleOnline: () => fail("staleOnline"),
    onlineHeartbeats: fail("onlineHeartbeats"),
    isSeeded: fail("isSeeded"),
    replaceAll: () => fail("seed")
  }
}
