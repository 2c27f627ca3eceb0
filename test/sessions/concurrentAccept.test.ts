/**
 * Accepts racing on two app instances over one Postgres database and one Valkey (issue 10,
 * "Concurrency"). Every accept goes through HTTP, alternately to instance A and instance B, all in
 * flight at once:
 * - many mitras accepting ONE session: exactly one wins, every loser learns it was `SessionTaken`,
 *   one offer ends `accepted` and the rest `withdrawn` (`taken`);
 * - ONE mitra accepting many sessions: exactly its maximum win, every other accept is
 *   `NoFreeCapacity` — the mitra's row lock serializes its accepts across instances, so a count
 *   taken by one cannot be stale when it decides.
 * Either way `mitra:capacity:<id>` ends equal to Postgres' count of the mitra's live sessions —
 * also when every capacity write is held back a random few milliseconds after its commit, so that
 * recounts made on the two instances reach Valkey out of order.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mirrorState, setSetting } from "../support/availability.js"
import { delayedMirrorWrites } from "../support/delayedMirror.js"
import { type JsonResponse, post } from "../support/http.js"
import { customerWithToken, liveSessionsInPostgres, offersInPostgres, onlineMitra, sessionInPostgres } from "../support/sessions.js"
import { twoInstances } from "../events/instances.js"

type Session = { id: string; status: string; mitraId: string | null }
const sessionOf = (body: unknown) => (body as { session: Session }).session

type Instance = Effect.Effect.Success<ReturnType<typeof twoInstances>>["a"]

/** `count` accepts, the i-th by `mitraOf(i)` of `sessionOf(i)`, on A for even i and B for odd i, all at once. */
const racingAccepts = (
  instances: readonly [Instance, Instance],
  count: number,
  accept: (i: number) => { readonly token: string; readonly sessionId: string }
) =>
  Effect.all(
    Array.from({ length: count }, (_, i) => {
      const { sessionId, token } = accept(i)
      return post(`/api/mitra/sessions/${sessionId}/accept`, { token }).pipe(Effect.provide(instances[i % 2]!))
    }),
    { concurrency: "unbounded" }
  )

const tagsOf = (responses: ReadonlyArray<JsonResponse>) => responses.map((r) => (r.body as { _tag?: string })._tag)

