/**
 * Refresh-token sessions: one row per sign-in holding only the SHA-256 of its current token,
 * rotated on every refresh, the replaced hashes remembered so that a replayed token revokes the
 * whole session (docs/auth.md, "Refresh tokens and sessions").
 */
import { Duration, Effect, Option } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { AppConfig } from "../config/AppConfig.js"
import type { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { Transactions } from "../db/Repository.js"
import { Unauthorized } from "./AuthErrors.js"
import { AuthSessionsRepo } from "./AuthSessionsRepo.js"
import type { SubjectKind } from "./Principals.js"
import type { RevokedReason } from "./RevokedReason.js"

export interface RotatedSession {
  readonly sessionId: string
  readonly kind: SubjectKind
  readonly subjectId: string
  readonly refreshToken: string
}

/** What `pruneEnded` deleted. */
export interface PrunedSessions {
  readonly sessions: number
  readonly rotatedTokens: number
}

/**
 * Rows one pruning statement deletes at most: a backlog (a first run after years) is worked off
 * in many short statements, never one that holds its locks and WAL for minutes.
 */
export const pruneBatchSize = 5000

const newRefreshToken = () => randomBytes(32).toString("base64url")

export const hashRefreshToken = (token: string) => createHash("sha256").update(token, "utf8").digest("hex")

/** The one answer to any refresh token that cannot be used: unknown, expired, revoked or reused. */
export const invalidRefreshToken = new Unauthorized({ message: "Invalid, expired or revoked refresh token" })

export class RefreshSessions extends Effect.Service<RefreshSessions>()("mitra/RefreshSessions", {
  effect: Effect.gen(function*() {
    const repo = yield* AuthSessionsRepo
    const transactions = yield* Transactions
    const { auth } = yield* AppConfig
    const ttlSeconds = Math.floor(Duration.toSeconds(auth.refreshTokenTtl))

    /** Opens a session for a subject that just proved who it is; returns its first refresh token. */
    const create = Effect.fn("RefreshSessions.create")(function*(kind: SubjectKind, subjectId: string) {
      yield* Effect.annotateCurrentSpan({ "subject.kind": kind, "subject.id": subjectId })
      const refreshToken = newRefreshToken()
      yield* repo.create({ kind, subjectId, tokenHash: hashRefreshToken(refreshToken), ttlSeconds })
      return refreshToken
    })

    /**
     * Exchanges a live refresh token for a new one (its expiry slides to a full TTL from now).
     * A token already rotated out revokes its session; every failure is the same 401.
     *
     * The rotation is one conditional UPDATE, so two refreshes racing with one token cannot both
     * win: the loser finds the token among the rotated ones and revokes the session, as for any
     * replay.
     *
     * `stillAllowed` (may the session's subject still sign in?) runs inside the same transaction,
     * after the UPDATE has locked the session row. If it says no, the session is revoked
     * (`subject_inactive`) and the answer is 401; if it fails (Postgres down), nothing commits, so
     * the presented token stays current and the client's retry is not mistaken for a replay.
     */
    const rotate = Effect.fn("RefreshSessions.rotate")(function*<E>(
      refreshToken: string,
      stillAllowed: (kind: SubjectKind, subjectId: string) => Effect.Effect<boolean, E>
    ) {
      const presented = hashRefreshToken(refreshToken)
      const next = newRefreshToken()
      const outcome = yield* transactions.run(Effect.gen(function*() {
        const rotated = yield* repo.rotate({ presentedHash: presented, nextHash: hashRefreshToken(next), ttlSeconds })
        if (Option.isSome(rotated)) {
          const session = rotated.value
          yield* repo.rememberRotated({ tokenHash: presented, sessionId: session.id })
          if (!(yield* stillAllowed(session.subjectKind, session.subjectId))) {
            yield* repo.revokeSession({ sessionId: session.id, reason: "subject_inactive" })
            return { _tag: "SubjectInactive" } as const
          }
          return { _tag: "Rotated", session } as const
        }
        const reused = yield* repo.revokeReused(presented)
        return { _tag: reused.length > 0 ? "Reused" : "Invalid" } as const
      }))
      if (outcome._tag === "Reused") {
        yield* Effect.logWarning("A rotated-out refresh token was presented again; its session is revoked")
      }
      if (outcome._tag !== "Rotated") return yield* invalidRefreshToken
      yield* Effect.annotateCurrentSpan({ "subject.kind": outcome.session.subjectKind, "subject.id": outcome.session.subjectId })
      return {
        sessionId: outcome.session.id,
        kind: outcome.session.subjectKind,
        subjectId: outcome.session.subjectId,
        refreshToken: next
      } satisfies RotatedSession
    })

    /**
     * Ends the session a refresh token belongs to (its current or an already-rotated token).
     * Idempotent: an unknown or already revoked token changes nothing.
     */
    const revoke = Effect.fn("RefreshSessions.revoke")(function*(refreshToken: string, reason: RevokedReason) {
      yield* repo.revokeByToken({ tokenHash: hashRefreshToken(refreshToken), reason })
    })

    /**
     * Ends every live session of a subject; returns how many. Joins the caller's transaction when
     * called inside one (deactivation revokes in the same transaction that flips the flag).
     */
    const revokeAllOf = Effect.fn("RefreshSessions.revokeAllOf")(
      function*(kind: SubjectKind, subjectId: string, reason: RevokedReason) {
        yield* Effect.annotateCurrentSpan({ "subject.kind": kind, "subject.id": subjectId })
        const revoked = yield* repo.revokeAllOf({ kind, subjectId, reason })
        return revoked.length
      }
    )

    /** Runs one pruning batch (`before`, `pruneBatchSize`) until it deletes fewer; the total. */
    const deleteInBatches = (
      batch: (request: { readonly before: Date; readonly limit: number }) => Effect.Effect<number, DatabaseUnavailable>,
      before: Date
    ) =>
      Effect.iterate({ total: 0, last: pruneBatchSize }, {
        while: ({ last }) => last >= pruneBatchSize,
        body: ({ total }) => Effect.map(batch({ before, limit: pruneBatchSize }), (n) => ({ total: total + n, last: n }))
      }).pipe(Effect.map(({ total }) => total))

    /**
     * Deletes what no longer serves a purpose, in batches of `pruneBatchSize` (each its own
     * statement, outside any transaction):
     * 1. rotated-token rows older than `rotatedBefore` (the refresh TTL ago: such a token would
     *    have expired by now even unrotated, so a replay of it is worthless to a thief);
     * 2. rotated-token rows of sessions that ended before `endedBefore` — deleted first, in
     *    batches of their own, so deleting a session never cascades to thousands of them at once;
     * 3. sessions that ended (revoked or expired) before `endedBefore`.
     * Live sessions and recently ended ones stay, with the rotated tokens that reuse detection
     * still needs. Idempotent and safe on several instances at once.
     */
    const pruneEnded = Effect.fn("RefreshSessions.pruneEnded")(function*(endedBefore: Date, rotatedBefore: Date) {
      const oldRotated = yield* deleteInBatches(repo.deleteRotatedBefore, rotatedBefore)
      const ofEndedSessions = yield* deleteInBatches(repo.deleteRotatedOfSessionsEndedBefore, endedBefore)
      const sessions = yield* deleteInBatches(repo.deleteSessionsEndedBefore, endedBefore)
      return { sessions, rotatedTokens: oldRotated + ofEndedSessions } satisfies PrunedSessions
    })

    return { create, rotate, revoke, revokeAllOf, pruneEnded }
  }),
  dependencies: [AuthSessionsRepo.Default, Transactions.Default]
}) {}
