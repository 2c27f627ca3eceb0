/**
 * `auth_sessions` and `auth_session_rotated_tokens`: every statement about refresh sessions. Only
 * hashes of refresh tokens ever reach it; the rotation's policy (what a reuse means, what may still
 * sign in) is `RefreshSessions`'.
 */
import { SqlClient, SqlSchema, type Statement } from "@effect/sql"
import { Effect, Schema } from "effect"
import { repository } from "../db/Repository.js"
import { SubjectKind } from "./Principals.js"
import { RevokedReason } from "./RevokedReason.js"

/** A session whose token was just rotated. */
export const RotatedRow = Schema.Struct({ id: Schema.String, subjectKind: SubjectKind, subjectId: Schema.String })

const SessionId = Schema.Struct({ id: Schema.String })

/** One pruning batch: rows older than `before`, at most `limit` of them. */
const PruneBatch = Schema.Struct({ before: Schema.DateFromSelf, limit: Schema.Int })
const Deleted = Schema.Struct({ n: Schema.Int })

export class AuthSessionsRepo extends Effect.Service<AuthSessionsRepo>()("mitra/AuthSessionsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const expiresIn = (ttlSeconds: number) => sql`now() + ${ttlSeconds} * interval '1 second'`

    /** A pruning `DELETE`, counted: how many rows one batch deleted. */
    const countDeleted = (batch: Statement.Fragment) =>
      sql`WITH deleted AS (${batch} RETURNING 1) SELECT count(*)::int AS n FROM deleted`

    const pruneBatch = (statement: (request: typeof PruneBatch.Encoded) => Statement.Fragment) =>
      (request: typeof PruneBatch.Type) =>
        SqlSchema.single({ Request: PruneBatch, Result: Deleted, execute: (r) => countDeleted(statement(r)) })(request).pipe(
          Effect.map((row) => row.n),
          // `SELECT count(*)` always returns its row.
          Effect.catchTag("NoSuchElementException", Effect.die)
        )

    /** `revoked_at` or `expires_at`, whichever came first, before `before`. */
    const endedBefore = (before: Date) => sql`LEAST(revoked_at, expires_at) < ${before}`

    return repository({
      /** Opens a session holding the hash of its first refresh token. */
      create: SqlSchema.void({
        Request: Schema.Struct({ kind: SubjectKind, subjectId: Schema.String, tokenHash: Schema.String, ttlSeconds: Schema.Int }),
        execute: ({ kind, subjectId, tokenHash, ttlSeconds }) =>
          sql`
            INSERT INTO auth_sessions (subject_kind, subject_id, refresh_token_hash, expires_at)
            VALUES (${kind}, ${subjectId}, ${tokenHash}, ${expiresIn(ttlSeconds)})
          `
      }),

      /**
       * Swaps a live session's current hash for the next one and slides its expiry; None when the
       * presented hash is no live session's current one. One conditional UPDATE: of two racing
       * rotations with one token, exactly one wins.
       */
      rotate: SqlSchema.findOne({
        Request: Schema.Struct({ presentedHash: Schema.String, nextHash: Schema.String, ttlSeconds: Schema.Int }),
        Result: RotatedRow,
        execute: ({ nextHash, presentedHash, ttlSeconds }) =>
          sql`
            UPDATE auth_sessions
            SET refresh_token_hash = ${nextHash}, expires_at = ${expiresIn(ttlSeconds)}
            WHERE refresh_token_hash = ${presentedHash} AND revoked_at IS NULL AND expires_at > now()
            RETURNING id, subject_kind, subject_id
          `
      }),

      /** Remembers a rotated-out hash, so presenting it again is recognised as reuse. */
      rememberRotated: SqlSchema.void({
        Request: Schema.Struct({ tokenHash: Schema.String, sessionId: Schema.String }),
        execute: ({ sessionId, tokenHash }) =>
          sql`INSERT INTO auth_session_rotated_tokens (refresh_token_hash, session_id) VALUES (${tokenHash}, ${sessionId})`
      }),

      /** Ends one session by id. */
      revokeSession: SqlSchema.void({
        Request: Schema.Struct({ sessionId: Schema.String, reason: RevokedReason }),
        execute: ({ reason, sessionId }) =>
          sql`UPDATE auth_sessions SET revoked_at = now(), revoked_reason = ${reason} WHERE id = ${sessionId}`
      }),

      /** Ends the live session a rotated-out hash belongs to (`refresh_token_reused`); the sessions ended. */
      revokeReused: SqlSchema.findAll({
        Request: Schema.String,
        Result: SessionId,
        execute: (presentedHash) =>
          sql`
            UPDATE auth_sessions s SET revoked_at = now(), revoked_reason = 'refresh_token_reused'
            FROM auth_session_rotated_tokens r
            WHERE r.refresh_token_hash = ${presentedHash} AND s.id = r.session_id AND s.revoked_at IS NULL
            RETURNING s.id
          `
      }),

      /** Ends the live session a hash belongs to, as its current or an already rotated-out token. */
      revokeByToken: SqlSchema.void({
        Request: Schema.Struct({ tokenHash: Schema.String, reason: RevokedReason }),
        execute: ({ reason, tokenHash }) =>
          sql`
            UPDATE auth_sessions SET revoked_at = now(), revoked_reason = ${reason}
            WHERE revoked_at IS NULL AND (
              refresh_token_hash = ${tokenHash}
              OR id = (SELECT session_id FROM auth_session_rotated_tokens WHERE refresh_token_hash = ${tokenHash})
            )
          `
      }),

      /** Ends every live session of a subject; the sessions ended. */
      revokeAllOf: SqlSchema.findAll({
        Request: Schema.Struct({ kind: SubjectKind, subjectId: Schema.String, reason: RevokedReason }),
        Result: SessionId,
        execute: ({ kind, reason, subjectId }) =>
          sql`
            UPDATE auth_sessions SET revoked_at = now(), revoked_reason = ${reason}
            WHERE subject_kind = ${kind} AND subject_id = ${subjectId} AND revoked_at IS NULL
            RETURNING id
          `
      }),

      /** Pruning, one batch: rotated-token rows rotated out before `before`; how many went. */
      deleteRotatedBefore: pruneBatch(({ before, limit }) =>
        sql`
          DELETE FROM auth_session_rotated_tokens WHERE refresh_token_hash IN (
            SELECT refresh_token_hash FROM auth_session_rotated_tokens WHERE rotated_at < ${before} LIMIT ${limit}
          )
        `
      ),

      /** Pruning, one batch: rotated-token rows of sessions that ended before `before`. */
      deleteRotatedOfSessionsEndedBefore: pruneBatch(({ before, limit }) =>
        sql`
          DELETE FROM auth_session_rotated_tokens WHERE refresh_token_hash IN (
            SELECT r.refresh_token_hash FROM auth_session_rotated_tokens r
            WHERE r.session_id IN (SELECT id FROM auth_sessions WHERE ${endedBefore(before)})
            LIMIT ${limit}
          )
        `
      ),

      /** Pruning, one batch: sessions that ended before `before`. */
      deleteSessionsEndedBefore: pruneBatch(({ before, limit }) =>
        sql`DELETE FROM auth_sessions WHERE id IN (SELECT id FROM auth_sessions WHERE ${endedBefore(before)} LIMIT ${limit})`
      )
    })
  })
}) {}
