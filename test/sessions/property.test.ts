/**
 * The sessions' invariants, by property (`test/support/sessionInvariants.ts`): random sequences
 * of what customers, mitras, operators, the payment provider and time do — request, accept (one
 * offer, or every open offer at once), decline, cancel, extend, end, pay or fail, go offline or
 * online, be deactivated or reactivated, time passing (the timers fire on the `TestClock`), the
 * due-deadline sweep's tick — some steps two commands racing — run against the real services on
 * real Postgres and Valkey. After every step, refused or not, every invariant holds: no mitra over
 * its maximum, one open session per customer and per reroute chain, `mitra:capacity:<id>` equal
 * to Postgres, and the offers' bookkeeping.
 *
 * Each run starts from empty tables (one database and key prefix for the file; a clone per run
 * cost more than the run itself) and a `TestClock` and services of its own — its timers die with
 * it — with three or four mitras (each with its own maximum or the default), three or four
 * customers, a default maximum of 1 or 2, and payment required or not. The customers request first,
 * so every mitra is offered several sessions while it is free; then the random steps.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect } from "@effect/vitest"
import { Duration, Effect, FastCheck as fc, Layer, Option, TestClock, TestContext } from "effect"
import { createHmac } from "node:crypto"
import { Heartbeat } from "../../src/availability/Heartbeat.js"
import { MitraStatus } from "../../src/availability/MitraStatus.js"
import { MitraAccounts } from "../../src/controlCenter/MitraAccounts.js"
import { Pairing } from "../../src/sessions/Pairing.js"
import { Payments } from "../../src/sessions/Payments.js"
import { SessionActions } from "../../src/sessions/SessionActions.js"
import { SessionRerouting } from "../../src/sessions/SessionRerouting.js"
import { SessionTimers } from "../../src/sessions/SessionTimers.js"
import { SessionDeadlineSweep } from "../../src/sweeps/SessionDeadlineSweep.js"
import { seedMirror, setSetting } from "../support/availability.js"
import { createCustomer } from "../support/fixtures.js"
import { assertSessionInvariants } from "../support/sessionInvariants.js"
import { onlineMitra } from "../support/sessions.js"
import { testEnvironment } from "../support/TestConfig.js"
import { layer } from "../support/layer.js"
import { TestInfrastructure, TestServices } from "../support/TestInfrastructure.js"
import { startClockAtRealTime } from "../sweeps/kit.js"

/** A command that runs and returns (time does not pass): these may also race in pairs. */
type Action =
  | { readonly _tag: "request" | "cancel" | "extend" | "endByCustomer"; readonly customer: number }
  | { readonly _tag: "pay"; readonly customer: number; readonly outcome: "paid" | "failed" }
  | { readonly _tag: "accept" | "decline" | "endByMitra"; readonly mitra: number; readonly pick: number }
  | { readonly _tag: "acceptAllAtOnce" | "offline" | "online" | "deactivate" | "reactivate"; readonly mitra: number }
  | { readonly _tag: "sweep" }

type Step =
  | Action
  | { readonly _tag: "together"; readonly actions: readonly [Action, Action] }
  | { readonly _tag: "advance"; readonly seconds: number }

const people = 4
const customer = fc.integer({ min: 0, max: people - 1 })
/** Skewed to the first mitra: one mitra acting often reaches its maximum with offers still open. */
const mitra = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: people - 1 }))
const pick = fc.nat({ max: 7 })

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ _tag: fc.constant("request" as const), customer }) },
  { weight: 4, arbitrary: fc.record({ _tag: fc.constant("accept" as const), mitra, pick }) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("acceptAllAtOnce" as const), mitra }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("decline" as const), mitra, pick }) },
  {
    weight: 3,
    arbitrary: fc.record({ _tag: fc.constantFrom("cancel" as const, "extend" as const, "endByCustomer" as const), customer })
  },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("endByMitra" as const), mitra, pick }) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("pay" as const), customer, outcome: fc.constantFrom("paid" as const, "paid" as const, "failed" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({ _tag: fc.constantFrom("offline" as const, "online" as const, "deactivate" as const, "reactivate" as const), mitra })
  },
  { weight: 1, arbitrary: fc.constant({ _tag: "sweep" as const }) }
)

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: action },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("together" as const), actions: fc.tuple(action, action) }) },
  // Past the pairing timeout (60 s), the payment timeout (300 s), a session's end (30 min + extensions).
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("advance" as const), seconds: fc.constantFrom(20, 61, 301, 1801, 2701) }) }
)

const Run = fc.record({
  mitraMaxima: fc.array(fc.constantFrom(null, 1, 2), { minLength: 3, maxLength: people }),
  customers: fc.integer({ min: 3, max: people }),
  defaultMax: fc.constantFrom(1, 2),
  paymentRequired: fc.boolean(),
  steps: fc.array(step, { minLength: 15, maxLength: 25 })
})

