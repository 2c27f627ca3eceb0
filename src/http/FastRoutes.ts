/**
 * The fast path: a few routes answered on Node's own request callback, before Effect's HTTP
 * stack, because they are called so often that the stack's cost per request (router, request
 * and response objects, middleware, a fiber tree) is most of theirs (docs/performance.md, "The
 * hot path"). A fast route still runs the service's own Effect (`FastAnswer.ts`); it skips only
 * the HTTP plumbing.
 *
 * A fast route serves only the plainest form of its request: its method, its exact path (no query
 * string), and no body at all (no length above 0, no chunks, no content headers). Every other
 * form — and every request the route itself declines — goes to the API, which answers it as it
 * answers any request: the contract has one implementation for everything unusual.
 */
import { Context } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"

export interface FastRoute {
  readonly method: "GET" | "POST"
  /** The exact path, as declared in the API. */
  readonly path: string
  /**
   * Answers the request, or returns false without touching `response` to hand the request on to
   * the API (e.g. a credential it cannot accept, so the API words the 401).
   */
  readonly handle: (request: IncomingMessage, response: ServerResponse) => boolean
}

/** The fast routes of this service (none in a test that wants the API alone). */
export class FastRoutes extends Context.Tag("mitra/FastRoutes")<FastRoutes, ReadonlyArray<FastRoute>>() {}

/**
 * True when the request carries no body and nothing about one: then the body guard, the only
 * API-wide middleware that reads a request, would let it through unchanged.
 */
const hasNoBody = (request: IncomingMessage) => {
  const headers = request.headers
  const length = headers["content-length"]
  return (length === undefined || length === "0") &&
    headers["transfer-encoding"] === undefined &&
    headers["content-type"] === undefined &&
    headers["content-encoding"] === undefined
}

/**
 * The request listener: a fast route when one matches and accepts the request, else `api` (the
 * Effect handler of the whole API).
 */
export const dispatchTo = (
  routes: ReadonlyArray<FastRoute>,
  api: (request: IncomingMessage, response: ServerResponse) => void
) => {
  const byPath = new Map(routes.map((route) => [route.path, route]))
  return (request: IncomingMessage, response: ServerResponse): void => {
    const route = byPath.get(request.url ?? "")
    if (route !== undefined && route.method === request.method && hasNoBody(request) && route.handle(request, response)) return
    api(request, response)
  }
}
