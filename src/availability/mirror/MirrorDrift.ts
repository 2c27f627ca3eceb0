/**
 * What a reseed healed: the changes it made to the mirror that move it to what Postgres says.
 *
 * Computed from the contract keys read just before and just after the swap, against the rows the
 * seed read from Postgres. Only changes that agree with those rows count, so a write that lands
 * while the seed runs (a heartbeat, a mitra going online after the rows were read) is not
 * reported as drift. Exact when nothing else writes meanwhile; never over-counts otherwise.
 */
import type { SeedMitra } from "../../mitras/MitraAvailability.js"
import type { MirrorState } from "../store/MirrorInspector.js"

export interface SetDrift {
  /** Members the mirror lacked and the reseed added. */
  readonly added: number
  /** Members the mirror held wrongly and the reseed removed. */
  readonly removed: number
}

export interface MirrorDrift {
  /** `mitras:online`. */
  readonly online: SetDrift
  /** `mitras:deactivated`. */
  readonly deactivated: SetDrift
  /** `mitra:capacity:<id>` keys missing or wrong, now Postgres's count. */
  readonly capacityFixed: number
  /** `mitra:capacity:<id>` keys of ids Postgres has no mitra for (deleted, or a malformed id), now deleted. */
  readonly capacityRemoved: number
  /** `mitra:heartbeat:<id>` keys of online mitras missing or older than Postgres's, now written. */
  readonly heartbeatWritten: number
  /** `mitra:heartbeat:<id>` keys of mitras that are not online, now deleted. */
  readonly heartbeatRemoved: number
}

/** The total number of fixes. */
export const driftTotal = (drift: MirrorDrift) =>
  drift.online.added + drift.online.removed + drift.deactivated.added + drift.deactivated.removed +
  drift.capacityFixed + drift.capacityRemoved + drift.heartbeatWritten + drift.heartbeatRemoved

const setDrift = (before: ReadonlyArray<string>, after: ReadonlyArray<string>, truth: ReadonlySet<string>): SetDrift => {
  const was = new Set(before)
  const is = new Set(after)
  let added = 0
  let removed = 0
  for (const id of is) if (!was.has(id) && truth.has(id)) added++
  for (const id of was) if (!is.has(id) && !truth.has(id)) removed++
  return { added, removed }
}

/** The changes between `before` and `after` that agree with `rows` (what the seed read from Postgres). */
export const mirrorDrift = (before: MirrorState, after: MirrorState, rows: ReadonlyArray<SeedMitra>): MirrorDrift => {
  const online = new Set(rows.filter((m) => m.isOnline).map((m) => m.id))
  const deactivated = new Set(rows.filter((m) => !m.isActive).map((m) => m.id))
  let capacityFixed = 0
  let heartbeatWritten = 0
  for (const m of rows) {
    if (before.capacity[m.id] !== m.liveSessions && after.capacity[m.id] === m.liveSessions) capacityFixed++
    const fromPostgres = m.lastHeartbeatAt?.toISOString()
    if (
      m.isOnline && fromPostgres !== undefined && before.heartbeat[m.id] !== fromPostgres &&
      after.heartbeat[m.id] === fromPostgres
    ) heartbeatWritten++
  }
  const known = new Set(rows.map((m) => m.id))
  let capacityRemoved = 0
  for (const id of Object.keys(before.capacity)) {
    if (after.capacity[id] === undefined && !known.has(id)) capacityRemoved++
  }
  let heartbeatRemoved = 0
  for (const id of Object.keys(before.heartbeat)) {
    if (after.heartbeat[id] === undefined && !online.has(id)) heartbeatRemoved++
  }
  return {
    online: setDrift(before.online, after.online, online),
    deactivated: setDrift(before.deactivated, after.deactivated, deactivated),
    capacityFixed,
    capacityRemoved,
    heartbeatWritten,
    heartbeatRemoved
  }
}
