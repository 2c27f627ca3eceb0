/**
 * `chat_sessions` and `session_offers`: every statement about sessions and their offers. Each
 * transition is one conditional UPDATE (`WHERE status = …`), so two instances — or a timer and the
 * due-deadline sweep — can never apply the same transition twice; the caller learns from the
 * returned row whether it was its write that changed the session.
 */
import { SqlClient, SqlSchema, type Statement } from "@effect/sql"
import { Effect, Schema } from "effect"
import { repository } from "../db/Repository.js"
import { liveStatusList } from "../mitras/LiveSessions.js"
import { ChatSession, EndReason, OfferClosedReason, OfferStatus, SessionStatus } from "./ChatSession.js"

/** A session as stored: the API's fields, its pending deadline, and its keyset position. */
export const ChatSessionRow = Schema.Struct({
  id: Schema.String,
  customerId: Schema.String,
  mitraId: Schema.NullOr(Schema.String),
  status: SessionStatus,
  requestedAt: Schema.DateFromSelf,
  acceptedAt: Schema.NullOr(Schema.DateFromSelf),
  paidAt: Schema.NullOr(Schema.DateFromSelf),
  startedAt: Schema.NullOr(Schema.DateFromSelf),
  expiresAt: Schema.NullOr(Schema.DateFromSelf),
  endedAt: Schema.NullOr(Schema.DateFromSelf),
  endReason: Schema.NullOr(EndReason),
  extensionCount: Schema.Number,
  reroutedFrom: Schema.NullOr(Schema.String),
  reroutedTo: Schema.NullOr(Schema.String),
  /** The one timed transition the session waits for (none once closed). */
  deadlineAt: Schema.NullOr(Schema.DateFromSelf),
  /** `requested_at` in whole microseconds since the epoch: the exact keyset position of lists. */
  requestedMicros: Schema.String
})
export type ChatSessionRow = typeof ChatSessionRow.Type

export const toChatSession = ({ deadlineAt: _, requestedMicros: __, ...session }: ChatSessionRow) => new ChatSession(session)

/** An open offer with what its mitra is shown. */
export const OpenOfferRow = Schema.Struct({
  sessionId: Schema.String,
  mitraId: Schema.String,
  customerId: Schema.String,
  requestedAt: Schema.DateFromSelf,
  offerExpiresAt: Schema.DateFromSelf
})
export type OpenOfferRow = typeof OpenOfferRow.Type

export const OfferRow = Schema.Struct({
  mitraId: Schema.String,
  status: OfferStatus,
  offeredAt: Schema.DateFromSelf,
  respondedAt: Schema.NullOr(Schema.DateFromSelf),
  reason: Schema.NullOr(OfferClosedReason)
})

const Page = {
  limit: Schema.Int,
  /** `[requested micros, id]` of the last row of the previous page. */
  after: Schema.optionalWith(Schema.Tuple(Schema.String, Schema.String), { exact: true }),
  status: Schema.optionalWith(SessionStatus, { exact: true })
}

const ClosedOffers = Schema.Struct({ sessionId: Schema.String, mitraId: Schema.String })

