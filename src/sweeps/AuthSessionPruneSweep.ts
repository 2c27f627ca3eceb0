/**
 * The auth-session pruning sweep: without it `auth_sessions` and `auth_session_rotated_tokens`
 * grow by a row per login and per refresh, forever. What is kept, and why: docs/sweeps.md
 * ("Auth-session pruning").
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
