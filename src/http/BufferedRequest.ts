/**
 * A request whose body has already been read (bounded) and parsed by `RequestBodyGuard`: the
 * handlers and the API's payload decoding see it in place of the original, and every body accessor
 * answers from memory instead of reading the socket again.
 */
import { type Headers, HttpIncomingMessage, HttpServerRequest, UrlParams } from "@effect/platform"
import { Effect, Inspectable, type Option, Stream } from "effect"

export class BufferedRequest extends Inspectable.Class implements HttpServerRequest.HttpServerRequest {
  readonly [HttpServerRequest.TypeId]: HttpServerRequest.TypeId = HttpServerRequest.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId

  constructor(
    private readonly original: HttpServerRequest.HttpServerRequest,
    private readonly bytes: Buffer,
    private readonly parsed: unknown
  ) {
    super()
  }

  get source(): unknown {
    return this.original.source
  }
  get url(): string {
    return this.original.url
  }
  get originalUrl(): string {
    return this.original.originalUrl
  }
  get method() {
    return this.original.method
  }
  get cookies() {
    return this.original.cookies
  }
  get headers(): Headers.Headers {
    return this.original.headers
  }
  get remoteAddress(): Option.Option<string> {
    return this.original.remoteAddress
  }
  get multipart() {
    return this.original.multipart
  }
  get multipartStream() {
    return this.original.multipartStream
  }
  get upgrade() {
    return this.original.upgrade
  }

  get text() {
    return Effect.succeed(this.bytes.toString("utf8"))
  }
  get json() {
    return Effect.succeed(this.parsed)
  }
  get urlParamsBody() {
    return Effect.sync(() => UrlParams.fromInput(new URLSearchParams(this.bytes.toString("utf8"))))
  }
  get arrayBuffer() {
    return Effect.sync(() => new Uint8Array(this.bytes).buffer)
  }
  get stream() {
    return Stream.succeed(new Uint8Array(this.bytes))
  }

  modify(options: { readonly url?: string; readonly headers?: Headers.Headers; readonly remoteAddress?: string }) {
    return new BufferedRequest(this.original.modify(options), this.bytes, this.parsed)
  }

  /** Without the body: a request that ends up in a log must not carry what the client sent. */
  toJSON(): unknown {
    return { _id: "@effect/platform/HttpServerRequest", method: this.method, url: this.originalUrl }
  }
}