/** Refusals a command may meet: a 4xx of the API, never a fault. */
const refusals = new Set([
  "OpenSessionExists",
  "SessionTaken",
  "SessionNotSearching",
  "NoOpenOffer",
  "NoFreeCapacity",
  "SessionNotFound",
  "OfferNotFound",
  "SessionNotLive",
  "SessionNotCancellable",
  "SessionNotActive",
  "MaxExtensionsReached",
  "Forbidden"
])

/** Runs a command; a refusal is swallowed (the invariants must hold all the same), anything else fails the run. */
const attempt = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.asVoid, Effect.catchIf((error) => refusals.has(error._tag), () => Effect.void))

interface World {
  readonly mitras: ReadonlyArray<string>
  readonly customers: ReadonlyArray<string>
}

const sessionsWhere = (where: (sql: SqlClient.SqlClient) => ReturnType<SqlClient.SqlClient["and"]>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ id: string; status: string }>`SELECT id, status FROM chat_sessions WHERE ${where(sql)} ORDER BY requested_at, id`)

/** The customer's newest session (its open one if it has one). */
const latestOf = (customerId: string) =>
  Effect.map(sessionsWhere((sql) => sql.and([sql`customer_id = ${customerId}`])), (rows) => Option.fromNullable(rows.at(-1)?.id))

const signed = (notice: unknown) => {
  const body = Buffer.from(JSON.stringify(notice))
  return { body, signature: createHmac("sha256", testEnvironment.PAYMENT_WEBHOOK_SECRET!).update(body).digest("hex") }
}

const run = (world: World, act: Action) =>
  Effect.gen(function*() {
    const pairing = yield* Pairing
    const actions = yield* SessionActions
    const onCustomerSession = <E extends { readonly _tag: string }, R>(
      index: number,
      f: (customerId: string, sessionId: string) => Effect.Effect<unknown, E, R>
    ) => {
      const customerId = world.customers[index % world.customers.length]!
      return Effect.flatMap(latestOf(customerId), (latest) => Option.isNone(latest) ? Effect.void : attempt(f(customerId, latest.value)))
    }
    switch (act._tag) {
      case "request":
        return yield* attempt(pairing.request(world.customers[act.customer % world.customers.length]!))
      case "accept": {
        // One of its open offers if it has any; else any session (to be refused for a reason).
        const mitraId = world.mitras[act.mitra % world.mitras.length]!
        const offers = (yield* pairing.openOffers(mitraId)).map((o) => o.sessionId)
        const candidates = offers.length > 0 ? offers : (yield* sessionsWhere((sql) => sql.and([sql`true`]))).map((s) => s.id)
        if (candidates.length === 0) return
        return yield* attempt(pairing.accept(mitraId, candidates[act.pick % candidates.length]!))
      }
      case "acceptAllAtOnce": {
        const mitraId = world.mitras[act.mitra % world.mitras.length]!
        const offers = yield* pairing.openOffers(mitraId)
        return yield* Effect.all(offers.map((o) => attempt(pairing.accept(mitraId, o.sessionId))), {
          concurrency: "unbounded",
          discard: true
        })
      }
      case "decline": {
        const mitraId = world.mitras[act.mitra % world.mitras.length]!
        const offers = yield* pairing.openOffers(mitraId)
        if (offers.length === 0) return
        return yield* attempt(pairing.decline(mitraId, offers[act.pick % offers.length]!.sessionId))
      }
      case "endByMitra": {
        const mitraId = world.mitras[act.mitra % world.mitras.length]!
        const own = yield* sessionsWhere((sql) => sql.and([sql`mitra_id = ${mitraId}`]))
        const liveOnes = own.filter((s) => s.status === "active" || s.status === "pending_payment")
        const candidates = liveOnes.length > 0 ? liveOnes : own
        if (candidates.length === 0) return
        return yield* attempt(actions.end({ mitraId }, candidates[act.pick % candidates.length]!.id))
      }
      case "cancel":
        return yield* onCustomerSession(act.customer, actions.cancel)
      case "extend":
        return yield* onCustomerSession(act.customer, actions.extend)
      case "endByCustomer":
        return yield* onCustomerSession(act.customer, (customerId, sessionId) => actions.end({ customerId }, sessionId))
      case "pay": {
        const payments = yield* Payments
        return yield* onCustomerSession(act.customer, (_, sessionId) => {
          const { body, signature } = signed({ sessionId, status: act.outcome })
          return payments.notify(body, Option.some(signature))
        })
      }
      case "offline": {
        // As the mitra app's offline route: offline, then its live sessions rerouted.
        const mitraId = world.mitras[act.mitra % world.mitras.length]!
        if (yield* (yield* MitraStatus).setOffline(mitraId, "property")) {
          yield* (yield* SessionRerouting).rerouteLiveSessionsOf(mitraId, "went_offline")
        }
        return
      }
      case "online":
        return yield* attempt((yield* MitraStatus).setOnline(world.mitras[act.mitra % world.mitras.length]!, "property"))
      case "deactivate":
      case "reactivate":
        return yield* attempt((yield* MitraAccounts).setActive(world.mitras[act.mitra % world.mitras.length]!, act._tag === "reactivate", "property"))
      case "sweep":
        return yield* Effect.asVoid(Effect.flatMap(SessionDeadlineSweep, (sweep) => sweep.tick()))
    }
  })

