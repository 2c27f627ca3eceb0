/** Fixtures of the session tests: customers and online mitras with tokens, and the session rows' truth. */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { AccessTokens } from "../../src/auth/AccessTokens.js"
import { MitraStatus } from "../../src/availability/MitraStatus.js"
import type { SessionTimers } from "../../src/sessions/SessionTimers.js"
import { createMitra, createCustomer, type CreateMitraOptions } from "./fixtures.js"

/** A customer row and an access token of it. */
export const customerWithToken = Effect.gen(function*() {
  const customer = yield* createCustomer()
  const { accessToken } = yield* Effect.flatMap(AccessTokens, (tokens) => tokens.issue("customer", customer.id))
  return { id: customer.id, token: accessToken }
})

/** A mitra that went online through `MitraStatus` (Postgres and the mirror), and its token. */
export const onlineMitra = (options: Omit<CreateMitraOptions, "isOnline"> = {}) =>
  Effect.gen(function*() {
    const mitra = yield* createMitra(options)
    yield* Effect.flatMap(MitraStatus, (status) => status.setOnline(mitra.id, `mitra:${mitra.id}`))
    const { accessToken } = yield* Effect.flatMap(AccessTokens, (tokens) => tokens.issue("mitra", mitra.id))
    return { id: mitra.id, token: accessToken }
  }).pipe(Effect.orDie)

/** Postgres' count of the mitra's live sessions (pending payment or active). */
export const liveSessionsInPostgres = (mitraId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ n: number }>`
      SELECT count(*)::int AS n FROM chat_sessions WHERE mitra_id = ${mitraId} AND status IN ('pending_payment', 'active')
    `).pipe(Effect.map((rows) => rows[0]!.n), Effect.orDie)

/** The offers of a session, as rows. */
export const offersInPostgres = (sessionId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ mitraId: string; status: string; reason: string | null }>`
      SELECT mitra_id, status, reason FROM session_offers WHERE session_id = ${sessionId} ORDER BY mitra_id
    `).pipe(Effect.orDie)

/** A session's row as Postgres holds it: its state, its deadline and its timestamps. */
export const sessionInPostgres = (sessionId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{
      status: string
      endReason: string | null
      mitraId: string | null
      deadlineAt: Date | null
      startedAt: Date | null
      paidAt: Date | null
      expiresAt: Date | null
      endedAt: Date | null
      extensionCount: number
      reroutedFrom: string | null
    }>`
      SELECT status, end_reason, mitra_id, deadline_at, started_at, paid_at, expires_at, ended_at, extension_count, rerouted_from
      FROM chat_sessions WHERE id = ${sessionId}
    `).pipe(
      Effect.flatMap((rows) => rows[0] === undefined ? Effect.dieMessage(`no session ${sessionId}`) : Effect.succeed(rows[0])),
      Effect.orDie
    )

/** The session that carries `sessionId` on after a reroute (its `rerouted_from`). */
export const successorOf = (sessionId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ id: string; status: string; customerId: string }>`
      SELECT id, status, customer_id FROM chat_sessions WHERE rerouted_from = ${sessionId}
    `).pipe(Effect.orDie)

/**
 * Waits (in real time, up to 10 s: a timer's work is real I/O after the `TestClock` woke it) until
 * `timers` has exactly `count` timers armed. A timer leaves the map when its fiber ends, after its
 * transition committed and was settled, so "0 armed" is the signal that a fired timer is done.
 */
export const awaitArmed = (timers: SessionTimers, count: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 10_000
    let armed = yield* timers.armed
    while (armed !== count) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`expected ${count} session timer(s) armed, ${armed} are`)
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))
      armed = yield* timers.armed
    }
  })
