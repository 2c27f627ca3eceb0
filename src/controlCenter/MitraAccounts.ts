/**
 * Mitra accounts as the control center manages them: create, list, read, edit, and
 * (de)activate. Reads show the durable state in Postgres, not the Valkey mirror.
 */
import { Clock, Effect, Option, Schema } from "effect"
import { hashPassword } from "../auth/Passwords.js"
import { RefreshSessions } from "../auth/RefreshSessions.js"
import { Capacity } from "../availability/Capacity.js"
import { MitraStatus } from "../availability/MitraStatus.js"
import { Transactions } from "../db/Repository.js"
import { defaultPageSize, maxPageSize, type Mitra, MitraCursor, type MitraRow } from "../mitras/Mitra.js"
import { DuplicatePhone, MitraNotFound } from "../mitras/MitraErrors.js"
import { MitrasRepo } from "../mitras/MitrasRepo.js"
import { StatusEvent, StatusEventCursor, type StatusEventListParams, statusEventPageSize } from "../mitras/StatusEvent.js"
import { MitraDeactivated } from "../sessions/SessionEvent.js"
import { SessionEvents } from "../sessions/SessionEvents.js"
import { SessionRerouting } from "../sessions/SessionRerouting.js"

export interface MitraListQuery {
  readonly online?: boolean
  readonly active?: boolean
  readonly limit?: number
  readonly cursor?: typeof MitraCursor.Type
}

export interface NewMitra {
  readonly displayName: string
  readonly phone: string
  readonly password: string
  readonly maxConcurrentSessions?: number | null
}

export interface MitraProfilePatch {
  readonly displayName?: string
  readonly password?: string
  readonly maxConcurrentSessions?: number | null
}

/** What one activation request did, as committed. */
export interface MitraActivationChange {
  readonly mitraId: string
  /** The state now committed. */
  readonly isActive: boolean
  /** False when the mitra already had this state (nothing was written). */
  readonly changed: boolean
  /** This deactivation took an online mitra offline (its `mitra_online_status` row flipped). */
  readonly wentOffline: boolean
  /** The control-center user who asked. */
  readonly actor: string
  /** `mitras.status_version` of the committed state (read under the row lock when unchanged). */
  readonly statusVersion: number
}

const toMitra = ({ createdMicros: _, ...mitra }: typeof MitraRow.Type): Mitra => mitra

