/**
 * Where the beacon's snapshot is shared by every instance (`availability:snapshot`, with a TTL),
 * and who computes the next one when it expires (a short claim, so misses across instances do not
 * stampede Postgres). A port: Valkey, this process's memory (one-instance mode), or failing
 * (an outage, for tests) — built beside the availability store on the same connection.
 */
import { Context, type Duration, type Effect, type Option } from "effect"
import type { ValkeyError } from "../../valkey/ValkeyError.js"
import type { BeaconSnapshot } from "./BeaconSnapshot.js"

export interface BeaconCacheShape {
  readonly read: Effect.Effect<Option.Option<BeaconSnapshot>, ValkeyError>
  readonly write: (snapshot: BeaconSnapshot, ttl: Duration.Duration) => Effect.Effect<void, ValkeyError>
  /** True for exactly one caller per `ttl` across every instance sharing the cache. */
  readonly claimComputation: (ttl: Duration.Duration) => Effect.Effect<boolean, ValkeyError>
}

export class BeaconCache extends Context.Tag("mitra/BeaconCache")<BeaconCache, BeaconCacheShape>() {}
