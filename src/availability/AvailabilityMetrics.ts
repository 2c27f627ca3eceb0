/**
 * What the availability mirror counts (exposed on `/metrics`). Tagged counters are built once
 * here, per label value: `Metric.tagged` allocates, and the heartbeat is the hottest path.
 */
import { Metric } from "effect"

export const availabilityFallbacks = Metric.counter("availability_fallback_total", {
  description: "Availability operations answered by Postgres because the Valkey mirror failed",
  incremental: true
})

export const valkeyWriteFailures = Metric.counter("valkey_write_failures_total", {
  description: "Best-effort writes to Valkey that failed (a mirror write after its Postgres commit asks for a prompt reseed)",
  incremental: true
})

export const beaconComputations = Metric.counter("availability_beacon_computations_total", {
  description: "Beacon counts computed on a snapshot miss (the rest are served from the shared snapshot)",
  incremental: true
})

export const heartbeats = Metric.counter("mitra_heartbeats_total", {
  description: "Heartbeats by outcome and by the path that recorded them",
  incremental: true
})

/** The reads that fall back to Postgres, by the `operation` label. */
export type FallbackOperation =
  | "isMitraReachable"
  | "findAvailableMitras"
  | "countAvailableMitras"
  | "countOnlineMitras"
  | "countAvailableMitrasFromCache"
  | "heartbeat"

/** The best-effort mirror writes, by the `operation` label. */
export type WriteOperation = "markOnline" | "markOffline" | "setDeactivated" | "setCapacity" | "writeSnapshot"

export type HeartbeatPath = "valkey" | "memory" | "postgres"
export type HeartbeatCounted = "recorded" | "not_online" | "deactivated"

const taggedBy = <K extends string>(metric: Metric.Metric.Counter<number>, key: string, values: ReadonlyArray<K>) =>
  Object.fromEntries(values.map((value) => [value, Metric.tagged(metric, key, value)])) as Record<K, Metric.Metric.Counter<number>>

export const fallbacksBy = taggedBy<FallbackOperation>(availabilityFallbacks, "operation", [
  "isMitraReachable",
  "findAvailableMitras",
  "countAvailableMitras",
  "countOnlineMitras",
  "countAvailableMitrasFromCache",
  "heartbeat"
])

export const writeFailuresBy = taggedBy<WriteOperation>(valkeyWriteFailures, "operation", [
  "markOnline",
  "markOffline",
  "setDeactivated",
  "setCapacity",
  "writeSnapshot"
])

const paths: ReadonlyArray<HeartbeatPath> = ["valkey", "memory", "postgres"]
export const heartbeatsBy = Object.fromEntries(
  (["recorded", "not_online", "deactivated"] as const).map((outcome) => [
    outcome,
    Object.fromEntries(paths.map((path) => [path, Metric.tagged(Metric.tagged(heartbeats, "outcome", outcome), "path", path)]))
  ])
) as Record<HeartbeatCounted, Record<HeartbeatPath, Metric.Metric.Counter<number>>>
