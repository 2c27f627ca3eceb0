/**
 * Live chat sessions — `pending_payment` and `active` (ARCHITECTURE.md section 2) — are the ones
 * that hold a mitra's capacity. Every statement that counts them uses these fragments, so the
 * definition lives here once.
 */
import { Statement } from "@effect/sql"

export const liveSessionStatuses = ["active", "pending_payment"] as const

/**
 * `('active', 'pending_payment')` for `status IN ${liveStatusList}`: inlined as literals, not bound
 * as parameters, so the planner can match the partial index `chat_sessions_live_by_mitra_idx`
 * (migration 0001), whose predicate is this same list.
 */
const liveStatusSql = `(${liveSessionStatuses.map((s) => `'${s}'`).join(", ")})`
export const liveStatusList = Statement.unsafeFragment(liveStatusSql)

/** Live sessions of the mitra in `mitraColumn` (a column of the enclosing query, e.g. `m.id`). */
export const liveSessionsOf = (mitraColumn: "m.id") =>
  Statement.unsafeFragment(
    `(SELECT count(*)::int FROM chat_sessions c WHERE c.mitra_id = ${mitraColumn} AND c.status IN ${liveStatusSql})`
  )

/** `(mitra_id, live)` of every mitra with live sessions, to join on. */
export const liveSessionsByMitra = Statement.unsafeFragment(
  `SELECT mitra_id, count(*)::int AS live FROM chat_sessions
   WHERE status IN ${liveStatusSql} AND mitra_id IS NOT NULL GROUP BY mitra_id`
)
