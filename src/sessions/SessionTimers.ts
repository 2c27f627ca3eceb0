/**
 * Session timers (pairing timeout, payment timeout, session expiry) restored from Postgres at
 * start-up, before the mirror is seeded and the listener binds (ARCHITECTURE.md section 3,
 * start-up order).
 *
 * A hook for now: the sessions issue fills `restoreActiveTimers` in; start-up already calls it in
 * its place (`src/App.ts`, `StartupLive`).
 */
import { Effect } from "effect"

export class SessionTimers extends Effect.Service<SessionTimers>()("mitra/SessionTimers", {
  succeed: {
    /** Re-arms the timer of every open session. No-op until the sessions issue lands. */
    restoreActiveTimers: Effect.fn("SessionTimers.restoreActiveTimers")(function*() {
      yield* Effect.void
    })
  }
}) {}
