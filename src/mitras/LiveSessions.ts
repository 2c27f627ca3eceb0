/**
 * Live chat sessions — `pending_payment` and `active` (ARCHITECTURE.md section 2) — are the ones
 * that hold a mitra's capacity. Every query that counts them uses this one definition.
 */
import { Statement } from "@effect/sql"

export const liveSessionStatuses = ["active", "pending_payment"] as const

/**
 * `('active', 'pending_payment')` for `status IN ${liveStatusList}`: inlined as literals, not bound
 * as parameters, so the planner can match the partial index `chat_sessions_live_by_mitra_idx`
 * (migration 0001), whose predicate is this same list.
 */
export const liveStatusList = Statement.unsafeFragment(`(${liveSessionStatuses.map((s) => `'${s}'`).join(", ")})`)
