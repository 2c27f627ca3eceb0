/**
 * `MitrasRepo`'s statements about a mitra's online state: the row lock every status writer takes
 * first, the status version, the `mitra_online_status` row, the audit trail, and the heartbeat's
 * database path. Lock order for every writer: the `mitras` row, then its `mitra_online_status` row.
 */
import { type SqlClient, SqlSchema } from "@effect/sql"
import { Schema } from "effect"
import { liveSessionsOf } from "../LiveSessions.js"
import { StatusEventName, StatusEventReason } from "../StatusEvent.js"


export const StatusEventRow = Schema.Struct({
  mitraId: Schema.String,
  event: StatusEventName,
  reason: StatusEventReason,
  actor: Schema.String,
  at: Schema.DateFromSelf
})

const StatusEventListRow = Schema.Struct({
  id: Schema.NumberFromString,
  event: StatusEventName,
  reason: StatusEventReason,
  actor: Schema.NullOr(Schema.String),
  at: Schema.DateFromSelf
})

const Locked = Schema.Struct({ isActive: Schema.Boolean, statusVersion: Schema.Number })

const Bumped = Schema.Struct({
  statusVersion: Schema.Number,
  isActive: Schema.Boolean,
  maxConcurrentSessions: Schema.NullOr(Schema.Number),
  liveSessions: Schema.Number
})

export const OfflineRequest = Schema.Struct({
  mitraId: Schema.String,
  at: Schema.DateFromSelf,
  /** Only if `last_heartbeat_at` is also older than this (or null): the stale sweep's condition. */
  heartbeatBefore: Schema.optionalWith(Schema.DateFromSelf, { exact: true })
})

const At = Schema.Struct({ mitraId: Schema.String, at: Schema.DateFromSelf })

export const statusQueries = (sql: SqlClient.SqlClient) => ({
  /** Locks the mitra's row (the first lock of every status writer): its active flag and status version. */
  lockMitra: SqlSchema.findOne({
    Request: Schema.String,
    Result: Locked,
    execute: (mitraId) => sql`
      SELECT is_active, status_version::float8 AS status_version FROM mitras WHERE id = ${mitraId} FOR UPDATE
    `
  }),

  /**
   * A status change: locks the row (if not held already) and takes the next status version, with
   * what going online needs to know (whether it may, and its capacity).
   */
  bumpStatusVersion: SqlSchema.findOne({
    Request: Schema.String,
    Result: Bumped,
    execute: (mitraId) => sql`
      UPDATE mitras m SET status_version = status_version + 1 WHERE id = ${mitraId}
      RETURNING m.status_version::float8 AS status_version, m.is_active, m.max_concurrent_sessions,
                ${liveSessionsOf("m.id")} AS live_sessions
    `
  }),

  /** `mitra_online_status.is_online`; None when the mitra never went online. */
  onlineFlag: SqlSchema.findOne({
    Request: Schema.String,
    Result: Schema.Struct({ isOnline: Schema.Boolean }),
    execute: (mitraId) => sql`SELECT is_online FROM mitra_online_status WHERE mitra_id = ${mitraId}`
  }),

  /** Online from `at`, which also counts as a heartbeat (never moves one backwards). */
  markOnline: SqlSchema.void({
    Request: At,
    execute: ({ at, mitraId }) => sql`
      INSERT INTO mitra_online_status (mitra_id, is_online, last_online_at, last_heartbeat_at, updated_at)
      VALUES (${mitraId}, true, ${at}, ${at}, ${at})
      ON CONFLICT (mitra_id) DO UPDATE SET
        is_online = true,
        last_online_at = CASE WHEN mitra_online_status.is_online THEN mitra_online_status.last_online_at
                              ELSE EXCLUDED.last_online_at END,
        last_heartbeat_at = GREATEST(mitra_online_status.last_heartbeat_at, EXCLUDED.last_heartbeat_at),
        updated_at = EXCLUDED.updated_at
    `
  }),

  /** Offline; Some when this statement changed the row (it was online, and stale enough if asked). */
  markOffline: SqlSchema.findOne({
    Request: OfflineRequest,
    Result: Schema.Struct({ mitraId: Schema.String }),
    execute: ({ at, heartbeatBefore, mitraId }) => sql`
      UPDATE mitra_online_status SET is_online = false, updated_at = ${at}
      WHERE mitra_id = ${mitraId} AND is_online
      ${heartbeatBefore === undefined ? sql`` : sql`AND (last_heartbeat_at IS NULL OR last_heartbeat_at < ${heartbeatBefore})`}
      RETURNING mitra_id
    `
  }),

  /** One row of the audit trail. */
  insertStatusEvent: SqlSchema.void({
    Request: StatusEventRow,
    execute: (event) => sql`
      INSERT INTO mitra_status_events (mitra_id, event, reason, actor, at)
      VALUES (${event.mitraId}, ${event.event}, ${event.reason}, ${event.actor}, ${event.at})
    `
  }),

  /** The mitra's audit history, newest first: events older than `before` (an event id), `limit` of them. */
  statusEventsOf: SqlSchema.findAll({
    Request: Schema.Struct({ mitraId: Schema.String, before: Schema.optionalWith(Schema.Number, { exact: true }), limit: Schema.Number }),
    Result: StatusEventListRow,
    execute: ({ before, limit, mitraId }) => sql`
      SELECT id, event, reason, actor, at FROM mitra_status_events
      WHERE mitra_id = ${mitraId} ${before === undefined ? sql`` : sql`AND id < ${before}`}
      ORDER BY id DESC
      LIMIT ${limit}
    `
  }),

  /**
   * The heartbeat's database path, in one statement: the mitra must exist (None otherwise); its
   * `last_heartbeat_at` moves forward only while it is active and online.
   */
  recordHeartbeat: SqlSchema.findOne({
    Request: At,
    Result: Schema.Struct({ isActive: Schema.Boolean, recorded: Schema.Boolean }),
    execute: ({ at, mitraId }) => sql`
      WITH m AS (SELECT id, is_active FROM mitras WHERE id = ${mitraId}),
      written AS (
        UPDATE mitra_online_status s
        SET last_heartbeat_at = GREATEST(s.last_heartbeat_at, ${at}), updated_at = ${at}
        FROM m
        WHERE s.mitra_id = m.id AND m.is_active AND s.is_online
        RETURNING s.mitra_id
      )
      SELECT m.is_active, EXISTS (SELECT 1 FROM written) AS recorded FROM m
    `
  }),

  /**
   * The heartbeat mirror's copy: every given time into `last_heartbeat_at` in ONE statement,
   * never moving a time backwards (idempotent across instances). The rows it moved forward.
   */
  copyHeartbeats: SqlSchema.findAll({
    Request: Schema.Struct({ mitraIds: Schema.Array(Schema.String), times: Schema.Array(Schema.DateFromSelf) }),
    Result: Schema.Struct({ mitraId: Schema.String }),
    execute: ({ mitraIds, times }) => sql`
      UPDATE mitra_online_status s
      SET last_heartbeat_at = v.at
      FROM unnest(${mitraIds}::uuid[], ${times}::timestamptz[]) AS v(id, at)
      WHERE s.mitra_id = v.id AND (s.last_heartbeat_at IS NULL OR s.last_heartbeat_at < v.at)
      RETURNING s.mitra_id
    `
  })
})
