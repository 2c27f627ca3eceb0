/**
 * The availability part's follow-ups to committed mitra account changes (the seam
 * `MitraAccountFollowUp` of the control center):
 *
 * - (de)activation: mirror `mitras:deactivated` — on deactivation also out of `mitras:online`,
 *   heartbeat key gone — and hand the mitra's sessions to the rerouting hook;
 * - a new `maxConcurrentSessions`: recompute the capacity key (and the free index with it).
 *
 * Never fails: a Valkey error is logged and counted (`mirrorWrite`); a Postgres error while
 * recounting is logged, and the reconciliation sweep heals what was missed.
 */
import { Effect, Layer } from "effect"
import { MitraAccountFollowUp } from "../controlCenter/MitraAccountFollowUp.js"
import { Capacity } from "./Capacity.js"
import { MitraStatus } from "./MitraStatus.js"

export const AccountMirrorLive = Layer.effect(
  MitraAccountFollowUp,
  Effect.gen(function*() {
    const status = yield* MitraStatus
    const capacity = yield* Capacity
    return MitraAccountFollowUp.of({
      afterActivation: (change) =>
        status.mirrorActiveFlag(change.mitraId, change.isActive, change.statusVersion).pipe(
          Effect.annotateSpans({ "mitra.activation.changed": change.changed, "mitra.activation.actor": change.actor })
        ),
      afterMaxSessionsChange: (mitraId) =>
        capacity.recomputeCapacityForMitra(mitraId).pipe(
          Effect.asVoid,
          Effect.catchAll((error) => Effect.logWarning("Could not recompute capacity after a new maximum", error))
        )
    })
  })
)
