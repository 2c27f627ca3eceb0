/** How the event-stream routes are declared in the API (and so in `/openapi.json` and `/docs`). */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/** The response body: `text/event-stream`, written as events happen. */
export const EventStreamBody = HttpApiSchema.Text({ contentType: "text/event-stream" }).annotations({
  description: "Server-Sent Events: `id:`, `event:` and one `data:` line of JSON per event; `: keep-alive` comments"
})

/** The id of the last event a reconnecting client received: what it missed is sent first. */
export const LastEventIdHeader = Schema.Struct({ "last-event-id": Schema.optional(Schema.String) })

/** The response headers of a stream: never cached, never buffered by a proxy. */
export const eventStreamHeaders = {
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no"
} as const
