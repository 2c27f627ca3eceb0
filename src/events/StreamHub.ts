/**
 * This instance's open event streams, keyed by who they are for (`mitra:<id>`, `customer:<id>`),
 * and the one reader of `SessionEvents` that hands each published event to the streams it
 * concerns — a map lookup per event, however many streams are open.
 *
 * Each stream has a bounded buffer: a client that falls further behind is disconnected (it
 * reconnects and catches up from Postgres) rather than holding memory for it. Past
 * `SSE_MAX_STREAMS_PER_SUBJECT` a new stream closes the subject's oldest (a phone that changed
 * networks must not be locked out by its own dead connection); past `SSE_MAX_STREAMS` a new one is
 * refused. While the transport is down, streams are asked to re-read their state periodically, at
 * a bounded rate; when it comes back, all of them at once.
 */
import { HttpApiSchema } from "@effect/platform"
import { Clock, Duration, Effect, Metric, Queue, Schema, type Scope } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import type { EventBatch, SessionEvent } from "../sessions/SessionEvent.js"
import { SessionEvents } from "../sessions/SessionEvents.js"
import {
  type CatchUpReason,
  openStreams,
  type StreamDropReason,
  streamsDropped,
  streamsRefused,
  type StreamKind,
  transportConnected
} from "./EventMetrics.js"

export type Subject = `mitra:${string}` | `customer:${string}`

/** What a stream reads from its buffer. */
export type StreamItem =
  | { readonly _tag: "Event"; readonly event: SessionEvent; readonly publishedAt: number }
  /** Re-read the state from Postgres: events may have been missed. */
  | { readonly _tag: "CatchUp"; readonly reason: CatchUpReason }
  /** The server closes the stream (after a last event saying why, where there is one). */
  | { readonly _tag: "Close"; readonly reason: StreamDropReason }

export interface StreamRegistration {
  readonly subject: Subject
  readonly kind: StreamKind
  readonly items: Queue.Dequeue<StreamItem>
}

