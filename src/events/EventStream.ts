/**
 * The shape every event stream shares (API.md, "Event streams"): the `retry:` hint at once (so
 * the client knows the stream is open before any event), registration with the hub, the state
 * read from Postgres, then live events — each with an `id:` — interleaved with the state re-read
 * whenever events may have been missed, and a keep-alive comment. When the client goes away the
 * HTTP server interrupts the stream, and its scope releases the registration.
 */
import { Clock, Duration, Effect, Metric, Schedule, Stream } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import type { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { ThrottledLog } from "../observability/ThrottledLog.js"
import type { SessionEvent } from "../sessions/SessionEvent.js"
import { catchUps, deliveryLag, eventsDelivered, type StreamKind } from "./EventMetrics.js"
import { eventFrame, eventId, keepAliveFrame, retryFrame } from "./Sse.js"
import { StreamHub, type Subject } from "./StreamHub.js"

/** What a catch-up or an event turns into: frames to write, and whether the stream ends after them. */
export interface Frames {
  readonly frames: ReadonlyArray<Uint8Array>
  readonly end: boolean
}

export interface StreamSpec {
  readonly subject: Subject
  readonly kind: StreamKind
  /**
   * The state from Postgres: everything that still matters, or — with `since` (epoch millis) —
   * also what changed since then. `id` makes an event id for a frame written now.
   */
  readonly catchUp: (since: number | undefined, id: () => string) => Effect.Effect<Frames, DatabaseUnavailable>
  /** A live event's frame for this stream, if it concerns the stream (may update the spec's state). */
  readonly render: (event: SessionEvent, id: string) => { readonly name: string; readonly frame: Uint8Array } | undefined
}

/**
 * How far before the client's last event a catch-up starts: the instances' clocks differ a little,
 * and an event sent twice is harmless (each carries a state, not a delta).
 */
export const catchUpSlackMillis = 30_000

export class EventStreams extends Effect.Service<EventStreams>()("mitra/EventStreams", {
  effect: Effect.gen(function*() {
    const hub = yield* StreamHub
    const log = yield* ThrottledLog
    const { events: settings } = yield* AppConfig

    const delivered = (name: string) => Metric.increment(Metric.tagged(eventsDelivered, "type", name))
    const now = Clock.currentTimeMillis

    /**
     * The stream of `spec`, for a client whose newest event was written at `lastEventAt` (its
     * `Last-Event-ID`), if it had one. Refused (503) up front when the instance is full; a stream
     * that loses the race for the last place ends at once, and its client reconnects.
     */
    const open = (spec: StreamSpec, lastEventAt: number | undefined) =>
      Effect.as(hub.checkRoom, stream(spec, lastEventAt))

    const stream = (spec: StreamSpec, lastEventAt: number | undefined): Stream.Stream<Uint8Array> => {
      const body = Effect.gen(function*() {
        const registration = yield* hub.register(spec.subject, spec.kind)
        let lastSeen = lastEventAt

        const catchUp = (reason: "connect" | "transport_reconnected" | "degraded") =>
          Effect.gen(function*() {
            const startedAt = yield* now
            yield* Metric.increment(Metric.tagged(catchUps, "reason", reason))
            const since = lastSeen === undefined ? undefined : lastSeen - catchUpSlackMillis
            const result = yield* spec.catchUp(since, () => eventId(startedAt))
            lastSeen = Math.max(lastSeen ?? 0, startedAt)
            return result
          }).pipe(
            // Postgres failed: end the stream; the client reconnects after `retry` and catches up then.
            Effect.catchAll((error) =>
              log.warning("event-streams", "An event stream could not read its state; closing it so the client reconnects", error).pipe(
                Effect.as<Frames>({ frames: [], end: true })
              )
            )
          )

        const first = yield* catchUp("connect")
        if (first.end) return Stream.fromIterable(first.frames)

        const live = Stream.fromQueue(registration.items).pipe(
          Stream.mapEffect((item): Effect.Effect<Frames> => {
            switch (item._tag) {
              case "CatchUp":
                return catchUp(item.reason)
              case "Close":
                return item.reason === "replaced"
                  ? Effect.map(now, (at) => ({ frames: [eventFrame(eventId(at), "stream_closed", { reason: "replaced" })], end: true }))
                  : Effect.succeed({ frames: [], end: true })
              case "Event": {
                const rendered = spec.render(item.event, eventId(item.publishedAt))
                if (rendered === undefined) return Effect.succeed({ frames: [], end: false })
                lastSeen = Math.max(lastSeen ?? 0, item.publishedAt)
                return Effect.gen(function*() {
                  yield* Metric.update(deliveryLag, Math.max(0, (yield* now) - item.publishedAt) / 1000)
                  yield* delivered(rendered.name)
                  return { frames: [rendered.frame], end: false }
                })
              }
            }
          }),
          Stream.takeUntil((frames) => frames.end),
          Stream.flatMap((frames) => Stream.fromIterable(frames.frames))
        )
        const keepAlive = Stream.fromSchedule(Schedule.spaced(settings.keepAlive)).pipe(Stream.as(keepAliveFrame))
        return Stream.merge(Stream.concat(Stream.fromIterable(first.frames), live), keepAlive, { haltStrategy: "left" })
      })
      return Stream.concat(
        Stream.succeed(retryFrame(Duration.toMillis(settings.retry))),
        Stream.unwrapScoped(Effect.catchTag(body, "TooManyStreams", () => Effect.succeed(Stream.empty)))
      )
    }

    return { open } as const
  }),
  dependencies: [StreamHub.Default, ThrottledLog.Default]
}) {}
