/**
 * The auth-session pruning sweep (`AUTH_SESSION_PRUNE_SWEEP_SECONDS`, hourly by default): without
 * it, `auth_sessions` and `auth_session_rotated_tokens` grow by a row per login and per refresh,
 * forever. Each tick runs `RefreshSessions.pruneEnded` with
 *
 * - sessions that ended (revoked or expired) more than `AUTH_SESSION_RETENTION_DAYS` (30) ago:
 *   the grace period keeps recent ones for operators to look into (who was signed out, when,
 *   why), and a replayed token of a recently ended session is still recognised as its own;
 * - rotated-token rows older than the refresh-token TTL, of live sessions too: reuse detection
 *   only matters while the replayed token could still have been valid, and a token rotated out
 *   more than one TTL ago would have expired anyway.
 *
 * Times come from the `Clock` (a test moves them with `TestClock`). Deletes run in bounded
 * batches, so a large backlog never holds a long lock. Safe on every instance at once: a row is
 * deleted once, whoever gets to it first. A Postgres failure aborts the tick; the next one
 * catches up.
 */
import { Clock, Duration, Effect } from "effect"
import { RefreshSessions } from "../auth/RefreshSessions.js"
import { AppConfig } from "../config/AppConfig.js"
import type { SweepTick } from "./Sweep.js"

export class AuthSessionPruneSweep extends Effect.Service<AuthSessionPruneSweep>()("mitra/AuthSessionPruneSweep", {
  effect: Effect.gen(function*() {
    const sessions = yield* RefreshSessions
    const { auth } = yield* AppConfig

    const tick = Effect.fn("AuthSessionPruneSweep.tick")(function*() {
      const now = yield* Clock.currentTimeMillis
      const endedBefore = new Date(now - Duration.toMillis(auth.endedSessionRetention))
      const rotatedBefore = new Date(now - Duration.toMillis(auth.refreshTokenTtl))
      const pruned = yield* sessions.pruneEnded(endedBefore, rotatedBefore)
      return {
        outcome: "completed",
        counts: { sessions_deleted: pruned.sessions, rotated_tokens_deleted: pruned.rotatedTokens },
        summary: `${pruned.sessions} session(s) ended before ${endedBefore.toISOString()} and ` +
          `${pruned.rotatedTokens} rotated refresh token(s) deleted`
      } satisfies SweepTick
    })

    return { tick } as const
  }),
  dependencies: [RefreshSessions.Default]
}) {}
