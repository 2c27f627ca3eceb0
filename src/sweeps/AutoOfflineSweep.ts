/**
 * The auto-offline sweep: online mitras whose heartbeat is stale go offline (`heartbeat_stale`) and
 * their sessions are handed to rerouting. Liveness comes from the mirror only — a Valkey error
 * aborts the tick rather than judging mitras by Postgres's older heartbeat copies — and each step
 * is safe with several instances and heartbeats racing it (docs/sweeps.md, "Auto-offline").
 */
import { Clock, Effect } from "effect"
import { MitraStatus } from "../availability/MitraStatus.js"
import { AvailabilityStore, type StaleMitra } from "../availability/store/AvailabilityStore.js"
import { SessionRerouting } from "../sessions/SessionRerouting.js"
import { AvailabilitySettings } from "../settings/AvailabilitySettings.js"
import type { SweepTick } from "./Sweep.js"

/** The `actor` of the audit rows the sweep writes. */
export const autoOfflineActor = "sweep:auto-offline"

/** Mitras offlined at once (each is a re-check, a short transaction and a mirror write). */
const concurrency = 4

type Verdict = "offlined" | "fresh_on_recheck" | "unchanged"

export class AutoOfflineSweep extends Effect.Service<AutoOfflineSweep>()("mitra/AutoOfflineSweep", {
  effect: Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const status = yield* MitraStatus
    const settings = yield* AvailabilitySettings
    const rerouting = yield* SessionRerouting

    const offlineIfStillStale = (staleBefore: Date) => (mitra: StaleMitra) =>
      Effect.gen(function*() {
        const [still] = yield* store.staleOnline(staleBefore, [mitra.mitraId])
        if (still === undefined) return "fresh_on_recheck" satisfies Verdict
        const offlined = yield* status.offlineIfStale(mitra.mitraId, staleBefore, autoOfflineActor)
        if (!offlined) return "unchanged" as const
        yield* rerouting.rerouteLiveSessionsOf(mitra.mitraId, "heartbeat_stale")
        return "offlined" as const
      }).pipe(Effect.uninterruptible)

    /** One pass: scan the mirror, offline the stale. Fails (aborts) on the first Valkey or Postgres error. */
    const tick = Effect.fn("AutoOfflineSweep.tick")(function*() {
      const now = yield* Clock.currentTimeMillis
      const { heartbeatStaleSeconds } = yield* settings.current
      const staleBefore = new Date(now - heartbeatStaleSeconds * 1000)
      yield* Effect.annotateCurrentSpan({ "sweep.stale_before": staleBefore.toISOString(), "availability.source": store.kind })
      const stale = yield* store.staleOnline(staleBefore)
      const verdicts = yield* Effect.forEach(stale, offlineIfStillStale(staleBefore), { concurrency })
      const count = (v: Verdict) => verdicts.filter((x) => x === v).length
      const counts = {
        stale: stale.length,
        offlined: count("offlined"),
        fresh_on_recheck: count("fresh_on_recheck"),
        unchanged: count("unchanged")
      }
      return {
        outcome: "completed",
        counts,
        summary: `${counts.offlined} mitra(s) offlined for a heartbeat older than ${staleBefore.toISOString()}` +
          ` (${counts.stale} stale in the mirror, ${counts.fresh_on_recheck} fresh again on re-check,` +
          ` ${counts.unchanged} already offline or fresh in Postgres)`
      } satisfies SweepTick
    })

    return { tick } as const
  }),
  dependencies: [MitraStatus.Default, AvailabilitySettings.Default, SessionRerouting.Default]
}) {}
