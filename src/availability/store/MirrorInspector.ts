/**
 * The mirror's contract keys as they are right now, read whole (O(mirror size)): what the reseed
 * sweep compares before and after a seed to report the drift it healed, and what tests assert on.
 * Kept off `AvailabilityStore`, whose operations serve requests and never scan.
 */
import { Context, type Effect } from "effect"
import type { ValkeyError } from "../../valkey/ValkeyError.js"

/** The contract keys' content. Ids sorted. */
export interface MirrorState {
  readonly online: ReadonlyArray<string>
  readonly deactivated: ReadonlyArray<string>
  /** `mitra:capacity:<id>` values. */
  readonly capacity: Readonly<Record<string, number>>
  /** `mitra:heartbeat:<id>` values (ISO-8601). */
  readonly heartbeat: Readonly<Record<string, string>>
}

export class MirrorInspector extends Context.Tag("mitra/MirrorInspector")<MirrorInspector, {
  readonly readState: Effect.Effect<MirrorState, ValkeyError>
}>() {}
