/** The beacon cache on Valkey: `availability:snapshot` (SET PX) and its claim (SET NX PX). */
import { Duration, Effect, Option, Schema } from "effect"
import { randomUUID } from "node:crypto"
import type { ValkeyClientShape } from "../../valkey/ValkeyClient.js"
import { mirrorKeys } from "../store/MirrorKeys.js"
import type { BeaconCacheShape } from "./BeaconCache.js"
import { BeaconSnapshot } from "./BeaconSnapshot.js"

const decode = Schema.decodeUnknownOption(Schema.parseJson(BeaconSnapshot))
const encode = Schema.encodeSync(Schema.parseJson(BeaconSnapshot))
const millis = (ttl: Duration.Duration) => Math.max(1, Math.round(Duration.toMillis(ttl)))

export const makeValkeyBeaconCache = (client: ValkeyClientShape, prefix: string): BeaconCacheShape => {
  const keys = mirrorKeys(prefix)
  return {
    read: client.use("GET snapshot", (redis) => redis.get(keys.snapshot)).pipe(
      Effect.map((raw) => (raw === null ? Option.none() : decode(raw)))
    ),
    write: (snapshot, ttl) =>
      client.use("SET snapshot", (redis) => redis.set(keys.snapshot, encode(snapshot), "PX", millis(ttl))).pipe(Effect.asVoid),
    claimComputation: (ttl) =>
      client.use("SET NX snapshot lock", (redis) => redis.set(keys.snapshotLock, randomUUID(), "PX", millis(ttl), "NX")).pipe(
        Effect.map((reply) => reply === "OK")
      )
  }
}
