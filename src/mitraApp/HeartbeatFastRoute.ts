/**
 * `POST /api/mitra/status/heartbeat` on the fast path (`http/FastRoutes.ts`): the same token check
 * as the API's `MitraTokenAuthentication` (`mitraOfToken`, the bearer token read as the API's
 * security reads it) and the same
 * `Heartbeat.record`, without the HTTP stack around them. Every outcome is answered as the API
 * answers it: 204, 401, 403 (deactivated, also while Valkey is down), 503.
 */
import { Effect, Redacted } from "effect"
import { AccessTokens } from "../auth/AccessTokens.js"
import { mitraOfToken } from "../auth/AuthenticationLive.js"
import { Heartbeat } from "../availability/Heartbeat.js"
import { type Answer, makeFastAnswers } from "../http/FastAnswer.js"
import type { FastRoute } from "../http/FastRoutes.js"

/** As `HttpApiSecurity.bearer` reads it: whatever follows the first seven characters. */
const bearerPrefixLength = "Bearer ".length
const noContent: Answer = { status: 204 }

export const makeHeartbeatFastRoute = Effect.gen(function*() {
  const tokens = yield* AccessTokens
  const heartbeat = yield* Heartbeat
  const answers = yield* makeFastAnswers
  const route = { method: "POST", path: "/api/mitra/status/heartbeat" } as const

  const record = (token: string) =>
    Effect.flatMap(mitraOfToken(tokens, Redacted.make(token)), ({ id }) => heartbeat.record(id))

  return {
    ...route,
    handle: (request, response) => {
      const token = (request.headers.authorization ?? "").slice(bearerPrefixLength)
      answers.run(route, response, record(token), () => noContent, answers.sample())
      return true
    }
  } satisfies FastRoute
})
