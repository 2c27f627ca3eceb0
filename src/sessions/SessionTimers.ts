/**
 * The timed transitions of a session: the pairing timeout (searching → `unmatched`, its open offers
 * expired), the payment timeout (pending payment → `cancelled`, `payment_timeout`) and the end of
 * an active session (→ `expired`). Each open session waits for exactly one, at `deadline_at`.
 *
 * Two mechanisms apply them, and either may win: a fiber per session in this process (`FiberMap`
 * keyed by session id — armed after every transition, restored from Postgres at start-up), and
 * the due-deadline sweep, which applies any deadline no fiber handled (an instance that crashed,
 * a timer lost to a restart). Every timed transition is one conditional UPDATE — still in that
 * status, and its deadline passed — so several instances, or a timer and the sweep, never apply it
 * twice, and an extension (a later deadline) makes an old timer's write a no-op.
 */
import { Clock, Duration, Effect, FiberMap, Option } from "effect"
import type { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { Transactions } from "../db/Repository.js"
import type { SessionStatus } from "./ChatSession.js"
import { isOpen } from "./ChatSession.js"
import { type ChatSessionRow, ChatSessionsRepo } from "./ChatSessionsRepo.js"
import { type SessionChanges, SessionSettlement } from "./SessionSettlement.js"

/** The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days). */
const longestSleepMillis = 2 ** 31 - 1

/** Sessions the sweep takes on per tick (the rest wait one cadence). */
const sweepBatch = 500

export class SessionTimers extends Effect.Service<SessionTimers>()("mitra/SessionTimers", {
  scoped: Effect.gen(function*() {
    const repo = yield* ChatSessionsRepo
    const transactions = yield* Transactions
    const settlement = yield* SessionSettlement
    const timers = yield* FiberMap.make<string>()

    const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

    /** The timed transition a session in `status` waits for, applied if its deadline passed by `dueBy`. */
    const closeIfDue = (row: ChatSessionRow, dueBy: Date) =>
      Effect.gen(function*(): Effect.fn.Return<Option.Option<SessionChanges>, DatabaseUnavailable> {
        const at = dueBy
        switch (row.status) {
          case "searching": {
            return yield* transactions.run(Effect.gen(function*() {
              const closed = yield* repo.close({
                id: row.id,
                from: ["searching"],
                status: "unmatched",
                reason: "no_mitra_accepted",
                at,
                dueBy
              })
              if (Option.isNone(closed)) return Option.none()
              const offers = yield* repo.closeOpenOffersOf({ sessionId: row.id, status: "expired", reason: "no_mitra_accepted", at })
              return Option.some({
                sessions: [closed.value],
                offersClosed: offers.map((o) => ({ ...o, reason: "no_mitra_accepted" as const }))
              })
            }))
          }
          case "pending_payment":
          case "active": {
            const closed = yield* repo.close({
              id: row.id,
              from: [row.status],
              status: row.status === "active" ? "expired" : "cancelled",
              reason: row.status === "active" ? "expired" : "payment_timeout",
              at,
              dueBy
            })
            return Option.map(closed, (session) => ({ sessions: [session], capacityOf: [session.mitraId] }))
          }
          default:
            return Option.none()
        }
      })

    /**
     * Applies the session's deadline if it has passed; true when this call closed the session.
     * Settles the change (capacity, events) but re-arms nothing: every timed transition closes.
     */
    const applyDue = Effect.fn("SessionTimers.applyDue")(function*(sessionId: string) {
      yield* Effect.annotateCurrentSpan("session.id", sessionId)
      const row = yield* repo.findById(sessionId)
      if (Option.isNone(row) || !isOpen(row.value.status) || row.value.deadlineAt === null) return false
      const changes = yield* closeIfDue(row.value, yield* now)
      if (Option.isNone(changes)) return false
      yield* settlement.settle(changes.value)
      return true
    })

    /**
     * The fiber of one session: sleep until its deadline (by `Clock`), then apply it. In steps of
     * at most `longestSleep`: a longer timer would overflow Node's 32-bit delay and never wake.
     */
    const timer = (sessionId: string, deadlineAt: Date) =>
      Effect.gen(function*() {
        let wait = deadlineAt.getTime() - (yield* Clock.currentTimeMillis)
        while (wait > 0) {
          yield* Effect.sleep(Duration.millis(Math.min(wait, longestSleepMillis)))
          wait = deadlineAt.getTime() - (yield* Clock.currentTimeMillis)
        }
        yield* applyDue(sessionId)
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.logWarning("A session timer failed; the due-deadline sweep applies its deadline", cause).pipe(
            Effect.annotateLogs("session.id", sessionId)
          )
        )
      )

    const arm = (sessionId: string, deadlineAt: Date) => FiberMap.run(timers, sessionId, timer(sessionId, deadlineAt))

    /** After a transition: an open session's timer (re)armed for its deadline, a closed one's dropped. */
    const track = (sessions: ReadonlyArray<{ readonly id: string; readonly status: SessionStatus; readonly deadlineAt: Date | null }>) =>
      Effect.forEach(sessions, (session) =>
        isOpen(session.status) && session.deadlineAt !== null
          ? Effect.asVoid(arm(session.id, session.deadlineAt))
          : FiberMap.remove(timers, session.id), { discard: true })

    /** Every open session's timer, from Postgres: run at start-up, before the listener binds. */
    const restoreActiveTimers = Effect.fn("SessionTimers.restoreActiveTimers")(function*() {
      const open = yield* repo.withDeadlines
      yield* Effect.forEach(open, (session) => arm(session.id, session.deadlineAt), { discard: true })
      yield* Effect.annotateCurrentSpan("sessions.timers", open.length)
      if (open.length > 0) yield* Effect.logInfo(`Session timers restored: ${open.length}`)
      return open.length
    })

    /** The due-deadline sweep's tick: every open session past its deadline, applied. */
    const sweepDue = Effect.fn("SessionTimers.sweepDue")(function*() {
      const due = yield* repo.dueBy({ now: yield* now, limit: sweepBatch })
      const applied = yield* Effect.forEach(due, (session) => applyDue(session.id), { concurrency: 4 })
      return { due: due.length, applied: applied.filter(Boolean).length }
    })

    /** Sessions with a timer armed in this process (for tests and metrics). */
    const armed = FiberMap.size(timers)

    return { track, applyDue, restoreActiveTimers, sweepDue, armed } as const
  }),
  dependencies: [ChatSessionsRepo.Default, Transactions.Default, SessionSettlement.Default]
}) {}
