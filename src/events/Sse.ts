/**
 * The Server-Sent Events wire format (WHATWG HTML, "Server-sent events"): one event is `id:`,
 * `event:` and a single `data:` line of JSON, then a blank line; a line starting with `:` is a
 * comment (the keep-alive); `retry:` tells the client how long to wait before reconnecting.
 */
const encoder = new TextEncoder()

export const retryFrame = (millis: number) => encoder.encode(`retry: ${Math.round(millis)}\n\n`)

export const keepAliveFrame = encoder.encode(": keep-alive\n\n")

/** One event. JSON never contains a raw newline, so `data` fits on one line. */
export const eventFrame = (id: string, event: string, data: unknown) =>
  encoder.encode(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`)

/**
 * Event ids are `<epoch millis>-<sequence>`: the time places a reconnecting client's
 * `Last-Event-ID` in history whichever instance wrote it; the sequence keeps ids unique.
 */
let sequence = 0
export const eventId = (millis: number) => `${Math.floor(millis)}-${(sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER)}`

/** The time of a `Last-Event-ID` this service wrote; None for anything else (treated as a first connect). */
export const timeOfEventId = (lastEventId: string | undefined): number | undefined => {
  const match = lastEventId === undefined ? null : /^(\d{1,15})-\d{1,16}$/.exec(lastEventId.trim())
  return match === null ? undefined : Number(match[1])
}
