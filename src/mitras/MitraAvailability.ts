/**
 * A mitra's availability as the durable truth states it: what capacity depends on, the question
 * every availability read answers (the same for the Valkey mirror and for Postgres), and one
 * mitra as a seed of the mirror reads it.
 */

/** What the capacity filter needs to know of one mitra. */
export interface MitraCapacity {
  /** Live (`active` + `pending_payment`) sessions, counted in Postgres. */
  readonly liveSessions: number
  /** `mitras.max_concurrent_sessions`; null = the `max_sessions_per_mitra` setting. */
  readonly maxConcurrentSessions: number | null
}

/** The parameters every availability read shares, so both paths answer the same question. */
export interface AvailabilityQuery {
  /** A heartbeat at or after this instant is fresh (whole milliseconds). */
  readonly freshSince: Date
  /** `max_sessions_per_mitra`, for mitras without a maximum of their own. */
  readonly defaultMaxSessions: number
  /** When that setting was last written (epoch µs): the newest value wins in a shared mirror. */
  readonly defaultMaxVersion: number
}

/**
 * `mitras.status_version`, bumped by every committed change of a mitra's online or active state
 * (under its row lock, so in commit order). Each status write to the mirror carries the version
 * it committed, and the mirror ignores a write older than the last it applied: writes that arrive
 * out of order — two instances, two fibers — converge to the last committed state.
 */
export type StatusVersion = number

/** One mitra as `seedFromPostgres` reads it. */
export interface SeedMitra extends MitraCapacity {
  readonly id: string
  readonly isActive: boolean
  readonly isOnline: boolean
  readonly lastHeartbeatAt: Date | null
  readonly statusVersion: StatusVersion
}
