/**
 * `GET /api/availability` on the fast path (`http/FastRoutes.ts`). While this instance holds a
 * fresh snapshot (`Beacon.fresh`: until its `asOf` + TTL) the answer is the JSON already encoded
 * for it, sent without running an effect or reaching Valkey; otherwise `Beacon.current` runs as
 * it does for the API.
 */
import { Effect, Schema } from "effect"
import { type Answer, makeFastAnswers } from "../http/FastAnswer.js"
import type { FastRoute } from "../http/FastRoutes.js"
import { Beacon } from "./Beacon.js"
import { BeaconSnapshot } from "./beaconCache/BeaconSnapshot.js"

const encode = Schema.encodeSync(BeaconSnapshot)

export const makeBeaconFastRoute = Effect.gen(function*() {
  const beacon = yield* Beacon
  const answers = yield* makeFastAnswers
  const route = { method: "GET", path: "/api/availability" } as const

  /** The answer of the last snapshot served: encoded once per snapshot, not once per poll. */
  let last: { readonly snapshot: BeaconSnapshot; readonly answer: Answer } | undefined
  const answerOf = (snapshot: BeaconSnapshot): Answer => {
    if (last?.snapshot !== snapshot) last = { snapshot, answer: { status: 200, json: JSON.stringify(encode(snapshot)) } }
    return last.answer
  }

  return {
    ...route,
    handle: (_request, response) => {
      const traced = answers.sample()
      const fresh = traced ? undefined : beacon.fresh()
      if (fresh !== undefined) answers.respond(response, answerOf(fresh))
      else answers.run(route, response, beacon.current(), answerOf, traced)
      return true
    }
  } satisfies FastRoute
})
