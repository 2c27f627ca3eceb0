/** A beacon cache whose every operation fails, as during a Valkey outage (tests). */
import { Effect } from "effect"
import { ValkeyError } from "../../valkey/ValkeyError.js"
import type { BeaconCacheShape } from "./BeaconCache.js"

export const makeFailingBeaconCache = (message: string): BeaconCacheShape => {
  const fail = (operation: string) => Effect.fail(new ValkeyError({ message: `Valkey ${operation} failed: ${message}` }))
  return {
    read: fail("GET snapshot"),
    write: () => fail("SET snapshot"),
    claimComputation: () => fail("SET NX snapshot lock")
  }
}
