/**
 * The availability reads: the mirror first (Valkey, or memory), Postgres when the mirror fails
 * (`Fallback`). Both paths get the same `AvailabilityQuery` — one clock reading, one settings
 * value — so they answer the same question.
 */
import { Clock, Effect } from "effect"
import type { AvailabilityQuery } from "../mitras/MitraAvailability.js"
import { MitrasRepo } from "../mitras/MitrasRepo.js"
import { AvailabilitySettings } from "../settings/AvailabilitySettings.js"
import { Fallback } from "./Fallback.js"
import { AvailabilityStore } from "./store/AvailabilityStore.js"

export class Availability extends Effect.Service<Availability>()("mitra/Availability", {
  effect: Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const repo = yield* MitrasRepo
    const settings = yield* AvailabilitySettings
    const fallback = yield* Fallback

    /** Now, as both paths will judge it. */
    const currentQuery = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const value = yield* settings.current
      return {
        freshSince: new Date(now - value.heartbeatStaleSeconds * 1000),
        defaultMaxSessions: value.maxSessionsPerMitra,
        defaultMaxVersion: value.maxSessionsVersion
      } satisfies AvailabilityQuery
    })

    const countInPostgres = (query: AvailabilityQuery) => Effect.map(repo.countAvailable(query), (row) => row.n)

    /** Online, not deactivated, heartbeat fresh (capacity aside: a busy mitra is still reachable). */
    const isMitraReachable = Effect.fn("Availability.isMitraReachable")(function*(mitraId: string) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const { freshSince } = yield* currentQuery
      return yield* fallback.read(
        "isMitraReachable",
        store.isReachable(mitraId, freshSince),
        Effect.map(repo.isReachable({ mitraId, freshSince }), (row) => row.reachable)
      )
    })

    /** Every mitra that can take a customer now: online, active, fresh, below capacity. No order. */
    const findAvailableMitras = Effect.fn("Availability.findAvailableMitras")(function*() {
      const query = yield* currentQuery
      const ids = yield* fallback.read(
        "findAvailableMitras",
        store.findAvailable(query),
        Effect.map(repo.findAvailable(query), (rows) => rows.map((row) => row.id))
      )
      yield* Effect.annotateCurrentSpan("availability.count", ids.length)
      return ids
    })

    /** The beacon's number, computed now (no snapshot). */
    const countAvailableMitras = Effect.fn("Availability.countAvailableMitras")(function*() {
      const query = yield* currentQuery
      return yield* fallback.read("countAvailableMitras", store.countAvailable(query), countInPostgres(query))
    })

    /** The same number from Postgres alone: for a caller that already knows Valkey is failing. */
    const countAvailableMitrasInPostgres = Effect.fn("Availability.countAvailableMitrasInPostgres")(function*() {
      yield* Effect.annotateCurrentSpan("availability.source", "postgres")
      return yield* countInPostgres(yield* currentQuery)
    })

    /** SCARD mitras:online. */
    const countOnlineMitras = Effect.fn("Availability.countOnlineMitras")(function*() {
      return yield* fallback.read("countOnlineMitras", store.countOnline, Effect.map(repo.countOnline, (row) => row.n))
    })

    return {
      isMitraReachable,
      findAvailableMitras,
      countAvailableMitras,
      countAvailableMitrasInPostgres,
      countOnlineMitras
    } as const
  }),
  dependencies: [MitrasRepo.Default, AvailabilitySettings.Default, Fallback.Default]
}) {}
