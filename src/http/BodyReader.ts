/**
 * Reads a request body whole, up to a size. Node-specific on purpose: the platform's reader
 * (`HttpIncomingMessage.MaxBodySize`) destroys the request on overflow, which resets the socket, so
 * the client sees a dropped connection instead of a 413.
 */
import { Data, Effect } from "effect"
import type { IncomingMessage } from "node:http"

export class BodyTooLarge extends Data.TaggedError("BodyTooLarge")<{ readonly maxBytes: number }> {}

export class BodyUnreadable extends Data.TaggedError("BodyUnreadable")<{ readonly cause: unknown }> {}

/**
 * The body's bytes, or `BodyTooLarge` as soon as more than `maxBytes` have arrived — whether it
 * is sent with a `content-length` or chunked. On overflow it stops keeping bytes but leaves the
 * stream flowing: the rest is discarded until the connection closes after the answer.
 */
export const readBodyUpTo = (source: IncomingMessage, maxBytes: number) =>
  Effect.async<Buffer, BodyTooLarge | BodyUnreadable>((resume) => {
    if (source.readableEnded) {
      resume(Effect.succeed(Buffer.alloc(0)))
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    const stop = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
    }
    function onData(chunk: Buffer) {
      size += chunk.length
      if (size > maxBytes) {
        stop()
        resume(Effect.fail(new BodyTooLarge({ maxBytes })))
      } else {
        chunks.push(chunk)
      }
    }
    function onEnd() {
      stop()
      resume(Effect.succeed(Buffer.concat(chunks, size)))
    }
    function onError(cause: unknown) {
      stop()
      resume(Effect.fail(new BodyUnreadable({ cause })))
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
    return Effect.sync(stop)
  })
