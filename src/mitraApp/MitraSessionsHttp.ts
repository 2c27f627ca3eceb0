import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { MitraAuthenticationLive } from "../auth/AuthenticationLive.js"
import { CurrentMitra } from "../auth/Principals.js"
import { eventStreamHeaders } from "../events/EventStreamSchema.js"
import { MitraEventStream } from "../events/MitraEventStream.js"
import { Pairing } from "../sessions/Pairing.js"
import { SessionActions } from "../sessions/SessionActions.js"
import { SessionQueries } from "../sessions/SessionQueries.js"

export const MitraSessionsHttpLive = HttpApiBuilder.group(Api, "mitraSessions", (handlers) =>
  Effect.gen(function*() {
    const pairing = yield* Pairing
    const actions = yield* SessionActions
    const queries = yield* SessionQueries
    const events = yield* MitraEventStream
    return handlers
      .handle("offers", () => Effect.flatMap(CurrentMitra, ({ id }) => pairing.openOffers(id)).pipe(Effect.map((items) => ({ items }))))
      .handle("decline", ({ path }) => Effect.flatMap(CurrentMitra, ({ id }) => pairing.decline(id, path.sessionId)))
      .handle("accept", ({ path }) =>
        Effect.flatMap(CurrentMitra, ({ id }) => pairing.accept(id, path.id)).pipe(Effect.map((session) => ({ session }))))
      .handle("end", ({ path }) =>
        Effect.flatMap(CurrentMitra, ({ id }) => actions.end({ mitraId: id }, path.id)).pipe(Effect.map((session) => ({ session }))))
      .handle("list", ({ urlParams }) => Effect.flatMap(CurrentMitra, ({ id }) => queries.pageOfMitra(id, urlParams)))
      .handle("events", ({ headers }) =>
        Effect.flatMap(CurrentMitra, ({ id }) => events.open(id, headers["last-event-id"])).pipe(
          Effect.map((body) => HttpServerResponse.stream(body, { contentType: "text/event-stream", headers: eventStreamHeaders }))
        ))
  })).pipe(Layer.provide([
    Pairing.Default,
    SessionActions.Default,
    SessionQueries.Default,
    MitraEventStream.Default,
    MitraAuthenticationLive
  ]))
