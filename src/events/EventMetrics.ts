/** What the event streams count (exposed on `/metrics`; docs/events.md, "Operations"). */
import { Metric, MetricBoundaries } from "effect"

export type StreamKind = "mitra" | "session"
export type CatchUpReason = "connect" | "transport_reconnected" | "degraded"
export type StreamDropReason = "slow" | "replaced" | "deactivated"

export const openStreams = Metric.gauge("event_streams_open", {
  description: "Event streams open on this instance, by kind (mitra, session)"
})

export const eventsDelivered = Metric.counter("events_delivered_total", {
  description: "Events written to streams, by event type",
  incremental: true
})

export const catchUps = Metric.counter("event_stream_catch_ups_total", {
  description: "State re-reads from Postgres by streams, by reason (connect, transport_reconnected, degraded)",
  incremental: true
})

export const streamsDropped = Metric.counter("event_streams_closed_by_server_total", {
  description: "Streams the server closed, by reason (slow: fell behind its buffer; replaced: over the per-subject cap; deactivated)",
  incremental: true
})

export const streamsRefused = Metric.counter("event_streams_refused_total", {
  description: "Stream requests refused because the instance holds SSE_MAX_STREAMS already",
  incremental: true
})

export const deliveryLag = Metric.histogram(
  "event_delivery_lag_seconds",
  MetricBoundaries.exponential({ start: 0.0005, factor: 2, count: 16 }),
  "Time from an event's publication (any instance) to its hand-over to a stream's connection"
)

export const transportConnected = Metric.gauge("event_transport_connected", {
  description: "1 while events from other instances arrive (the Valkey subscription is up), 0 while streams fall back to periodic catch-up"
})

export const publishFailures = Metric.counter("event_publish_failures_total", {
  description: "Event batches that could not be published to other instances (delivered on this instance only)",
  incremental: true
})
