/**
 * The availability part's follow-up to a committed (de)activation (the seam
 * `MitraActivationFollowUp` of the control center): mirror `mitras:deactivated` — on
 * deactivation also out of `mitras:online`, heartbeat key gone — and hand the mitra's sessions to
 * the rerouting hook. Never fails: a Valkey error is logged and counted (`mirrorWrite`).
 */
import { Effect, Layer } from "effect"
import { MitraActivationFollowUp } from "../controlCenter/MitraActivationFollowUp.js"
import { MitraStatus } from "./MitraStatus.js"

export const ActivationMirrorLive = Layer.effect(
  MitraActivationFollowUp,
  Effect.map(MitraStatus, (status) =>
    MitraActivationFollowUp.of({
      afterCommit: (change) =>
        status.mirrorActiveFlag(change.mitraId, change.isActive).pipe(
          Effect.annotateSpans({ "mitra.activation.changed": change.changed, "mitra.activation.actor": change.actor })
        )
    }))
)
