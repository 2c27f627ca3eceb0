import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { CustomerAuthenticationLive } from "../auth/AuthenticationLive.js"
import { CurrentCustomer } from "../auth/Principals.js"
import { eventStreamHeaders } from "../events/EventStreamSchema.js"
import { SessionEventStream } from "../events/SessionEventStream.js"
import { RateLimiter } from "../ratelimit/RateLimiter.js"
import { Pairing } from "../sessions/Pairing.js"
import { SessionActions } from "../sessions/SessionActions.js"
import { SessionQueries } from "../sessions/SessionQueries.js"

export const CustomerSessionsHttpLive = HttpApiBuilder.group(Api, "customerSessions", (handlers) =>
  Effect.gen(function*() {
    const pairing = yield* Pairing
    const actions = yield* SessionActions
    const queries = yield* SessionQueries
    const limiter = yield* RateLimiter
    const events = yield* SessionEventStream
    const envelope = <A, E, R>(session: Effect.Effect<A, E, R>) => Effect.map(session, (session) => ({ session }))
    return handlers
      .handle("request", () =>
        Effect.gen(function*() {
          const { id } = yield* CurrentCustomer
          const admission = yield* limiter.consume("session_request_customer", id)
          // Only a request that opened a session counts: a 409 (one is open already) is given back.
          return { session: yield* pairing.request(id).pipe(Effect.tapError(() => admission.takeBack)) }
        }))
      .handle("list", ({ urlParams }) => Effect.flatMap(CurrentCustomer, ({ id }) => queries.pageOfCustomer(id, urlParams)))
      .handle("get", ({ path }) => envelope(Effect.flatMap(CurrentCustomer, ({ id }) => queries.ofCustomer(id, path.id))))
      .handle("cancel", ({ path }) => envelope(Effect.flatMap(CurrentCustomer, ({ id }) => actions.cancel(id, path.id))))
      .handle("extend", ({ path }) => envelope(Effect.flatMap(CurrentCustomer, ({ id }) => actions.extend(id, path.id))))
      .handle("end", ({ path }) => envelope(Effect.flatMap(CurrentCustomer, ({ id }) => actions.end({ customerId: id }, path.id))))
      .handle("events", ({ headers, path }) =>
        Effect.flatMap(CurrentCustomer, ({ id }) => events.open(id, path.id, headers["last-event-id"])).pipe(
          Effect.map((body) => HttpServerResponse.stream(body, { contentType: "text/event-stream", headers: eventStreamHeaders }))
        ))
  })).pipe(Layer.provide([
    Pairing.Default,
    SessionActions.Default,
    SessionQueries.Default,
    SessionEventStream.Default,
    RateLimiter.Default,
    CustomerAuthenticationLive
  ]))
