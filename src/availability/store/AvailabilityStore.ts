/**
 * The availability mirror as a port: the domain operations the services need, whatever holds the
 * state. Three layers implement it — Valkey (production, `ValkeyAvailabilityStore`), in-memory
 * (one-machine mode and fast tests) and failing (an outage, for tests) — chosen by
 * `AvailabilityStoreLive` from `ValkeyConnection`.
 *
 * Every operation may fail with `ValkeyError`: readers fall back to Postgres, writers log and
 * count it (Postgres has already committed), the heartbeat falls back to its database path.
 */
import { Context, type Effect } from "effect"
import type { MitraCapacity, SeedMitra, StatusVersion } from "../../mitras/MitraAvailability.js"
import type { AvailabilityQuery } from "../../mitras/MitraAvailability.js"
import type { ValkeyError } from "../../valkey/ValkeyError.js"

export type { AvailabilityQuery, MitraCapacity, SeedMitra, StatusVersion }

/**
 * What a heartbeat did. `not_online`: the mitra is offline, nothing is written (a late ping never
 * brings a mitra back online). `unseeded`: the mirror has not been seeded since Valkey started, so
 * it cannot vouch for the mitra: the caller takes the database path.
 */
export type HeartbeatOutcome = "recorded" | "not_online" | "deactivated" | "unseeded"

export interface SeedDefaults {
  readonly defaultMaxSessions: number
  readonly defaultMaxVersion: number
}

/** What a seed installs: every mitra, and the settings the free index is built with. */
export interface SeedInput {
  readonly mitras: ReadonlyArray<SeedMitra>
  readonly defaults: SeedDefaults
}

/** An online mitra whose heartbeat is missing or older than a cutoff (the auto-offline sweep's read). */
export interface StaleMitra {
  readonly mitraId: string
  /** Its `mitra:heartbeat:<id>` time; null when it has none. */
  readonly heartbeatAt: Date | null
}

export type StoreKind = "valkey" | "memory" | "failing"

export interface AvailabilityStoreShape {
  readonly kind: StoreKind

  // Writes (after Postgres has committed). Status writes are ignored when older than `version`'s
  // predecessor already applied (see `StatusVersion`).
  /** Online with a heartbeat at `at` (never moves an existing heartbeat backwards) and its capacity. */
  readonly markOnline: (
    mitraId: string,
    at: Date,
    capacity: MitraCapacity,
    version: StatusVersion
  ) => Effect.Effect<void, ValkeyError>
  /** Offline: out of the online set, heartbeat key deleted. */
  readonly markOffline: (mitraId: string, version: StatusVersion) => Effect.Effect<void, ValkeyError>
  /** Into (and offline) or out of the deactivated set. */
  readonly setDeactivated: (mitraId: string, deactivated: boolean, version: StatusVersion) => Effect.Effect<void, ValkeyError>
  /** The capacity key, derived from Postgres by the caller. */
  readonly setCapacity: (mitraId: string, capacity: MitraCapacity) => Effect.Effect<void, ValkeyError>
  /** The heartbeat guard and the write, in one round trip. */
  readonly recordHeartbeat: (mitraId: string, at: Date) => Effect.Effect<HeartbeatOutcome, ValkeyError>

  // Reads (fail when the mirror cannot answer: down, or not seeded since a restart)
  readonly isReachable: (mitraId: string, freshSince: Date) => Effect.Effect<boolean, ValkeyError>
  /** Available mitras' ids, in no particular order. */
  readonly findAvailable: (query: AvailabilityQuery) => Effect.Effect<ReadonlyArray<string>, ValkeyError>
  readonly countAvailable: (query: AvailabilityQuery) => Effect.Effect<number, ValkeyError>
  readonly countOnline: Effect.Effect<number, ValkeyError>
  /**
   * Online mitras whose heartbeat is missing or older than `staleBefore` (i.e. not fresh), judged
   * where the state lives, in one round trip. With `mitraIds`, only those are judged: the
   * re-check just before the sweep offlines them. Refuses (fails) while unseeded.
   */
  readonly staleOnline: (staleBefore: Date, mitraIds?: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<StaleMitra>, ValkeyError>
  /** Every online mitra's heartbeat time (for the heartbeat mirror into Postgres). */
  readonly onlineHeartbeats: Effect.Effect<ReadonlyArray<{ readonly mitraId: string; readonly at: Date }>, ValkeyError>

  // Seeding
  /** False when the store has lost its content since the last seed (a restarted Valkey). */
  readonly isSeeded: Effect.Effect<boolean, ValkeyError>
  /**
   * Replaces the whole mirror with the state `readTruth` reads from Postgres, in one atomic step:
   * readers see the old state or the new, never an empty or partial one. A heartbeat fresher than
   * the one read is kept, and so is every write made after the seed began (it marks itself as
   * running before `readTruth` runs): the seed never reverts a newer change with its older read.
   */
  readonly replaceAll: <E>(readTruth: Effect.Effect<SeedInput, E>) => Effect.Effect<SeedInput, E | ValkeyError>
}

export class AvailabilityStore extends Context.Tag("mitra/AvailabilityStore")<AvailabilityStore, AvailabilityStoreShape>() {}