export class ChatSessionsRepo extends Effect.Service<ChatSessionsRepo>()("mitra/ChatSessionsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** The columns of a session row (`s` is the session's alias), successor link included. */
    const columns = sql`
      s.id, s.customer_id, s.mitra_id, s.status, s.requested_at, s.accepted_at, s.paid_at, s.started_at,
      s.expires_at, s.ended_at, s.end_reason, s.extension_count, s.rerouted_from, s.deadline_at,
      (SELECT n.id FROM chat_sessions n WHERE n.rerouted_from = s.id LIMIT 1) AS rerouted_to,
      (extract(epoch FROM s.requested_at) * 1000000)::bigint::text AS requested_micros
    `
    const openStatusList = sql.literal("('searching', 'pending_payment', 'active')")

    /** A page of sessions matching `where`, newest first, keyset on (requested_at, id). */
    const page = (where: ReadonlyArray<Statement.Fragment | undefined>, limit: number, after?: readonly [string, string]) => {
      const position = sql`((extract(epoch FROM s.requested_at) * 1000000)::bigint, s.id)`
      const conditions = [
        ...where,
        after === undefined ? undefined : sql`${position} < (${after[0]}::bigint, ${after[1]}::uuid)`
      ].filter((c) => c !== undefined)
      return sql`
        SELECT ${columns} FROM chat_sessions s
        WHERE ${sql.and(conditions)}
        ORDER BY s.requested_at DESC, s.id DESC
        LIMIT ${limit}
      `
    }

    /** One conditional transition of one session; the row as it is now, when this statement changed it. */
    const transition = (options: {
      readonly id: string
      readonly from: Statement.Fragment
      readonly set: Statement.Fragment
    }) => sql`
      UPDATE chat_sessions s SET ${options.set}
      WHERE s.id = ${options.id} AND ${options.from}
      RETURNING ${columns}
    `

    return repository({
      /**
       * A new searching session, or None when the customer already has an open one (the partial
       * unique index decides, so two requests racing cannot both open one).
       */
      insertSearching: SqlSchema.findOne({
        Request: Schema.Struct({
          customerId: Schema.String,
          requestedAt: Schema.DateFromSelf,
          deadlineAt: Schema.DateFromSelf,
          reroutedFrom: Schema.NullOr(Schema.String)
        }),
        Result: ChatSessionRow,
        execute: (request) => sql`
          WITH inserted AS (
            INSERT INTO chat_sessions (customer_id, status, requested_at, deadline_at, rerouted_from)
            VALUES (${request.customerId}, 'searching', ${request.requestedAt}, ${request.deadlineAt}, ${request.reroutedFrom})
            ON CONFLICT (customer_id) WHERE status IN ${openStatusList} DO NOTHING
            RETURNING *
          )
          SELECT ${columns} FROM inserted s
        `
      }),

      findById: SqlSchema.findOne({
        Request: Schema.String,
        Result: ChatSessionRow,
        execute: (id) => sql`SELECT ${columns} FROM chat_sessions s WHERE s.id = ${id}`
      }),

      /** The session, its row locked for the rest of the transaction. */
      lockById: SqlSchema.findOne({
        Request: Schema.String,
        Result: ChatSessionRow,
        execute: (id) => sql`SELECT ${columns} FROM chat_sessions s WHERE s.id = ${id} FOR UPDATE OF s`
      }),

      /** The customer's open session, if any. */
      openSessionOf: SqlSchema.findOne({
        Request: Schema.String,
        Result: ChatSessionRow,
        execute: (customerId) => sql`
          SELECT ${columns} FROM chat_sessions s WHERE s.customer_id = ${customerId} AND s.status IN ${openStatusList}
        `
      }),

      /** The mitra's live sessions, locked: what a departing mitra leaves behind. */
      lockLiveSessionsOf: SqlSchema.findAll({
        Request: Schema.String,
        Result: ChatSessionRow,
        execute: (mitraId) => sql`
          SELECT ${columns} FROM chat_sessions s WHERE s.mitra_id = ${mitraId} AND s.status IN ${liveStatusList}
          ORDER BY s.requested_at FOR UPDATE OF s
        `
      }),

      /** Searching → accepted by `mitraId`: `pending_payment`, or `active` with its clock started. */
      markAccepted: SqlSchema.findOne({
        Request: Schema.Struct({
          id: Schema.String,
          mitraId: Schema.String,
          at: Schema.DateFromSelf,
          status: Schema.Literal("pending_payment", "active"),
          /** Payment timeout (pending) or end of the session (active). */
          deadlineAt: Schema.DateFromSelf
        }),
        Result: ChatSessionRow,
        execute: ({ at, deadlineAt, id, mitraId, status }) =>
          transition({
            id,
            from: sql`s.status = 'searching'`,
            set: status === "active"
              ? sql`status = 'active', mitra_id = ${mitraId}, accepted_at = ${at}, started_at = ${at},
                    expires_at = ${deadlineAt}, deadline_at = ${deadlineAt}`
              : sql`status = 'pending_payment', mitra_id = ${mitraId}, accepted_at = ${at}, deadline_at = ${deadlineAt}`
          })
      }),

      /** Pending payment → active: paid, the clock starts. */
      markPaid: SqlSchema.findOne({
        Request: Schema.Struct({ id: Schema.String, at: Schema.DateFromSelf, expiresAt: Schema.DateFromSelf }),
        Result: ChatSessionRow,
        execute: ({ at, expiresAt, id }) =>
          transition({
            id,
            from: sql`s.status = 'pending_payment'`,
            set: sql`status = 'active', paid_at = ${at}, started_at = ${at}, expires_at = ${expiresAt}, deadline_at = ${expiresAt}`
          })
      }),

      /**
       * Closes the session from one of `from` with `status` and `reason`. With `dueBy`, only if its
       * deadline has passed by then: a timed transition (pairing timeout, payment timeout, expiry).
       */
      close: SqlSchema.findOne({
        Request: Schema.Struct({
          id: Schema.String,
          from: Schema.Array(SessionStatus),
          status: SessionStatus,
          reason: EndReason,
          at: Schema.DateFromSelf,
          dueBy: Schema.optionalWith(Schema.DateFromSelf, { exact: true })
        }),
        Result: ChatSessionRow,
        execute: ({ at, dueBy, from, id, reason, status }) =>
          transition({
            id,
            from: sql.and([
              sql`s.status IN ${sql.in(from)}`,
              dueBy === undefined ? sql`true` : sql`s.deadline_at <= ${dueBy}`
            ]),
            set: sql`status = ${status}, end_reason = ${reason}, ended_at = ${at}, deadline_at = NULL`
          })
      }),

      /** One more extension of an active session, while under `maxExtensions`. */
      extend: SqlSchema.findOne({
        Request: Schema.Struct({ id: Schema.String, minutes: Schema.Number, maxExtensions: Schema.Number }),
        Result: ChatSessionRow,
        execute: ({ id, maxExtensions, minutes }) =>
          transition({
            id,
            from: sql`s.status = 'active' AND s.extension_count < ${maxExtensions}`,
            set: sql`extension_count = extension_count + 1,
                     expires_at = expires_at + ${minutes} * interval '1 minute',
                     deadline_at = expires_at + ${minutes} * interval '1 minute'`
          })
      }),

      /** Open offers of `sessionId` to each of `mitraIds` (a mitra offered it before is skipped). */
      insertOffers: SqlSchema.findAll({
        Request: Schema.Struct({ sessionId: Schema.String, mitraIds: Schema.Array(Schema.String), at: Schema.DateFromSelf }),
        Result: Schema.Struct({ mitraId: Schema.String }),
        execute: ({ at, mitraIds, sessionId }) => sql`
          INSERT INTO session_offers (session_id, mitra_id, status, offered_at)
          SELECT ${sessionId}, m, 'open', ${at} FROM unnest(${mitraIds}::uuid[]) AS m
          ON CONFLICT (session_id, mitra_id) DO NOTHING
          RETURNING mitra_id
        `
      }),

      /** The mitra's open offers, oldest first, with what it is shown. */
      openOffersOf: SqlSchema.findAll({
        Request: Schema.String,
        Result: OpenOfferRow,
        execute: (mitraId) => sql`
          SELECT o.session_id, o.mitra_id, s.customer_id, s.requested_at, s.deadline_at AS offer_expires_at
          FROM session_offers o JOIN chat_sessions s ON s.id = o.session_id
          WHERE o.mitra_id = ${mitraId} AND o.status = 'open'
          ORDER BY o.offered_at, o.session_id
        `
      }),

      /** The mitra's offers closed unanswered (withdrawn, expired) since `since`: a reconnecting stream's catch-up. */
      offersClosedSince: SqlSchema.findAll({
        Request: Schema.Struct({ mitraId: Schema.String, since: Schema.DateFromSelf }),
        Result: Schema.Struct({ sessionId: Schema.String, reason: OfferClosedReason }),
        execute: ({ mitraId, since }) => sql`
          SELECT session_id, reason FROM session_offers
          WHERE mitra_id = ${mitraId} AND status IN ('withdrawn', 'expired') AND responded_at >= ${since}
          ORDER BY responded_at, session_id
        `
      }),

      /** The mitra's sessions changed since `since`, oldest change first. */
      sessionsOfMitraChangedSince: SqlSchema.findAll({
        Request: Schema.Struct({ mitraId: Schema.String, since: Schema.DateFromSelf }),
        Result: ChatSessionRow,
        execute: ({ mitraId, since }) => sql`
          SELECT ${columns} FROM chat_sessions s
          WHERE s.mitra_id = ${mitraId} AND s.updated_at >= ${since}
          ORDER BY s.updated_at, s.id
        `
      }),

      /** The session and every successor that carried it on (rerouted_from links), first to last. */
      rerouteChainFrom: SqlSchema.findAll({
        Request: Schema.String,
        Result: ChatSessionRow,
        execute: (sessionId) => sql`
          WITH RECURSIVE chain (id, depth) AS (
            SELECT id, 0 FROM chat_sessions WHERE id = ${sessionId}
            UNION ALL
            SELECT n.id, chain.depth + 1 FROM chat_sessions n JOIN chain ON n.rerouted_from = chain.id
            WHERE chain.depth < 100
          )
          SELECT ${columns} FROM chain JOIN chat_sessions s ON s.id = chain.id ORDER BY chain.depth
        `
      }),

      /** The mitra's offer of the session, its row locked (None: never offered). */
      lockOffer: SqlSchema.findOne({
        Request: Schema.Struct({ sessionId: Schema.String, mitraId: Schema.String }),
        Result: Schema.Struct({ status: OfferStatus }),
        execute: ({ mitraId, sessionId }) => sql`
          SELECT status FROM session_offers WHERE session_id = ${sessionId} AND mitra_id = ${mitraId} FOR UPDATE
        `
      }),

      /** The mitra answers its open offer (accepted or declined); None when it had none open. */
      answerOffer: SqlSchema.findOne({
        Request: Schema.Struct({
          sessionId: Schema.String,
          mitraId: Schema.String,
          status: Schema.Literal("accepted", "declined"),
          at: Schema.DateFromSelf
        }),
        Result: Schema.Struct({ mitraId: Schema.String }),
        execute: ({ at, mitraId, sessionId, status }) => sql`
          UPDATE session_offers SET status = ${status}, responded_at = ${at}
          WHERE session_id = ${sessionId} AND mitra_id = ${mitraId} AND status = 'open'
          RETURNING mitra_id
        `
      }),

      /** Every open offer of the session closed (`withdrawn` or `expired`), with why; the mitras who had one. */
      closeOpenOffersOf: SqlSchema.findAll({
        Request: Schema.Struct({
          sessionId: Schema.String,
          status: Schema.Literal("withdrawn", "expired"),
          reason: OfferClosedReason,
          at: Schema.DateFromSelf
        }),
        Result: ClosedOffers,
        execute: ({ at, reason, sessionId, status }) => sql`
          UPDATE session_offers SET status = ${status}, reason = ${reason}, responded_at = ${at}
          WHERE session_id = ${sessionId} AND status = 'open'
          RETURNING session_id, mitra_id
        `
      }),

      /** Every open offer to the mitra withdrawn (it went offline or was deactivated). */
      withdrawOpenOffersTo: SqlSchema.findAll({
        Request: Schema.Struct({ mitraId: Schema.String, at: Schema.DateFromSelf }),
        Result: ClosedOffers,
        execute: ({ at, mitraId }) => sql`
          UPDATE session_offers SET status = 'withdrawn', reason = 'mitra_unavailable', responded_at = ${at}
          WHERE mitra_id = ${mitraId} AND status = 'open'
          RETURNING session_id, mitra_id
        `
      }),

      /** Every offer of the session (the control center's view), oldest first. */
      offersOf: SqlSchema.findAll({
        Request: Schema.String,
        Result: OfferRow,
        execute: (sessionId) => sql`
          SELECT mitra_id, status, offered_at, responded_at, reason FROM session_offers
          WHERE session_id = ${sessionId} ORDER BY offered_at, mitra_id
        `
      }),

      /** Open sessions whose deadline has passed by `now` (the due-deadline sweep's read), oldest deadline first. */
      dueBy: SqlSchema.findAll({
        Request: Schema.Struct({ now: Schema.DateFromSelf, limit: Schema.Int }),
        Result: Schema.Struct({ id: Schema.String }),
        execute: ({ limit, now }) => sql`
          SELECT id FROM chat_sessions
          WHERE status IN ${openStatusList} AND deadline_at <= ${now}
          ORDER BY deadline_at LIMIT ${limit}
        `
      }),

      /**
       * Mitras holding live sessions they can no longer serve — offline or deactivated — with the
       * reason: what a reroute that failed after its mitra's change committed leaves behind.
       */
      orphanedMitras: SqlSchema.findAll({
        Request: Schema.Void,
        Result: Schema.Struct({ mitraId: Schema.String, isActive: Schema.Boolean }),
        execute: () => sql`
          SELECT DISTINCT s.mitra_id, m.is_active
          FROM chat_sessions s
          JOIN mitras m ON m.id = s.mitra_id
          LEFT JOIN mitra_online_status o ON o.mitra_id = s.mitra_id
          WHERE s.status IN ${liveStatusList} AND (NOT m.is_active OR NOT COALESCE(o.is_online, false))
        `
      })(undefined),

      /** Every open session with a deadline: the timers to arm at start-up. */
      withDeadlines: SqlSchema.findAll({
        Request: Schema.Void,
        Result: Schema.Struct({ id: Schema.String, deadlineAt: Schema.DateFromSelf }),
        execute: () => sql`SELECT id, deadline_at FROM chat_sessions WHERE status IN ${openStatusList} AND deadline_at IS NOT NULL`
      })(undefined),

      /** A customer's sessions, newest first. */
      pageOfCustomer: SqlSchema.findAll({
        Request: Schema.Struct({ customerId: Schema.String, ...Page }),
        Result: ChatSessionRow,
        execute: ({ after, customerId, limit, status }) =>
          page([sql`s.customer_id = ${customerId}`, status === undefined ? undefined : sql`s.status = ${status}`], limit, after)
      }),

      /** A mitra's sessions (the ones it accepted), newest first. */
      pageOfMitra: SqlSchema.findAll({
        Request: Schema.Struct({ mitraId: Schema.String, ...Page }),
        Result: ChatSessionRow,
        execute: ({ after, limit, mitraId, status }) =>
          page([sql`s.mitra_id = ${mitraId}`, status === undefined ? undefined : sql`s.status = ${status}`], limit, after)
      }),

      /** Every session, filtered, newest first (the control center). */
      page: SqlSchema.findAll({
        Request: Schema.Struct({
          ...Page,
          mitraId: Schema.optionalWith(Schema.String, { exact: true }),
          customerId: Schema.optionalWith(Schema.String, { exact: true })
        }),
        Result: ChatSessionRow,
        execute: ({ after, customerId, limit, mitraId, status }) =>
          page([
            status === undefined ? undefined : sql`s.status = ${status}`,
            mitraId === undefined ? undefined : sql`s.mitra_id = ${mitraId}`,
            customerId === undefined ? undefined : sql`s.customer_id = ${customerId}`
          ], limit, after)
      }),

      /** Live (holding a mitra's capacity) and searching sessions, for the dashboard. */
      openCounts: SqlSchema.single({
        Request: Schema.Void,
        Result: Schema.Struct({ liveSessions: Schema.Number, searching: Schema.Number }),
        execute: () => sql`
          SELECT count(*) FILTER (WHERE status IN ${liveStatusList})::int AS live_sessions,
                 count(*) FILTER (WHERE status = 'searching')::int AS searching
          FROM chat_sessions WHERE status IN ${openStatusList}
        `
      })(undefined)
    })
  })
}) {}