export class MitraAccounts extends Effect.Service<MitraAccounts>()("mitra/MitraAccounts", {
  effect: Effect.gen(function*() {
    const repo = yield* MitrasRepo
    const transactions = yield* Transactions
    const sessions = yield* RefreshSessions
    const status = yield* MitraStatus
    const capacity = yield* Capacity
    const rerouting = yield* SessionRerouting
    const events = yield* SessionEvents

    const notFound = (mitraId: string) => new MitraNotFound({ message: "No such mitra", mitraId })

    const get = Effect.fn("MitraAccounts.get")(function*(mitraId: string) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const row = yield* repo.findById(mitraId)
      if (Option.isNone(row)) return yield* notFound(mitraId)
      return toMitra(row.value)
    })

    /** Newest first; keyset pagination on (created_at, id), stable under concurrent inserts. */
    const list = Effect.fn("MitraAccounts.list")(function*(query: MitraListQuery) {
      const limit = Math.min(query.limit ?? defaultPageSize, maxPageSize)
      const rows = yield* repo.list({
        limit: limit + 1,
        ...(query.online === undefined ? {} : { online: query.online }),
        ...(query.active === undefined ? {} : { active: query.active }),
        ...(query.cursor === undefined ? {} : { after: query.cursor })
      })
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      return {
        items: page.map(toMitra),
        nextCursor: rows.length > limit && last !== undefined
          ? Schema.encodeSync(MitraCursor)([last.createdMicros, last.id])
          : null
      }
    })

    const create = Effect.fn("MitraAccounts.create")(function*(mitra: NewMitra) {
      const passwordHash = yield* hashPassword(mitra.password)
      const created = yield* repo.insert({
        displayName: mitra.displayName,
        phone: mitra.phone,
        passwordHash,
        maxConcurrentSessions: mitra.maxConcurrentSessions ?? null
      })
      if (Option.isNone(created)) {
        return yield* new DuplicatePhone({ message: "A mitra with this phone number already exists", phone: mitra.phone })
      }
      yield* Effect.annotateCurrentSpan("mitra.id", created.value.id)
      return yield* get(created.value.id).pipe(Effect.catchTag("MitraNotFound", Effect.die))
    })

    /**
     * Display name, password, capacity. A new password ends the mitra's sessions (it signs in
     * again); a new maximum is mirrored at once (the capacity key and the free index with it).
     */
    const updateProfile = Effect.fn("MitraAccounts.updateProfile")(function*(mitraId: string, patch: MitraProfilePatch) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const { password, ...fields } = patch
      const passwordHash = password === undefined ? undefined : yield* hashPassword(password)
      const changes = { ...fields, ...(passwordHash === undefined ? {} : { passwordHash }) }
      if (Object.keys(changes).length === 0) return
      const updated = yield* transactions.run(Effect.gen(function*() {
        const row = yield* repo.updateProfile({ mitraId, ...changes })
        if (Option.isSome(row) && passwordHash !== undefined) {
          yield* sessions.revokeAllOf("mitra", mitraId, "password_changed")
        }
        return Option.isSome(row)
      }))
      if (!updated) return yield* notFound(mitraId)
      if (fields.maxConcurrentSessions !== undefined) {
        // Committed already: a failure to recount is logged, and the reconciliation sweep heals it.
        yield* capacity.recomputeCapacityForMitra(mitraId).pipe(
          Effect.catchAllCause((cause) => Effect.logWarning("Could not recompute capacity after a new maximum", cause))
        )
      }
    })

    /**
     * THE activation change (ARCHITECTURE.md section 3, `updateMitraStatus`). In one transaction:
     * flip `mitras.is_active` (and bump its status version); on deactivation also revoke every
     * `auth_sessions` row of the mitra (its refresh tokens die now; access tokens are refused by
     * `MitraAuthentication`, which reads `is_active`) and take it offline; write the audit events.
     * Then, after the commit: the mirror (`mitras:deactivated`, at the committed version), and on
     * deactivation the mitra's open offers withdrawn and live sessions rerouted.
     *
     * The row lock serialises concurrent activation changes of one mitra with every other status
     * writer. Uninterruptible: a client hanging up between the commit and the follow-up must not
     * leave the mirror behind the truth.
     */
    const setActive = Effect.fn("MitraAccounts.setActive")(function*(mitraId: string, isActive: boolean, actor: string) {
      yield* Effect.annotateCurrentSpan({ "mitra.id": mitraId, "mitra.is_active": isActive })
      const change = yield* transactions.run(Effect.gen(function*() {
        const current = yield* repo.lockMitra(mitraId)
        if (Option.isNone(current)) return yield* notFound(mitraId)
        const unchanged: MitraActivationChange = {
          mitraId,
          isActive,
          changed: false,
          wentOffline: false,
          actor,
          statusVersion: current.value.statusVersion
        }
        if (current.value.isActive === isActive) return unchanged
        const { statusVersion } = yield* repo.setActiveFlag({ mitraId, isActive })
        const at = new Date(yield* Clock.currentTimeMillis)
        const changed = { ...unchanged, changed: true, statusVersion }
        if (isActive) {
          yield* repo.insertStatusEvent({ mitraId, event: "reactivated", reason: "admin", actor, at })
          return changed
        }
        yield* sessions.revokeAllOf("mitra", mitraId, "mitra_deactivated")
        const offline = yield* repo.markOffline({ mitraId, at })
        yield* repo.insertStatusEvent({ mitraId, event: "deactivated", reason: "admin", actor, at })
        if (Option.isSome(offline)) {
          yield* repo.insertStatusEvent({ mitraId, event: "offline", reason: "deactivated", actor, at })
        }
        return { ...changed, wentOffline: Option.isSome(offline) }
      }))
      // Called also when nothing changed: the mirror step is idempotent and re-asserts the state.
      // Committed already: whatever happens after this point is logged, never the request's failure.
      yield* status.mirrorActiveFlag(mitraId, change.isActive, change.statusVersion).pipe(
        Effect.catchAllDefect((defect) =>
          Effect.logError("Mirroring a mitra's activation failed after commit; a mirror reseed will correct it", defect)
        )
      )
      if (!change.isActive) {
        yield* rerouting.rerouteLiveSessionsOf(mitraId, "deactivated").pipe(
          Effect.catchAllCause((cause) =>
            Effect.logError("Rerouting a deactivated mitra's sessions failed after commit; the session deadline sweep reroutes orphaned sessions", cause)
          )
        )
        // Its event streams end, on whichever instance they are open.
        yield* events.publish([new MitraDeactivated({ mitraId })])
      }
      return change
    }, Effect.uninterruptible)

    /**
     * PATCH: the profile fields, then the activation through `setActive` (the one place that
     * changes it). Two transactions; a PATCH is idempotent, so a retry after a failure converges.
     */
    const update = Effect.fn("MitraAccounts.update")(
      function*(mitraId: string, patch: MitraProfilePatch & { readonly isActive?: boolean }, actor: string) {
        const { isActive, ...profile } = patch
        yield* updateProfile(mitraId, profile)
        if (isActive !== undefined) yield* setActive(mitraId, isActive, actor)
        return yield* get(mitraId)
      }
    )

    /** The mitra's audit history (online, offline, deactivated, reactivated), newest first. 404 for no such mitra. */
    const statusEvents = Effect.fn("MitraAccounts.statusEvents")(function*(mitraId: string, query: StatusEventListParams) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      if (Option.isNone(yield* repo.activeFlag(mitraId))) return yield* notFound(mitraId)
      const limit = Math.min(query.limit ?? statusEventPageSize.default, statusEventPageSize.max)
      const rows = yield* repo.statusEventsOf({ mitraId, limit: limit + 1, ...(query.cursor === undefined ? {} : { before: query.cursor }) })
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      return {
        items: page.map(({ id: _, ...event }) => new StatusEvent(event)),
        nextCursor: rows.length > limit && last !== undefined ? Schema.encodeSync(StatusEventCursor)(last.id) : null
      }
    })

    return { get, list, create, update, updateProfile, setActive, statusEvents }
  }),
  dependencies: [
    MitrasRepo.Default,
    Transactions.Default,
    RefreshSessions.Default,
    MitraStatus.Default,
    Capacity.Default,
    SessionRerouting.Default
  ]
}) {}
