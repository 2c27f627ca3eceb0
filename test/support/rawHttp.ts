/**
 * HTTP at the byte level, for what an `HttpClient` will not send: a `content-length` the body never
 * reaches, a chunked body that never ends, a `multipart/form-data` without a boundary.
 *
 * `rawRequest` opens a fresh TCP connection to the test server, writes exactly the bytes given and
 * then waits for one response without sending anything more, so a server that answers only once
 * the body is complete never answers: the deadline turns that hang into a test failure.
 */
import { HttpServer } from "@effect/platform"
import { Data, Duration, Effect } from "effect"
import { connect } from "node:net"

export interface RawResponse {
  readonly status: number
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
  /** The body as JSON, or `undefined` when it is not JSON. */
  readonly body: unknown
}

export class NoResponse extends Data.TaggedError("NoResponse")<{ readonly message: string }> {}

export interface RawRequest {
  readonly method: string
  readonly path: string
  /** Sent as given, after `Host` and `Connection: close`. */
  readonly headers?: Record<string, string>
  /** Written after the head as given (already chunk-framed for a chunked request). */
  readonly body?: string | Uint8Array
  /** How long to wait for the response (a hang fails the test after this). */
  readonly deadline?: Duration.DurationInput
}

/** One chunk of a chunked body, framed. */
export const chunk = (data: string | Uint8Array) => {
  const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data)
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from("\r\n")])
}
/** The chunk that ends a chunked body. */
export const lastChunk = "0\r\n\r\n"

/** Parses one response from `data`; undefined while it is incomplete. */
const parseResponse = (data: Buffer, ended: boolean): RawResponse | undefined => {
  const headEnd = data.indexOf("\r\n\r\n")
  if (headEnd < 0) return undefined
  const [statusLine = "", ...headerLines] = data.subarray(0, headEnd).toString("latin1").split("\r\n")
  const headers: Record<string, string> = {}
  for (const line of headerLines) {
    const colon = line.indexOf(":")
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  let rest = data.subarray(headEnd + 4)
  let bodyBytes: Buffer
  if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"])
    if (rest.length < length) return undefined
    bodyBytes = rest.subarray(0, length)
  } else if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const parts: Array<Buffer> = []
    while (true) {
      const lineEnd = rest.indexOf("\r\n")
      if (lineEnd < 0) return undefined
      const size = parseInt(rest.subarray(0, lineEnd).toString("latin1"), 16)
      if (size === 0) break
      if (rest.length < lineEnd + 2 + size + 2) return undefined
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size))
      rest = rest.subarray(lineEnd + 2 + size + 2)
    }
    bodyBytes = Buffer.concat(parts)
  } else {
    if (!ended) return undefined
    bodyBytes = rest
  }
  const text = bodyBytes.toString("utf8")
  let body: unknown = undefined
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: Number(statusLine.split(" ")[1]), headers, text, body }
}

export const rawRequest = (request: RawRequest) =>
  Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    if (server.address._tag !== "TcpAddress") return yield* Effect.dieMessage("the test server is not on TCP")
    const { port } = server.address
    const head = [
      `${request.method} ${request.path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Connection: close",
      ...Object.entries(request.headers ?? {}).map(([name, value]) => `${name}: ${value}`)
    ].join("\r\n") + "\r\n\r\n"
    const deadline = request.deadline ?? Duration.seconds(10)
    return yield* Effect.async<RawResponse, NoResponse>((resume) => {
      const socket = connect({ host: "127.0.0.1", port })
      let received = Buffer.alloc(0)
      let settled = false
      const settle = (ended: boolean) => {
        if (settled) return
        const response = parseResponse(received, ended)
        if (response !== undefined) {
          settled = true
          resume(Effect.succeed(response))
        } else if (ended) {
          settled = true
          resume(Effect.fail(new NoResponse({ message: `the connection closed without a complete response: ${JSON.stringify(received.toString("latin1").slice(0, 200))}` })))
        }
      }
      socket.on("connect", () => {
        socket.write(head)
        // The server may answer and close while the body is still being written: that is fine.
        if (request.body !== undefined) socket.write(request.body, () => {})
      })
      socket.on("data", (data) => {
        received = Buffer.concat([received, data])
        settle(false)
      })
      socket.on("end", () => settle(true))
      socket.on("close", () => settle(true))
      // A reset after the response arrived is the server refusing the rest of the body.
      socket.on("error", () => settle(true))
      return Effect.sync(() => socket.destroy())
    }).pipe(
      Effect.timeoutFail({
        duration: deadline,
        onTimeout: () =>
          new NoResponse({ message: `no response to ${request.method} ${request.path} within ${Duration.format(deadline)}` })
      })
    )
  })
