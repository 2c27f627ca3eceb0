/**
 * A minimal OTLP/HTTP (JSON) trace receiver: the service exports its spans here when started with
 * `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at it (`src/observability/Tracing.ts`), so a bench can say
 * where a request's time goes — which statement, which service method — from the service's own
 * spans rather than from guesses.
 */
import { createServer } from "node:http"
import { onCleanup } from "./cleanup.js"

export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly startMs: number
  readonly durationMs: number
  readonly attributes: Readonly<Record<string, unknown>>
}

interface OtlpValue {
  readonly stringValue?: string
  readonly intValue?: string | number
  readonly doubleValue?: number
  readonly boolValue?: boolean
}

interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly startTimeUnixNano: string
  readonly endTimeUnixNano: string
  readonly attributes?: ReadonlyArray<{ readonly key: string; readonly value: OtlpValue }>
}

interface OtlpExport {
  readonly resourceSpans?: ReadonlyArray<{ readonly scopeSpans?: ReadonlyArray<{ readonly spans?: ReadonlyArray<OtlpSpan> }> }>
}

const valueOf = (value: OtlpValue): unknown =>
  value.stringValue ?? (value.intValue === undefined ? undefined : Number(value.intValue)) ?? value.doubleValue ?? value.boolValue

const nanosToMs = (nanos: bigint) => Number(nanos) / 1e6

export interface SpanReceiver {
  /** What to set `OTEL_EXPORTER_OTLP_ENDPOINT` to. */
  readonly endpoint: string
  readonly spans: ReadonlyArray<ReceivedSpan>
  readonly close: () => Promise<void>
}

export const startSpanReceiver = (): Promise<SpanReceiver> =>
  new Promise((resolve, reject) => {
    const spans: Array<ReceivedSpan> = []
    const server = createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpExport
          for (const resource of body.resourceSpans ?? []) {
            for (const scope of resource.scopeSpans ?? []) {
              for (const span of scope.spans ?? []) {
                const start = BigInt(span.startTimeUnixNano)
                spans.push({
                  traceId: span.traceId,
                  spanId: span.spanId,
                  parentSpanId: span.parentSpanId === "" ? undefined : span.parentSpanId,
                  name: span.name,
                  startMs: nanosToMs(start),
                  durationMs: nanosToMs(BigInt(span.endTimeUnixNano) - start),
                  attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, valueOf(a.value)]))
                })
              }
            }
          }
          response.writeHead(200, { "content-type": "application/json" }).end("{}")
        } catch {
          response.writeHead(400).end()
        }
      })
    })
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const close = () => new Promise<void>((done) => server.close(() => done()))
      onCleanup("stop the span receiver", close)
      resolve({ endpoint: `http://127.0.0.1:${port}`, spans, close })
    })
  })
