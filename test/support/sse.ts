/**
 * A Server-Sent Events client for tests: opens a stream on the test server (in the caller's
 * scope: closing the scope hangs up), parses frames as they arrive, and hands them out one at a
 * time, each wait bounded so a missing event fails the test instead of hanging it.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Chunk, Duration, Effect, ExecutionStrategy, Exit, Option, Queue, Scope, Stream } from "effect"

export interface SseFrame {
  readonly id?: string
  readonly event?: string
  readonly data?: unknown
  readonly retry?: number
  /** A comment line (`: keep-alive`). */
  readonly comment?: string
}

export interface SseConnection {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** The next frame, keep-alive comments and the retry hint skipped; fails after `within`. */
  readonly next: (within?: Duration.DurationInput) => Effect.Effect<SseFrame, Error>
  /** The next frame of any kind (comments and `retry:` included). */
  readonly nextRaw: (within?: Duration.DurationInput) => Effect.Effect<SseFrame, Error>
  /** Events until `predicate` holds for one (that one included). */
  readonly until: (predicate: (frame: SseFrame) => boolean, within?: Duration.DurationInput) => Effect.Effect<ReadonlyArray<SseFrame>, Error>
  /** Reads until the server ends the stream; the events read on the way. Fails if it does not within `within`. */
  readonly awaitEnd: (within?: Duration.DurationInput) => Effect.Effect<ReadonlyArray<SseFrame>, Error>
  /** Hangs up now (as closing the scope would). */
  readonly close: Effect.Effect<void>
}

const parseFrame = (text: string): SseFrame => {
  const frame: { -readonly [K in keyof SseFrame]: SseFrame[K] } = {}
  for (const line of text.split("\n")) {
    if (line.startsWith(":")) frame.comment = line.slice(1).trim()
    else if (line.startsWith("id: ")) frame.id = line.slice(4)
    else if (line.startsWith("event: ")) frame.event = line.slice(7)
    else if (line.startsWith("data: ")) frame.data = JSON.parse(line.slice(6))
    else if (line.startsWith("retry: ")) frame.retry = Number(line.slice(7))
  }
  return frame
}

export const openEventStream = (path: string, options: { readonly token?: string; readonly lastEventId?: string } = {}) =>
  Effect.gen(function*() {
    // A scope of its own (inside the caller's): closing it hangs up.
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    return yield* connect(path, options).pipe(Effect.provideService(Scope.Scope, scope), Effect.map((c) => ({
      ...c,
      close: Scope.close(scope, Exit.void)
    })))
  })

const connect = (path: string, options: { readonly token?: string; readonly lastEventId?: string }) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.get(path).pipe(HttpClientRequest.setHeader("accept", "text/event-stream"))
    if (options.token !== undefined) request = HttpClientRequest.bearerToken(request, options.token)
    if (options.lastEventId !== undefined) request = HttpClientRequest.setHeader(request, "last-event-id", options.lastEventId)
    const response = yield* client.execute(request).pipe(Effect.orDie)
    const frames = yield* Queue.unbounded<Option.Option<SseFrame>>()
    const decoder = new TextDecoder()
    let buffer = ""
    yield* response.stream.pipe(
      Stream.runForEachChunk((chunk) =>
        Effect.suspend(() => {
          for (const bytes of Chunk.toReadonlyArray(chunk)) buffer += decoder.decode(bytes, { stream: true })
          const parts = buffer.split("\n\n")
          buffer = parts.pop() ?? ""
          return Queue.offerAll(frames, parts.filter((p) => p.length > 0).map((p) => Option.some(parseFrame(p))))
        })
      ),
      Effect.ignore,
      Effect.zipRight(Queue.offer(frames, Option.none())),
      Effect.forkScoped
    )
    const nextRaw = (within: Duration.DurationInput = "5 seconds") =>
      Queue.take(frames).pipe(
        Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`No event within ${Duration.format(within)} on ${path}`) }),
        Effect.flatMap((frame) =>
          Option.isSome(frame) ? Effect.succeed(frame.value) : Effect.fail(new Error(`The server ended the stream ${path}`))
        )
      )
    const next = (within: Duration.DurationInput = "5 seconds"): Effect.Effect<SseFrame, Error> =>
      Effect.flatMap(nextRaw(within), (frame) => (frame.event === undefined ? next(within) : Effect.succeed(frame)))
    const until = (predicate: (frame: SseFrame) => boolean, within: Duration.DurationInput = "5 seconds") =>
      Effect.gen(function*() {
        const seen: Array<SseFrame> = []
        while (true) {
          const frame = yield* next(within)
          seen.push(frame)
          if (predicate(frame)) return seen as ReadonlyArray<SseFrame>
        }
      })
    return {
      status: response.status,
      headers: response.headers,
      next,
      nextRaw,
      until,
      awaitEnd: (within: Duration.DurationInput = "5 seconds") =>
        Effect.gen(function*() {
          const seen: Array<SseFrame> = []
          while (true) {
            const frame = yield* Queue.take(frames).pipe(
              Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`${path} did not end within ${Duration.format(within)}`) })
            )
            if (Option.isNone(frame)) return seen as ReadonlyArray<SseFrame>
            if (frame.value.event !== undefined) seen.push(frame.value)
          }
        }),
      close: Effect.void
    } satisfies SseConnection
  })