/** The instance holds `SSE_MAX_STREAMS` streams already. */
export class TooManyStreams extends Schema.TaggedError<TooManyStreams>()(
  "TooManyStreams",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

interface Entry {
  readonly subject: Subject
  readonly kind: StreamKind
  readonly queue: Queue.Queue<StreamItem>
  lastCatchUpAt: number
  closed: boolean
}

/** Whom an event concerns. */
const subjectsOf = (event: SessionEvent): ReadonlyArray<Subject> => {
  switch (event._tag) {
    case "OfferMade":
    case "OfferWithdrawn":
      return event.mitraIds.map((mitraId) => `mitra:${mitraId}` as const)
    case "MitraDeactivated":
      return [`mitra:${event.mitraId}`]
    case "SessionUpdated":
      return event.session.mitraId === null
        ? [`customer:${event.session.customerId}`]
        : [`customer:${event.session.customerId}`, `mitra:${event.session.mitraId}`]
  }
}

export class StreamHub extends Effect.Service<StreamHub>()("mitra/StreamHub", {
  scoped: Effect.gen(function*() {
    const { events: settings } = yield* AppConfig
    const transport = yield* SessionEvents
    const bySubject = new Map<Subject, Array<Entry>>()
    let total = 0
    let connected = true

    const gauge = (kind: StreamKind) => Metric.tagged(openStreams, "kind", kind)
    const dropped = (reason: StreamDropReason) => Metric.increment(Metric.tagged(streamsDropped, "reason", reason))

    /** Out of the map (idempotent); the stream ends once it has read what is buffered. */
    const forget = (entry: Entry) => {
      if (entry.closed) return false
      entry.closed = true
      total -= 1
      const entries = bySubject.get(entry.subject)
      if (entries !== undefined) {
        const rest = entries.filter((e) => e !== entry)
        if (rest.length === 0) bySubject.delete(entry.subject)
        else bySubject.set(entry.subject, rest)
      }
      return true
    }

    /** Closes a stream from the server side: a last item if it fits, else at once. */
    const close = (entry: Entry, reason: StreamDropReason) =>
      Effect.gen(function*() {
        if (!forget(entry)) return
        yield* Metric.incrementBy(gauge(entry.kind), -1)
        yield* dropped(reason)
        if (reason === "slow" || !entry.queue.unsafeOffer({ _tag: "Close", reason })) yield* Queue.shutdown(entry.queue)
      })

    const deliver = (entry: Entry, item: StreamItem) =>
      entry.closed || entry.queue.unsafeOffer(item) ? Effect.void : close(entry, "slow")

    const dispatch = (batch: EventBatch) =>
      Effect.forEach(batch.events, (event) =>
        Effect.forEach(subjectsOf(event), (subject) =>
          Effect.forEach(bySubject.get(subject) ?? [], (entry) =>
            deliver(entry, { _tag: "Event", event, publishedAt: batch.publishedAt }).pipe(
              Effect.zipRight(event._tag === "MitraDeactivated" ? close(entry, "deactivated") : Effect.void)
            ), { discard: true }), { discard: true }), { discard: true })

    const everyEntry = () => [...bySubject.values()].flat()

    const catchUpAll = (reason: CatchUpReason) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.forEach(everyEntry(), (entry) => {
          entry.lastCatchUpAt = now
          return deliver(entry, { _tag: "CatchUp", reason })
        }, { discard: true }))

    // The one reader of the transport.
    const deliveries = yield* transport.subscribe
    connected = yield* transport.connected
    // Open while the transport is down: the periodic catch-up below runs only then.
    const degraded = yield* Effect.makeLatch(!connected)
    yield* Metric.set(transportConnected, connected ? 1 : 0)
    yield* Queue.take(deliveries).pipe(
      Effect.flatMap((delivery) => {
        if (delivery._tag === "Batch") return dispatch(delivery.batch)
        const was = connected
        connected = delivery.connected
        return Effect.all([
          Metric.set(transportConnected, connected ? 1 : 0),
          connected ? degraded.close : degraded.open,
          connected && !was ? catchUpAll("transport_reconnected") : Effect.void
        ], { discard: true })
      }),
      Effect.forever,
      Effect.forkScoped
    )

    // While the transport is down: each stream re-reads its state every `degradedCatchUpEvery`,
    // at most `degradedCatchUpsPerSecond` streams per second across the instance.
    const everyMillis = Duration.toMillis(settings.degradedCatchUpEvery)
    yield* Effect.gen(function*() {
      yield* degraded.await
      const now = yield* Clock.currentTimeMillis
      const due = everyEntry()
        .filter((entry) => now - entry.lastCatchUpAt >= everyMillis)
        .sort((a, b) => a.lastCatchUpAt - b.lastCatchUpAt)
        .slice(0, settings.degradedCatchUpsPerSecond)
      yield* Effect.forEach(due, (entry) => {
        entry.lastCatchUpAt = now
        return deliver(entry, { _tag: "CatchUp", reason: "degraded" })
      }, { discard: true })
      yield* Effect.sleep(Duration.seconds(1))
    }).pipe(Effect.forever, Effect.forkScoped)

    /**
     * A new stream for `subject`, released with the scope. Its buffer receives the subject's
     * events from now on: register before reading the state, so nothing falls between the two.
     */
    const register = (subject: Subject, kind: StreamKind): Effect.Effect<StreamRegistration, TooManyStreams, Scope.Scope> =>
      Effect.acquireRelease(
        Effect.gen(function*() {
          yield* checkRoom
          const queue = yield* Queue.dropping<StreamItem>(settings.clientBuffer)
          const entry: Entry = { subject, kind, queue, lastCatchUpAt: yield* Clock.currentTimeMillis, closed: false }
          const entries = bySubject.get(subject) ?? []
          const oldest = entries.length >= settings.maxStreamsPerSubject ? entries[0] : undefined
          bySubject.set(subject, [...entries, entry])
          total += 1
          yield* Metric.incrementBy(gauge(kind), 1)
          if (oldest !== undefined) yield* close(oldest, "replaced")
          return entry
        }),
        (entry) =>
          Effect.gen(function*() {
            if (forget(entry)) yield* Metric.incrementBy(gauge(entry.kind), -1)
            yield* Queue.shutdown(entry.queue)
          })
      ).pipe(Effect.map((entry): StreamRegistration => ({ subject: entry.subject, kind: entry.kind, items: entry.queue })))

    /** Streams and subjects held now (tests, and leak checks). */
    const stats = Effect.sync(() => ({ streams: total, subjects: bySubject.size }))

    /** Fails when the instance holds `SSE_MAX_STREAMS` already (checked before a stream's response starts). */
    const checkRoom = Effect.suspend(() =>
      total < settings.maxStreams
        ? Effect.void
        : Effect.zipRight(
          Metric.increment(streamsRefused),
          new TooManyStreams({ message: "This instance holds as many event streams as it may; reconnect shortly" })
        )
    )

    return { register, checkRoom, stats, isConnected: Effect.sync(() => connected) } as const
  })
}) {}