/**
 * Waits in real time (the timers' work is real I/O after `TestClock.adjust` woke them) until
 * every timer whose deadline has passed has finished: the timers still armed are exactly the
 * open sessions whose deadline is still ahead.
 */
const timersSettled = Effect.gen(function*() {
  const timers = yield* SessionTimers
  const sql = yield* SqlClient.SqlClient
  const giveUpAt = Date.now() + 10_000
  while (true) {
    const now = new Date(yield* TestClock.currentTimeMillis)
    const [ahead] = yield* sql<{ n: number }>`
      SELECT count(*)::int AS n FROM chat_sessions
      WHERE status IN ('searching', 'pending_payment', 'active') AND deadline_at > ${now}
    `
    const armed = yield* timers.armed
    if (armed === ahead!.n) return
    if (Date.now() > giveUpAt) return yield* Effect.dieMessage(`${armed} timer(s) armed, ${ahead!.n} deadline(s) ahead`)
    yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))
  }
})

const perform = (world: World, current: Step) =>
  Effect.gen(function*() {
    switch (current._tag) {
      case "together":
        return yield* Effect.all(current.actions.map((a) => run(world, a)), { concurrency: 2, discard: true })
      case "advance": {
        yield* TestClock.adjust(Duration.seconds(current.seconds))
        yield* timersSettled
        // The apps kept beating meanwhile (otherwise every mitra would be stale and offered nothing).
        const heartbeat = yield* Heartbeat
        return yield* Effect.forEach(world.mitras, (id) => Effect.ignore(heartbeat.record(id)), { discard: true })
      }
      default:
        return yield* run(world, current)
    }
  })

/** The file's database and key prefix, shared by the runs (each starts from empty tables). */
const InfrastructureLive = TestInfrastructure({ events: "in-process" })

/** One run's services — its own timers, on its own `TestClock` — and the due-deadline sweep. */
const RunServicesLive = SessionDeadlineSweep.DefaultWithoutDependencies.pipe(Layer.provideMerge(TestServices))

/** A fresh set of rows: every table a run writes, emptied (the settings are set by each run). */
const emptyTables = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql`
    TRUNCATE session_offers, chat_sessions, mitra_status_events, mitra_online_status,
             auth_session_rotated_tokens, auth_sessions, customers, mitras CASCADE
  `).pipe(Effect.orDie)

describe("the sessions' invariants (property)", () => {
  layer(InfrastructureLive, { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.scoped.prop(
      "hold after every step of a random sequence of commands, refused or not",
      [Run],
      ([scenario]) =>
        Effect.gen(function*() {
          yield* emptyTables
          yield* startClockAtRealTime
          yield* setSetting("max_sessions_per_mitra", scenario.defaultMax)
          yield* setSetting("payment_required", scenario.paymentRequired)
          yield* seedMirror
          const mitras = yield* Effect.forEach(scenario.mitraMaxima, (max) => onlineMitra({ maxConcurrentSessions: max }))
          const customers = yield* Effect.forEach(Array.from({ length: scenario.customers }), () => createCustomer())
          const world: World = { mitras: mitras.map((m) => m.id), customers: customers.map((c) => c.id) }
          yield* assertSessionInvariants
          // The customers arrive first: every mitra is offered every session while it is free.
          for (let i = 0; i < world.customers.length; i++) yield* perform(world, { _tag: "request", customer: i })
          const pairing = yield* Pairing
          for (const id of world.mitras) expect(yield* pairing.openOffers(id)).toHaveLength(world.customers.length)
          yield* assertSessionInvariants
          for (const current of scenario.steps) {
            yield* perform(world, current)
            yield* assertSessionInvariants
          }
        }).pipe(Effect.provide(RunServicesLive), Effect.provide(TestContext.TestContext), Effect.orDie),
      // A failure's shrinking stops in time to be reported (with the smallest sequence found so far).
      { timeout: 60_000, fastCheck: { numRuns: 20, interruptAfterTimeLimit: 45_000, markInterruptAsFailure: true } }
    )
  })
})
