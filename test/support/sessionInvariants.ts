/**
 * The invariants of the chat sessions (ARCHITECTURE.md sections 2 and 4), checked against the
 * whole database and the mirror: what must hold after every step, whatever was refused.
 * - capacity: no mitra has more live sessions (pending payment or active) than its maximum (its
 *   own, or `max_sessions_per_mitra`);
 * - one open session (searching, pending payment or active) per customer, and per reroute chain;
 * - `mitra:capacity:<id>` equals Postgres' count of the mitra's live sessions, for every mitra;
 * - the pairing's bookkeeping: a session that has a mitra has exactly one accepted offer, that
 *   mitra's, and a searching one none; only a searching session has open offers, and only to
 *   mitras online and active; no live session stays with a mitra that left (offline or
 *   deactivated): it was rerouted, to exactly one successor of the same customer.
 * Each is one query; a violation fails with the offending rows.
 */
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { mirrorState } from "./availability.js"

const live = "('pending_payment', 'active')"
const open = "('searching', 'pending_payment', 'active')"

/**
 * Every read at once — they are independent, and this runs after every step of a property test —
 * then every assertion. Reads while nothing is in flight: the caller makes sure of it.
 */
export const assertSessionInvariants = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const found = yield* Effect.all({
    capacity: sql<{ id: string; live: number; max: number }>`
      SELECT m.id,
             (SELECT count(*)::int FROM chat_sessions s WHERE s.mitra_id = m.id AND s.status IN ${sql.literal(live)}) AS live,
             COALESCE(m.max_concurrent_sessions, (SELECT (value #>> '{}')::int FROM app_config WHERE key = 'max_sessions_per_mitra')) AS max
      FROM mitras m ORDER BY m.id
    `,
    twoOpenPerCustomer: sql`
      SELECT customer_id, count(*)::int AS open FROM chat_sessions WHERE status IN ${sql.literal(open)}
      GROUP BY customer_id HAVING count(*) > 1
    `,
    twoOpenPerChain: sql`
      WITH RECURSIVE chain (root, id, status) AS (
        SELECT id, id, status FROM chat_sessions WHERE rerouted_from IS NULL
        UNION ALL
        SELECT chain.root, s.id, s.status FROM chat_sessions s JOIN chain ON s.rerouted_from = chain.id
      )
      SELECT root, count(*)::int AS open FROM chain WHERE status IN ${sql.literal(open)} GROUP BY root HAVING count(*) > 1
    `,
    mirror: mirrorState,
    badAccepts: sql`
      SELECT s.id, s.status, s.mitra_id,
             (SELECT array_agg(o.mitra_id) FROM session_offers o WHERE o.session_id = s.id AND o.status = 'accepted') AS accepted_by
      FROM chat_sessions s
      WHERE (s.mitra_id IS NULL) <> NOT EXISTS (SELECT 1 FROM session_offers o WHERE o.session_id = s.id AND o.status = 'accepted')
         OR (SELECT count(*) FROM session_offers o WHERE o.session_id = s.id AND o.status = 'accepted') > 1
         OR EXISTS (SELECT 1 FROM session_offers o WHERE o.session_id = s.id AND o.status = 'accepted' AND o.mitra_id <> s.mitra_id)
         OR (s.status = 'searching' AND s.mitra_id IS NOT NULL)
    `,
    strayOffers: sql`
      SELECT o.session_id, o.mitra_id, s.status, m.is_active, COALESCE(st.is_online, false) AS is_online
      FROM session_offers o
      JOIN chat_sessions s ON s.id = o.session_id
      JOIN mitras m ON m.id = o.mitra_id
      LEFT JOIN mitra_online_status st ON st.mitra_id = o.mitra_id
      WHERE o.status = 'open' AND (s.status <> 'searching' OR NOT m.is_active OR NOT COALESCE(st.is_online, false))
    `,
    orphans: sql`
      SELECT s.id, s.mitra_id FROM chat_sessions s
      JOIN mitras m ON m.id = s.mitra_id
      LEFT JOIN mitra_online_status st ON st.mitra_id = s.mitra_id
      WHERE s.status IN ${sql.literal(live)} AND (NOT m.is_active OR NOT COALESCE(st.is_online, false))
    `,
    badReroutes: sql`
      SELECT s.id, count(n.id)::int AS successors
      FROM chat_sessions s LEFT JOIN chat_sessions n ON n.rerouted_from = s.id AND n.customer_id = s.customer_id
      WHERE s.status = 'rerouted' GROUP BY s.id HAVING count(n.id) <> 1
    `
  }, { concurrency: "unbounded" })

  expect(found.capacity.filter((m) => m.live > m.max), "mitras over their maximum").toEqual([])
  expect(found.twoOpenPerCustomer, "customers with two open sessions").toEqual([])
  expect(found.twoOpenPerChain, "reroute chains with two open sessions").toEqual([])
  expect(
    found.capacity.filter((m) => found.mirror.capacity[m.id] !== m.live)
      .map((m) => ({ mitraId: m.id, postgres: m.live, mirror: found.mirror.capacity[m.id] })),
    "mitra:capacity:<id> differing from Postgres"
  ).toEqual([])
  expect(found.badAccepts, "sessions whose mitra is not their one accepted offer").toEqual([])
  expect(found.strayOffers, "open offers of a closed or taken session, or to a mitra that left").toEqual([])
  expect(found.orphans, "live sessions of a mitra that left").toEqual([])
  expect(found.badReroutes, "rerouted sessions without exactly one successor of their customer").toEqual([])
}).pipe(Effect.orDie)