describe("accepts racing on two instances", () => {
  it.scopedLive("50 mitras accept one session at once: one 200, 49 SessionTaken; one offer accepted, 49 withdrawn; capacity mirrored", () =>
    Effect.gen(function*() {
      const { a, b } = yield* twoInstances()
      const mitras = yield* Effect.forEach(Array.from({ length: 50 }), (_, i) => onlineMitra().pipe(Effect.provide(i % 2 === 0 ? a : b)), {
        concurrency: 8
      })
      const customer = yield* customerWithToken.pipe(Effect.provide(a))
      const requested = yield* post("/api/chat-sessions", { token: customer.token }).pipe(Effect.provide(a))
      expect(requested.status).toBe(201)
      const session = sessionOf(requested.body)
      const offered = yield* offersInPostgres(session.id).pipe(Effect.provide(a))
      expect(offered.filter((o) => o.status === "open")).toHaveLength(50)

      const responses = yield* racingAccepts([a, b], 50, (i) => ({ token: mitras[i]!.token, sessionId: session.id }))

      const won = responses.flatMap((response, i) => response.status === 200 ? [i] : [])
      expect(won).toHaveLength(1)
      const winner = mitras[won[0]!]!
      expect(sessionOf(responses[won[0]!]!.body)).toMatchObject({ id: session.id, status: "active", mitraId: winner.id })
      const lost = responses.filter((r) => r.status !== 200)
      expect(lost.map((r) => r.status)).toEqual(Array(49).fill(409))
      expect(tagsOf(lost)).toEqual(Array(49).fill("SessionTaken"))

      const truth = yield* Effect.provide(Effect.all({
        session: sessionInPostgres(session.id),
        offers: offersInPostgres(session.id),
        winnerLive: liveSessionsInPostgres(winner.id),
        mirror: mirrorState
      }), a)
      expect(truth.session).toMatchObject({ status: "active", mitraId: winner.id })
      expect(truth.offers.filter((o) => o.status === "accepted")).toEqual([{ mitraId: winner.id, status: "accepted", reason: null }])
      const others = truth.offers.filter((o) => o.mitraId !== winner.id)
      expect(others).toHaveLength(49)
      for (const offer of others) expect(offer).toMatchObject({ status: "withdrawn", reason: "taken" })
      expect(truth.winnerLive).toBe(1)
      expect(truth.mirror.capacity[winner.id]).toBe(1)
      for (const mitra of mitras) if (mitra !== winner) expect(truth.mirror.capacity[mitra.id]).toBe(0)
    }))

  for (const max of [1, 2]) {
    it.scopedLive(`one mitra (max ${max}) accepts 10 sessions at once: ${max} win, the rest NoFreeCapacity; live ≤ max; capacity mirrored`, () =>
      Effect.gen(function*() {
        const { a, b } = yield* twoInstances()
        // Pending payment holds capacity as active does; the winners stay live.
        yield* setSetting("payment_required", true).pipe(Effect.provide(a))
        const mitra = yield* onlineMitra({ maxConcurrentSessions: max }).pipe(Effect.provide(a))
        const sessions: Array<Session> = []
        for (let i = 0; i < 10; i++) {
          const customer = yield* customerWithToken.pipe(Effect.provide(a))
          const requested = yield* post("/api/chat-sessions", { token: customer.token }).pipe(Effect.provide(i % 2 === 0 ? a : b))
          expect(requested.status).toBe(201)
          sessions.push(sessionOf(requested.body))
        }
        for (const session of sessions) {
          expect(yield* offersInPostgres(session.id).pipe(Effect.provide(a))).toEqual([{ mitraId: mitra.id, status: "open", reason: null }])
        }

        const responses = yield* racingAccepts([a, b], 10, (i) => ({ token: mitra.token, sessionId: sessions[i]!.id }))

        const won = responses.filter((r) => r.status === 200)
        expect(won).toHaveLength(max)
        for (const response of won) expect(sessionOf(response.body)).toMatchObject({ status: "pending_payment", mitraId: mitra.id })
        const lost = responses.filter((r) => r.status !== 200)
        expect(lost.map((r) => r.status)).toEqual(Array(10 - max).fill(409))
        expect(tagsOf(lost)).toEqual(Array(10 - max).fill("NoFreeCapacity"))
        for (const response of lost) expect(response.body).toMatchObject({ liveSessions: max, maxConcurrentSessions: max })

        const live = yield* liveSessionsInPostgres(mitra.id).pipe(Effect.provide(a))
        expect(live).toBe(max)
        // The losers' sessions still search, their offers still open.
        const statuses = yield* Effect.forEach(sessions, (s) => Effect.map(sessionInPostgres(s.id), (row) => row.status)).pipe(Effect.provide(a))
        expect(statuses.filter((s) => s === "pending_payment")).toHaveLength(max)
        expect(statuses.filter((s) => s === "searching")).toHaveLength(10 - max)
        expect((yield* mirrorState.pipe(Effect.provide(a))).capacity[mitra.id]).toBe(live)
        expect((yield* mirrorState.pipe(Effect.provide(b))).capacity[mitra.id]).toBe(live)
      }))
  }

  it.scopedLive("accepts, then ends, of one mitra's sessions racing with capacity writes delayed: the capacity key ends at Postgres' count, every round", () =>
    Effect.gen(function*() {
      const { a, b } = yield* twoInstances({ store: delayedMirrorWrites(["setCapacity"], 20) })
      const mitra = yield* onlineMitra({ maxConcurrentSessions: 10 }).pipe(Effect.provide(a))
      const customers = yield* Effect.forEach(Array.from({ length: 10 }), () => customerWithToken.pipe(Effect.provide(a)))
      const capacityKeyAndPostgres = Effect.all([
        Effect.map(mirrorState, (state) => state.capacity[mitra.id]),
        liveSessionsInPostgres(mitra.id)
      ]).pipe(Effect.provide(a))
      for (let round = 0; round < 5; round++) {
        const sessions: Array<Session> = []
        for (const customer of customers) {
          sessions.push(sessionOf((yield* post("/api/chat-sessions", { token: customer.token }).pipe(Effect.provide(a))).body))
        }
        const accepted = yield* racingAccepts([a, b], 10, (i) => ({ token: mitra.token, sessionId: sessions[i]!.id }))
        expect(accepted.map((r) => r.status)).toEqual(Array(10).fill(200))
        expect(yield* capacityKeyAndPostgres).toEqual([10, 10])

        // Ends take no mitra lock: ten commits at once, ten recounts reading different counts.
        const ended = yield* Effect.all(
          sessions.map((s, i) => post(`/api/chat-sessions/${s.id}/end`, { token: customers[i]!.token }).pipe(Effect.provide([a, b][i % 2]!))),
          { concurrency: "unbounded" }
        )
        expect(ended.map((r) => r.status)).toEqual(Array(10).fill(200))
        expect(yield* capacityKeyAndPostgres).toEqual([0, 0])
      }
    }))
})
