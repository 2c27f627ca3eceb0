/** Reading sessions: a customer's and a mitra's own (newest first), and the control center's view. */
import { Effect, Option, Schema } from "effect"
import { type SessionListParams, sessionPageSize, SessionCursor, OfferRecord, type SessionStatus } from "./ChatSession.js"
import { type ChatSessionRow, ChatSessionsRepo, toChatSession } from "./ChatSessionsRepo.js"
import { SessionNotFound } from "./SessionErrors.js"

/** The control center's filters. */
export interface SessionFilters extends SessionListParams {
  readonly mitraId?: string
  readonly customerId?: string
}

const limitOf = (params: SessionListParams) => Math.min(params.limit ?? sessionPageSize.default, sessionPageSize.max)

/** What the repository needs for one more row than the page (to learn whether there is a next one). */
const pageRequest = (params: SessionListParams) => ({
  limit: limitOf(params) + 1,
  ...(params.status === undefined ? {} : { status: params.status as SessionStatus }),
  ...(params.cursor === undefined ? {} : { after: params.cursor })
})

const toPage = (params: SessionListParams) => (rows: ReadonlyArray<ChatSessionRow>) => {
  const limit = limitOf(params)
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    items: page.map(toChatSession),
    nextCursor: rows.length > limit && last !== undefined ? Schema.encodeSync(SessionCursor)([last.requestedMicros, last.id]) : null
  }
}

export class SessionQueries extends Effect.Service<SessionQueries>()("mitra/SessionQueries", {
  effect: Effect.gen(function*() {
    const repo = yield* ChatSessionsRepo
    const notFound = (sessionId: string) => new SessionNotFound({ message: "No such session", sessionId })

    /** The customer's own session (another customer's is a 404, as if it did not exist). */
    const ofCustomer = Effect.fn("SessionQueries.ofCustomer")(function*(customerId: string, sessionId: string) {
      const found = yield* repo.findById(sessionId)
      if (Option.isNone(found) || found.value.customerId !== customerId) return yield* notFound(sessionId)
      return toChatSession(found.value)
    })

    const pageOfCustomer = Effect.fn("SessionQueries.pageOfCustomer")(function*(customerId: string, params: SessionListParams) {
      return toPage(params)(yield* repo.pageOfCustomer({ customerId, ...pageRequest(params) }))
    })

    const pageOfMitra = Effect.fn("SessionQueries.pageOfMitra")(function*(mitraId: string, params: SessionListParams) {
      return toPage(params)(yield* repo.pageOfMitra({ mitraId, ...pageRequest(params) }))
    })

    const page = Effect.fn("SessionQueries.page")(function*(filters: SessionFilters) {
      return toPage(filters)(yield* repo.page({
        ...pageRequest(filters),
        ...(filters.mitraId === undefined ? {} : { mitraId: filters.mitraId }),
        ...(filters.customerId === undefined ? {} : { customerId: filters.customerId })
      }))
    })

    /** A session with every offer made of it. */
    const withOffers = Effect.fn("SessionQueries.withOffers")(function*(sessionId: string) {
      const found = yield* repo.findById(sessionId)
      if (Option.isNone(found)) return yield* notFound(sessionId)
      const offers = yield* repo.offersOf(sessionId)
      return { session: toChatSession(found.value), offers: offers.map((offer) => new OfferRecord(offer)) }
    })

    return { ofCustomer, pageOfCustomer, pageOfMitra, page, withOffers } as const
  }),
  dependencies: [ChatSessionsRepo.Default]
}) {}
