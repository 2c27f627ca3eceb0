/** Small helpers to call the test server and read JSON answers. */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect } from "effect"

export interface JsonResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  readonly text: string
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

export interface RequestOptions {
  /** Sent as JSON. */
  readonly json?: unknown
  /** Sent verbatim with `content-type: application/json` (for malformed bodies). */
  readonly rawJson?: string
  readonly token?: string
  readonly headers?: Record<string, string>
}

export const call = (method: Method, path: string, options: RequestOptions = {}) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(path)
    if (options.token !== undefined) request = HttpClientRequest.bearerToken(request, options.token)
    if (options.headers !== undefined) request = HttpClientRequest.setHeaders(request, options.headers)
    if (options.json !== undefined) request = HttpClientRequest.bodyUnsafeJson(request, options.json)
    if (options.rawJson !== undefined) request = HttpClientRequest.bodyText(request, options.rawJson, "application/json")
    const response = yield* client.execute(request)
    const text = yield* response.text
    let body: unknown = undefined
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch {
      body = text
    }
    return { status: response.status, headers: response.headers, body, text } satisfies JsonResponse
  }).pipe(Effect.scoped, Effect.orDie)

export const get = (path: string, options?: RequestOptions) => call("GET", path, options)
export const post = (path: string, options?: RequestOptions) => call("POST", path, options)
export const put = (path: string, options?: RequestOptions) => call("PUT", path, options)
export const patch = (path: string, options?: RequestOptions) => call("PATCH", path, options)
