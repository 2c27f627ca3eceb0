/**
 * Benchmark of the pairing path with 1,000 available mitras (`npm run bench:sessions`; method and
 * results in docs/performance.md, "The pairing benchmark"):
 *
 * - **latency**: one customer at a time, `POST /api/chat-sessions` (201, a blast of 1,000 offers),
 *   the accepting mitra's `GET /api/mitra/offers` (the session must be there), its
 *   `POST /api/mitra/sessions/{id}/accept` (200); each call and the whole flow timed;
 * - **blasts under concurrency**: the sessions for the accept phases requested a few at a time;
 * - **accepts by distinct mitras**: hundreds of blasted sessions, each accepted by its own mitra,
 *   many accepts in flight;
 * - **contended accepts**: several mitras racing for each session; exactly one must win;
 * - **where the time goes**: the service restarted with its traces exported to a receiver in this
 *   process and a V8 CPU profile (`--cpu-prof`), a few more flows, each span summed per request and
 *   the busy CPU attributed to the service's functions; and `EXPLAIN ANALYZE` of the blast's INSERT
 *   and the accept's withdrawal UPDATE on the now full tables.
 *
 * The service is built (`npm run build`) and run from `dist/main.js` against a database this bench
 * creates on the local Postgres (`BENCH_DATABASE_URL`; dropped at the end) and a valkey-server it
 * starts on a spare port (stopped by PID at the end). Mitras, their online rows and customers are
 * inserted before the service starts; its start-up seed mirrors them. Tokens are signed here with
 * the service's secret.
 *
 * Writes `bench/results/sessions.json` and the results block of `docs/performance.md`.
 * `BENCH_LATENCY_FLOWS`, `BENCH_DISTINCT_ACCEPTS`, `BENCH_CONTENDED_SESSIONS`, `BENCH_TRACED_FLOWS`
 * shorten a trial run.
 */
import { Redis } from "ioredis"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { mirrorKeys } from "../src/availability/store/MirrorKeys.js"
import { freePort, startValkeyServer } from "../test/support/valkeyServer.js"
import { cleanUp, cleanUpOnSignals, isInterrupted, onCleanup } from "./support/cleanup.js"
import { type CpuProfileSummary, monotonicMicros, summarizeCpuProfile } from "./support/cpuProfile.js"
import { createBenchDatabase, run } from "./support/database.js"
import { clockTicksPerSecond, cpuModel, loadAverage, processCpuMicros } from "./support/proc.js"
import { type RunningServer, startServer } from "./support/servers.js"
import { type ReceivedSpan, startSpanReceiver } from "./support/spans.js"
import { tokenSigner } from "./support/tokens.js"

const positiveInt = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number`)
  return value
}

const settings = {
  mitras: 1_000,
  /** `max_sessions_per_mitra` for the run: above any mitra's wins, so every blast reaches all 1,000. */
  maxSessionsPerMitra: 10,
  warmupFlows: 20,
  latencyFlows: positiveInt("BENCH_LATENCY_FLOWS", 150),
  blastConcurrency: 4,
  distinctAccepts: positiveInt("BENCH_DISTINCT_ACCEPTS", 150),
  contendedSessions: positiveInt("BENCH_CONTENDED_SESSIONS", 60),
  racersPerSession: 4,
  acceptConcurrency: 16,
  tracedWarmupFlows: 5,
  tracedFlows: positiveInt("BENCH_TRACED_FLOWS", 25),
  explainRepeats: 5
}

const root = new URL("../", import.meta.url).pathname
const resultsDir = new URL("./results/", import.meta.url)
const docsFile = new URL("../docs/performance.md", import.meta.url)
const jwtSecret = "bench-sessions-secret-of-at-least-thirty-two-characters"
const databaseName = `mitra_bench_sessions_${process.pid}`
/** Long enough that no availability sweep ticks during the bench. */
const aDay = "86400"

const round = (n: number, digits = 1) => Number(n.toFixed(digits))
const sum = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0)
const thousands = (n: number) => Math.round(n).toLocaleString("en")

// ---------------------------------------------------------------------------------------------
// Numbers

interface Percentiles {
  readonly count: number
  readonly meanMs: number
  readonly p50Ms: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly maxMs: number
}

/** Nearest-rank percentiles of `samples` (milliseconds). */
const percentiles = (samples: ReadonlyArray<number>): Percentiles => {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN
  return {
    count: sorted.length,
    meanMs: round(sum(sorted) / sorted.length),
    p50Ms: round(at(0.5)),
    p95Ms: round(at(0.95)),
    p99Ms: round(at(0.99)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN)
  }
}

/** Runs `f` over `items` with at most `concurrency` in flight; results in the items' order. */
const inParallel = async <A, B>(items: ReadonlyArray<A>, concurrency: number, f: (item: A, index: number) => Promise<B>) => {
  const results = new Array<B>(items.length)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await f(items[i]!, i)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return results
}

// ---------------------------------------------------------------------------------------------
// Set-up: straight into Postgres, before the service starts (its start-up seed mirrors it all)

const insertMitras = async (client: pg.Client) => {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO mitras (display_name, phone, password_hash)
     SELECT 'Bench mitra ' || i, '+6281' || lpad(i::text, 9, '0'), 'bench: no login'
     FROM generate_series(1, $1::int) AS i
     ORDER BY i
     RETURNING id`,
    [settings.mitras]
  )
  await client.query(
    `INSERT INTO mitra_online_status (mitra_id, is_online, last_online_at, last_heartbeat_at)
     SELECT id, true, now(), now() FROM mitras`
  )
  return rows.map((r) => r.id)
}

const insertCustomers = async (client: pg.Client, count: number) => {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO customers (display_name, is_anonymous)
     SELECT 'Bench customer ' || i, true FROM generate_series(1, $1::int) AS i ORDER BY i
     RETURNING id`,
    [count]
  )
  return rows.map((r) => r.id)
}

/**
 * The run's settings, as an operator would set them (`app_config`): heartbeats stay fresh for an
 * hour (the bench sends none: their cost is the HTTP bench's subject), searching sessions wait an
 * hour for their accept, and a mitra may hold `maxSessionsPerMitra` sessions.
 */
const configure = (client: pg.Client) =>
  client.query(
    `UPDATE app_config SET value = v.value, updated_at = now(), updated_by = 'bench'
     FROM (VALUES ('heartbeat_stale_seconds', '3600'::jsonb), ('pairing_timeout_seconds', '3600'::jsonb),
                  ('max_sessions_per_mitra', $1::jsonb)) AS v (key, value)
     WHERE app_config.key = v.key`,
    [JSON.stringify(settings.maxSessionsPerMitra)]
  )

// ---------------------------------------------------------------------------------------------
// HTTP

type Json = Readonly<Record<string, unknown>>

interface Answer {
  readonly status: number
  readonly body: Json
  readonly ms: number
}

const call = async (server: RunningServer, method: "GET" | "POST", path: string, token?: string): Promise<Answer> => {
  const started = performance.now()
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` }
  })
  const text = await response.text()
  const ms = performance.now() - started
  return { status: response.status, body: text.length === 0 ? {} : (JSON.parse(text) as Json), ms }
}

const expectAnswer = (what: string, answer: Answer, status: number, check?: (body: Json) => boolean) => {
  if (answer.status !== status || (check !== undefined && !check(answer.body))) {
    throw new Error(`${what} answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}, expected ${status}`)
  }
  return answer
}

const sessionOf = (body: Json) => (body["session"] ?? {}) as Json

// ---------------------------------------------------------------------------------------------
// CPU of the three processes doing the work: the service, valkey-server, the Postgres backends
// serving the bench database (its pool's connections; the bench's own connection left out)

interface CpuReading {
  readonly service: number
  readonly valkey: number
  readonly postgres: ReadonlyMap<number, number>
}

interface CpuPerOperation {
  readonly serviceMicros: number
  readonly valkeyMicros: number
  readonly postgresMicros: number
}

const readCpu = async (client: pg.Client, service: RunningServer, valkeyPid: number): Promise<CpuReading> => {
  const { rows } = await client.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
  )
  const postgres = new Map<number, number>()
  for (const { pid } of rows) {
    try {
      postgres.set(pid, processCpuMicros(pid))
    } catch {
      // A backend that ended between the query and the read.
    }
  }
  return { service: processCpuMicros(service.pid), valkey: processCpuMicros(valkeyPid), postgres }
}

/** The CPU spent between two readings, per operation. A backend that ended in between is lost (the pool keeps them). */
const cpuPer = (before: CpuReading, after: CpuReading, operations: number): CpuPerOperation => {
  let postgres = 0
  for (const [pid, micros] of after.postgres) postgres += micros - (before.postgres.get(pid) ?? 0)
  return {
    serviceMicros: round((after.service - before.service) / operations, 0),
    valkeyMicros: round((after.valkey - before.valkey) / operations, 0),
    postgresMicros: round(postgres / operations, 0)
  }
}

// ---------------------------------------------------------------------------------------------
// The service's own account, from /metrics

const watchedMetrics = ["availability_fallback_total", "valkey_write_failures_total", "rate_limited_total", "rate_limit_fallback_total"]

const serviceMetrics = async (service: RunningServer) => {
  const response = await fetch(`${service.baseUrl}/metrics`)
  const text = await response.text()
  const totals: Record<string, Record<string, number>> = Object.fromEntries(watchedMetrics.map((name) => [name, {}]))
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/.exec(line)
    const metric = match === null ? undefined : totals[match[1]!]
    if (metric !== undefined) metric[match![2] ?? "{}"] = Number(match![3])
  }
  return totals
}

// ---------------------------------------------------------------------------------------------
// Checks against Postgres: a bench of wrong answers is worthless

/** Every listed session active, held by its expected mitra, with one accepted and 999 withdrawn offers. */
const checkAccepted = async (client: pg.Client, phase: string, winners: ReadonlyMap<string, string>) => {
  const { rows } = await client.query<{ id: string; status: string; mitra_id: string | null; offers: number; accepted: number; withdrawn: number }>(
    `SELECT s.id, s.status, s.mitra_id, count(o.*)::int AS offers,
            count(*) FILTER (WHERE o.status = 'accepted')::int AS accepted,
            count(*) FILTER (WHERE o.status = 'withdrawn' AND o.reason = 'taken')::int AS withdrawn
     FROM chat_sessions s LEFT JOIN session_offers o ON o.session_id = s.id
     WHERE s.id = ANY($1::uuid[]) GROUP BY s.id`,
    [[...winners.keys()]]
  )
  const wrong = rows.filter((r) =>
    r.status !== "active" || r.mitra_id !== winners.get(r.id) || r.offers !== settings.mitras || r.accepted !== 1 ||
    r.withdrawn !== settings.mitras - 1
  )
  if (rows.length !== winners.size || wrong.length > 0) {
    throw new Error(`${phase}: ${wrong.length} of ${winners.size} sessions are not as the answers said (${rows.length} found): ${JSON.stringify(wrong.slice(0, 3))}`)
  }
}

/** Every listed session searching, with an open offer to every mitra. */
const checkBlasted = async (client: pg.Client, sessionIds: ReadonlyArray<string>) => {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (
       SELECT s.id FROM chat_sessions s JOIN session_offers o ON o.session_id = s.id AND o.status = 'open'
       WHERE s.id = ANY($1::uuid[]) AND s.status = 'searching' GROUP BY s.id HAVING count(*) = $2::int
     ) AS full_blasts`,
    [sessionIds, settings.mitras]
  )
  if (rows[0]?.n !== sessionIds.length) {
    throw new Error(`blasts: only ${rows[0]?.n} of ${sessionIds.length} sessions are searching with ${settings.mitras} open offers`)
  }
}

/** The mirror after the run: every mitra online, free, with its live sessions counted as Postgres counts them. */
const checkMirror = async (client: pg.Client, valkey: Redis, mitraIds: ReadonlyArray<string>) => {
  const { rows } = await client.query<{ id: string; live: number }>(
    `SELECT m.id, (SELECT count(*)::int FROM chat_sessions c WHERE c.mitra_id = m.id AND c.status IN ('active', 'pending_payment')) AS live
     FROM mitras m`
  )
  const keys = mirrorKeys("")
  const capacities = await valkey.mget(...rows.map((r) => keys.capacity(r.id)))
  const drifted = rows.filter((r, i) => Number(capacities[i] ?? 0) !== r.live)
  const online = await valkey.scard(keys.online)
  const free = await valkey.zcard(keys.freeIndex)
  if (drifted.length > 0 || online !== mitraIds.length || free !== mitraIds.length) {
    throw new Error(`the mirror drifted: ${drifted.length} capacity keys differ from Postgres, ${online} online, ${free} free`)
  }
  return { liveSessions: sum(rows.map((r) => r.live)), mostLiveOfOneMitra: Math.max(...rows.map((r) => r.live)) }
}

// ---------------------------------------------------------------------------------------------
// Where the time goes: the service's spans, summed per request

/** `INSERT session_offers`, `SELECT mitras FOR UPDATE`, …: what a statement does to which table. */
const statementLabel = (text: string) => {
  const flat = text.replace(/\s+/g, " ").trim()
  if (/^SELECT\b/i.test(flat)) {
    const read = /\bFROM\s+"?(\w+)/i.exec(flat)
    return `SELECT ${read?.[1] ?? "?"}${/FOR UPDATE/i.test(flat) ? " FOR UPDATE" : ""}`
  }
  const write = /\b(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)/i.exec(flat)
  return write === null ? flat.slice(0, 40) : `${write[1]!.split(" ")[0]!.toUpperCase()} ${write[2]}`
}

const spanLabel = (span: ReceivedSpan) =>
  span.name === "sql.execute" ? `sql: ${statementLabel(String(span.attributes["db.query.text"] ?? ""))}` : span.name

interface SpanPart {
  readonly label: string
  /** 1: a child of the HTTP span, 2: a grandchild, … */
  readonly depth: number
  readonly callsPerRequest: number
  /** Summed over its calls in one request (calls may overlap: `settle` recounts capacities 4 at a time). */
  readonly meanMs: number
  readonly shareOfRequest: number
}

interface RouteBreakdown {
  readonly requests: number
  readonly meanMs: number
  /** All SQL statements' time (the pool's wait included) over the HTTP span's. */
  readonly sqlShare: number
  /** The span tree, depth first, the costliest child first. */
  readonly parts: ReadonlyArray<SpanPart>
}

/**
 * Per route (request, offers, accept): the span tree under the HTTP span, each node's time summed
 * per request and averaged over the traces begun since `sinceMs` (the warm-up's are left out).
 */
const breakdown = (spans: ReadonlyArray<ReceivedSpan>, sinceMs: number): Record<string, RouteBreakdown> => {
  const byTrace = new Map<string, Array<ReceivedSpan>>()
  for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span])
  const routes = new Map<string, Array<Array<ReceivedSpan>>>()
  for (const trace of byTrace.values()) {
    if (Math.min(...trace.map((s) => s.startMs)) < sinceMs) continue
    const route = trace.some((s) => s.name === "Pairing.request") ? "request"
      : trace.some((s) => s.name === "Pairing.accept") ? "accept"
      : trace.some((s) => s.name === "Pairing.openOffers") ? "offers"
      : undefined
    if (route !== undefined) routes.set(route, [...(routes.get(route) ?? []), trace])
  }
  const result: Record<string, RouteBreakdown> = {}
  for (const [route, traces] of routes) {
    // Keyed by the path of labels from the HTTP span down, so a statement is counted under its caller.
    const nodes = new Map<string, { label: string; parent: string; depth: number; calls: number; ms: number }>()
    let httpMs = 0
    let sqlMs = 0
    for (const trace of traces) {
      const byId = new Map(trace.map((s) => [s.spanId, s]))
      const rootSpan = trace.find((s) => s.parentSpanId === undefined || !byId.has(s.parentSpanId))!
      httpMs += rootSpan.durationMs
      const pathOf = (span: ReceivedSpan): string => {
        const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId)
        return parent === undefined || parent === rootSpan ? spanLabel(span) : `${pathOf(parent)} / ${spanLabel(span)}`
      }
      for (const span of trace) {
        if (span === rootSpan) continue
        if (span.name === "sql.execute") sqlMs += span.durationMs
        const path = pathOf(span)
        const parent = path.slice(0, Math.max(0, path.lastIndexOf(" / ")))
        const node = nodes.get(path) ?? { label: spanLabel(span), parent, depth: path.split(" / ").length, calls: 0, ms: 0 }
        nodes.set(path, { ...node, calls: node.calls + 1, ms: node.ms + span.durationMs })
      }
    }
    const meanMs = httpMs / traces.length
    const parts: Array<SpanPart> = []
    const visit = (parent: string) => {
      const children = [...nodes.entries()].filter(([, n]) => n.parent === parent).sort(([, a], [, b]) => b.ms - a.ms)
      for (const [path, n] of children) {
        parts.push({
          label: n.label,
          depth: n.depth,
          callsPerRequest: round(n.calls / traces.length, 2),
          meanMs: round(n.ms / traces.length, 2),
          shareOfRequest: round(n.ms / traces.length / meanMs, 3)
        })
        visit(path)
      }
    }
    visit("")
    result[route] = { requests: traces.length, meanMs: round(meanMs, 2), sqlShare: round(sqlMs / httpMs, 2), parts }
  }
  return result
}

interface PlanReading {
  readonly executionMs: number
  readonly planningMs: number
  /** Time in triggers (the foreign-key checks), by trigger, summed over its calls. */
  readonly triggers: ReadonlyArray<{ readonly name: string; readonly calls: number; readonly ms: number }>
}

const offersInsert = `
  INSERT INTO session_offers (session_id, mitra_id, status, offered_at)
  SELECT $1, m, 'open', now() FROM unnest($2::uuid[]) AS m
  ON CONFLICT (session_id, mitra_id) DO NOTHING
  RETURNING mitra_id`

/**
 * `EXPLAIN ANALYZE` of the blast's INSERT and the accept's withdrawal UPDATE, as the service runs
 * them (`ChatSessionsRepo.insertOffers`, `closeOpenOffersOf`), on the tables as the run left them,
 * each in a transaction rolled back; medians of a few repeats. The UPDATE runs on offers committed
 * beforehand, as in the service: offers inserted by the same transaction would make Postgres
 * re-check their foreign keys on the UPDATE too.
 */
const explainBlastAndWithdrawal = async (client: pg.Client, customerId: string, mitraIds: ReadonlyArray<string>) => {
  const { rows: constraints } = await client.query<{ tgname: string; conname: string }>(
    `SELECT t.tgname, c.conname FROM pg_trigger t JOIN pg_constraint c ON c.oid = t.tgconstraint
     WHERE t.tgrelid = 'session_offers'::regclass`
  )
  const triggerName = (name: string) => {
    const constraint = constraints.find((c) => c.tgname === name)
    return constraint === undefined ? name : `foreign key ${constraint.conname}`
  }
  const reading = (plan: unknown): PlanReading => {
    const top = (plan as ReadonlyArray<{
      "Execution Time": number
      "Planning Time": number
      Triggers?: ReadonlyArray<{ "Trigger Name": string; Calls: number; Time: number }>
    }>)[0]!
    return {
      executionMs: top["Execution Time"],
      planningMs: top["Planning Time"],
      triggers: (top.Triggers ?? []).map((t) => ({ name: triggerName(t["Trigger Name"]), calls: t.Calls, ms: t.Time }))
    }
  }
  const explain = async (statement: string, params: ReadonlyArray<unknown>) => {
    await client.query("BEGIN")
    try {
      const { rows } = await client.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement}`, [...params])
      return reading(rows[0]!["QUERY PLAN"])
    } finally {
      await client.query("ROLLBACK")
    }
  }
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO chat_sessions (customer_id, status, requested_at, deadline_at)
     VALUES ($1, 'searching', now(), now() + interval '1 hour') RETURNING id`,
    [customerId]
  )
  const sessionId = rows[0]!.id
  const inserts: Array<PlanReading> = []
  for (let i = 0; i < settings.explainRepeats; i++) inserts.push(await explain(offersInsert, [sessionId, mitraIds]))
  await client.query(offersInsert, [sessionId, mitraIds])
  await client.query(`UPDATE session_offers SET status = 'accepted', responded_at = now() WHERE session_id = $1 AND mitra_id = $2`, [
    sessionId,
    mitraIds[0]
  ])
  const withdrawals: Array<PlanReading> = []
  for (let i = 0; i < settings.explainRepeats; i++) {
    withdrawals.push(
      await explain(
        `UPDATE session_offers SET status = 'withdrawn', reason = 'taken', responded_at = now()
         WHERE session_id = $1 AND status = 'open'
         RETURNING session_id, mitra_id`,
        [sessionId]
      )
    )
  }
  // Gone again, offers and all: the end-state checks count the service's sessions only.
  await client.query("DELETE FROM chat_sessions WHERE id = $1", [sessionId])

  const median = (values: ReadonlyArray<number>) => round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!, 2)
  const summary = (all: ReadonlyArray<PlanReading>) => {
    const names = [...new Set(all.flatMap((r) => r.triggers.map((t) => t.name)))]
    return {
      executionMs: median(all.map((r) => r.executionMs)),
      planningMs: median(all.map((r) => r.planningMs)),
      triggers: names.map((name) => ({
        name,
        calls: all[0]!.triggers.find((t) => t.name === name)?.calls ?? 0,
        ms: median(all.map((r) => r.triggers.find((t) => t.name === name)?.ms ?? 0))
      }))
    }
  }
  return { repeats: settings.explainRepeats, offersInsert: summary(inserts), offersWithdrawal: summary(withdrawals) }
}

// ---------------------------------------------------------------------------------------------
// Results

interface Output {
  readonly generatedAt: string
  readonly machine: {
    readonly node: string
    readonly cpuModel: string
    readonly cpus: number
    readonly clockTicksPerSecond: number
    readonly valkey: string
    readonly postgres: string
    readonly loadAverage: { readonly atStart: ReadonlyArray<number>; readonly atEnd: ReadonlyArray<number> }
  }
  readonly settings: typeof settings
  readonly latency: {
    readonly flows: number
    readonly offersPerBlast: number
    readonly request: Percentiles
    readonly offersPoll: Percentiles
    readonly accept: Percentiles
    readonly requestToAccept: Percentiles
    readonly cpuPerFlow: CpuPerOperation
  }
  readonly blasts: {
    readonly sessions: number
    readonly concurrency: number
    readonly requestsPerSec: number
    readonly latency: Percentiles
    readonly cpuPerRequest: CpuPerOperation
  }
  readonly distinctAccepts: {
    readonly accepts: number
    readonly concurrency: number
    readonly acceptsPerSec: number
    readonly latency: Percentiles
    readonly cpuPerAccept: CpuPerOperation
  }
  readonly contendedAccepts: {
    readonly sessions: number
    readonly racersPerSession: number
    readonly concurrency: number
    readonly attempts: number
    readonly wins: number
    readonly losers: number
    readonly loserRate: number
    readonly losersByTag: Readonly<Record<string, number>>
    readonly winsPerSec: number
    readonly attemptsPerSec: number
    readonly winnerLatency: Percentiles
    readonly loserLatency: Percentiles
    readonly cpuPerAttempt: CpuPerOperation
  }
  readonly timeBreakdown: {
    readonly flows: number
    readonly routes: Record<string, RouteBreakdown>
    readonly cpuProfile: CpuProfileSummary
    readonly postgresPlans: Awaited<ReturnType<typeof explainBlastAndWithdrawal>>
  }
  readonly endState: {
    readonly sessions: number
    readonly offerRows: number
    readonly offerTableMiB: number
    readonly mirror: Awaited<ReturnType<typeof checkMirror>>
  }
  readonly serviceMetrics: Record<string, Record<string, number>>
  readonly stepSeconds: Readonly<Record<string, number>>
}

const cpuCells = (cpu: CpuPerOperation) =>
  `${thousands(cpu.serviceMicros)} | ${thousands(cpu.postgresMicros)} | ${thousands(cpu.valkeyMicros)}`

const resultTables = (output: Output) => {
  const m = output.machine
  const l = output.latency
  const pct = (p: Percentiles) => `${p.p50Ms} | ${p.p95Ms} | ${p.p99Ms} | ${p.meanMs}`
  const lines = [
    `Measured ${output.generatedAt.slice(0, 10)} on ${m.cpus} × ${m.cpuModel}, Node ${m.node}, Valkey ${m.valkey}, Postgres ${m.postgres}; ` +
    `1-minute load average ${m.loadAverage.atStart[0]} at the start, ${m.loadAverage.atEnd[0]} at the end. ` +
    `${thousands(output.settings.mitras)} online, available mitras; every blast offered the session to all ${thousands(l.offersPerBlast)}.`,
    "",
    `**Latency**, one flow at a time (${l.flows} flows after ${output.settings.warmupFlows} of warm-up):`,
    "",
    "| step | p50 ms | p95 ms | p99 ms | mean ms |",
    "|---|---:|---:|---:|---:|",
    `| \`POST /api/chat-sessions\` (session + blast of ${thousands(l.offersPerBlast)} offers) | ${pct(l.request)} |`,
    `| \`GET /api/mitra/offers\` (the accepting mitra sees it) | ${pct(l.offersPoll)} |`,
    `| \`POST /api/mitra/sessions/{id}/accept\` (wins, ${thousands(l.offersPerBlast - 1)} offers withdrawn) | ${pct(l.accept)} |`,
    `| request → accept, the three calls | ${pct(l.requestToAccept)} |`,
    "",
    "**Throughput**:",
    "",
    "| phase | operations | in flight | per second | p50 ms | p95 ms | p99 ms | service CPU µs / op | Postgres CPU µs / op | Valkey CPU µs / op |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  ]
  const b = output.blasts
  const d = output.distinctAccepts
  const c = output.contendedAccepts
  lines.push(
    `| one flow at a time (request + poll + accept) | ${l.flows} flows | 1 | ${round(1000 / l.requestToAccept.meanMs)} flows | ${l.requestToAccept.p50Ms} | ${l.requestToAccept.p95Ms} | ${l.requestToAccept.p99Ms} | ${cpuCells(l.cpuPerFlow)} |`,
    `| requests (blasts) | ${b.sessions} | ${b.concurrency} | ${b.requestsPerSec} | ${b.latency.p50Ms} | ${b.latency.p95Ms} | ${b.latency.p99Ms} | ${cpuCells(b.cpuPerRequest)} |`,
    `| accepts, one mitra per session | ${d.accepts} | ${d.concurrency} | ${d.acceptsPerSec} | ${d.latency.p50Ms} | ${d.latency.p95Ms} | ${d.latency.p99Ms} | ${cpuCells(d.cpuPerAccept)} |`,
    `| accepts, ${c.racersPerSession} mitras racing per session | ${c.attempts} attempts | ${c.concurrency} | ${c.winsPerSec} wins (${c.attemptsPerSec} attempts) | ${c.winnerLatency.p50Ms} (losers ${c.loserLatency.p50Ms}) | ${c.winnerLatency.p95Ms} (${c.loserLatency.p95Ms}) | ${c.winnerLatency.p99Ms} (${c.loserLatency.p99Ms}) | ${cpuCells(c.cpuPerAttempt)} |`,
    "",
    `Contention: ${c.sessions} sessions, ${c.racersPerSession} mitras each: ${c.wins} wins (exactly one per session), ${c.losers} losers ` +
    `(${round(c.loserRate * 100, 1)} % of attempts; ${Object.entries(c.losersByTag).map(([tag, n]) => `${tag} × ${n}`).join(", ")}).`,
    "",
    `**Where the time goes** (the service's own spans over ${output.timeBreakdown.flows} more flows, tracing on; mean ms per request, share of the HTTP span):`,
    "",
    "| route | span | calls | mean ms | share |",
    "|---|---|---:|---:|---:|"
  )
  for (const route of ["request", "offers", "accept"]) {
    const r = output.timeBreakdown.routes[route]
    if (r === undefined) continue
    lines.push(`| ${route} | **the HTTP request** (SQL ${Math.round(r.sqlShare * 100)} % of it) | 1 | ${r.meanMs} | 100 % |`)
    for (const part of r.parts.filter((p) => p.shareOfRequest >= 0.03).slice(0, 12)) {
      lines.push(`| | ${"  ".repeat(part.depth - 1)}${part.depth > 1 ? "↳ " : ""}${part.label} | ${part.callsPerRequest} | ${part.meanMs} | ${Math.round(part.shareOfRequest * 100)} % |`)
    }
  }
  const profile = output.timeBreakdown.cpuProfile
  const percent = (share: number) => `${Math.round(share * 100)} %`
  lines.push(
    "",
    `The service's CPU over the same flows (\`node --cpu-prof\`, ${thousands(profile.busyMs)} ms busy): garbage collector ${percent(profile.garbageCollectorShare)}; ` +
    `self time elsewhere: ${profile.selfByPackage.slice(0, 5).map((p) => `${p.where} ${percent(p.share)}`).join(", ")}. ` +
    "The service's own functions, by the busy time spent in them and what they call (garbage collection not included):",
    "",
    "| function (`dist/`) | share of busy CPU |",
    "|---|---:|",
    ...profile.serviceFunctions.filter((f) => f.share >= 0.02).slice(0, 8).map((f) => `| \`${f.frame}\` | ${percent(f.share)} |`)
  )
  const plans = output.timeBreakdown.postgresPlans
  const triggers = (p: typeof plans.offersInsert) =>
    p.triggers.length === 0 ? "no triggers" : p.triggers.map((t) => `${t.name} ${t.ms} ms (${t.calls} calls)`).join(", ")
  lines.push(
    "",
    `Postgres alone (\`EXPLAIN ANALYZE\`, median of ${plans.repeats}, on ${thousands(output.endState.offerRows)} offer rows, ${output.endState.offerTableMiB} MiB): ` +
    `the blast's INSERT of ${thousands(output.settings.mitras)} offers ${plans.offersInsert.executionMs} ms (${triggers(plans.offersInsert)}); ` +
    `the accept's withdrawal UPDATE of ${thousands(output.settings.mitras - 1)} offers ${plans.offersWithdrawal.executionMs} ms (${triggers(plans.offersWithdrawal)}).`
  )
  return lines.join("\n")
}

const writeDocs = (tables: string) => {
  const docs = readFileSync(docsFile, "utf8")
  const start = "<!-- bench:sessions:start -->"
  const end = "<!-- bench:sessions:end -->"
  const from = docs.indexOf(start)
  const to = docs.indexOf(end)
  if (from < 0 || to < from) throw new Error(`docs/performance.md lacks the ${start} … ${end} markers`)
  writeFileSync(docsFile, `${docs.slice(0, from + start.length)}\n${tables}\n${docs.slice(to)}`)
}

/** Valkey also reports `redis_version` (the Redis release it is compatible with): its own comes first. */
const valkeyVersion = (info: string) => (/^valkey_version:(\S+)/m.exec(info) ?? /^redis_version:(\S+)/m.exec(info))?.[1] ?? "unknown"

// ---------------------------------------------------------------------------------------------

const main = async () => {
  const loadAtStart = loadAverage()
  const wallStart = performance.now()
  /** Seconds from the start to the end of each step, so a run that grows too long shows where. */
  const steps: Record<string, number> = {}
  const stepDone = (name: string) => {
    steps[name] = round((performance.now() - wallStart) / 1000 - sum(Object.values(steps)))
  }
  process.stdout.write("Building the service (npm run build)…\n")
  run("npm run build", "npm", ["run", "build"], { cwd: root })

  const valkeyServer = await startValkeyServer()
  const valkeyPid = valkeyServer.pid()
  if (valkeyPid === undefined) throw new Error("valkey-server has no pid")
  onCleanup(`stop valkey-server (pid ${valkeyPid})`, () => valkeyServer.stop("SIGTERM"))
  // No reconnection loop (and no log flood) once Valkey is gone; commands still fail loudly.
  const valkey = new Redis(valkeyServer.url, { retryStrategy: () => null }).on("error", () => undefined)
  onCleanup("disconnect from Valkey", () => valkey.disconnect())

  const databaseUrl = await createBenchDatabase({ name: databaseName, root })
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  onCleanup("disconnect from Postgres", () => client.end())

  // Each customer requests once; the last one is the EXPLAIN's.
  const customersNeeded = settings.warmupFlows + settings.latencyFlows + settings.distinctAccepts + settings.contendedSessions +
    settings.tracedWarmupFlows + settings.tracedFlows + 1
  const mitraIds = await insertMitras(client)
  const customerIds = await insertCustomers(client, customersNeeded)
  await configure(client)
  process.stdout.write(`Inserted ${mitraIds.length} online mitras and ${customerIds.length} customers into ${databaseName}\n`)

  const sign = await tokenSigner(jwtSecret)
  const mitraTokens = await Promise.all(mitraIds.map((id) => sign("mitra", id)))
  const customerTokens = await Promise.all(customerIds.map((id) => sign("customer", id)))

  const startService = async (extraEnv: Record<string, string> = {}, nodeArgs: ReadonlyArray<string> = []) => {
    const port = await freePort()
    return startServer({
      name: "service",
      script: "dist/main.js",
      cwd: root,
      port,
      readyPath: "/readyz",
      nodeArgs,
      env: {
        DATABASE_URL: databaseUrl,
        VALKEY_URL: valkeyServer.url,
        JWT_SECRET: jwtSecret,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        MITRA_AUTO_OFFLINE_SWEEP_SECONDS: aDay,
        HEARTBEAT_MIRROR_INTERVAL_SECONDS: aDay,
        VALKEY_ONLINE_MIRROR_SWEEP_SECONDS: aDay,
        ...extraEnv
      }
    })
  }
  let service = await startService()

  // Customers and mitras are handed out in order, each customer once (one open session each).
  let nextCustomer = 0
  const takeCustomer = () => {
    const i = nextCustomer++
    if (i >= customerIds.length) throw new Error("the bench ran out of customers")
    return { id: customerIds[i]!, token: customerTokens[i]! }
  }
  let nextMitra = 0
  const takeMitra = () => {
    const i = nextMitra++ % mitraIds.length
    return { id: mitraIds[i]!, token: mitraTokens[i]! }
  }

  const request = async (customerToken: string) => {
    const answer = expectAnswer("POST /api/chat-sessions", await call(service, "POST", "/api/chat-sessions", customerToken), 201, (body) =>
      sessionOf(body)["status"] === "searching")
    return { sessionId: String(sessionOf(answer.body)["id"]), ms: answer.ms }
  }
  const accept = (mitraToken: string, sessionId: string) => call(service, "POST", `/api/mitra/sessions/${sessionId}/accept`, mitraToken)

  /** request → the mitra's offers (the session among them) → its accept, each call timed. */
  const flow = async () => {
    const customer = takeCustomer()
    const mitra = takeMitra()
    const started = performance.now()
    const requested = await request(customer.token)
    const offers = expectAnswer("GET /api/mitra/offers", await call(service, "GET", "/api/mitra/offers", mitra.token), 200, (body) =>
      Array.isArray(body["items"]) && (body["items"] as ReadonlyArray<Json>).some((o) => o["sessionId"] === requested.sessionId))
    const accepted = expectAnswer("the accept", await accept(mitra.token, requested.sessionId), 200, (body) =>
      sessionOf(body)["status"] === "active" && sessionOf(body)["mitraId"] === mitra.id)
    const totalMs = performance.now() - started
    return { sessionId: requested.sessionId, mitraId: mitra.id, customer, requestMs: requested.ms, offersMs: offers.ms, acceptMs: accepted.ms, totalMs }
  }

  // --- Checks before measuring -------------------------------------------------------------
  const beacon = expectAnswer("the beacon", await call(service, "GET", "/api/availability"), 200)
  if (beacon.body["available"] !== settings.mitras) throw new Error(`the beacon says ${beacon.body["available"]} available, expected ${settings.mitras}`)
  expectAnswer("a request without a token", await call(service, "POST", "/api/chat-sessions"), 401)
  expectAnswer("a request with a mitra's token", await call(service, "POST", "/api/chat-sessions", mitraTokens[0]), 401)
  const first = await flow()
  expectAnswer("a second accept of a taken session", await accept(takeMitra().token, first.sessionId), 409, (body) => body["_tag"] === "SessionTaken")
  expectAnswer("a second request of a customer with an open session", await call(service, "POST", "/api/chat-sessions", first.customer.token), 409, (body) =>
    body["_tag"] === "OpenSessionExists")
  await checkAccepted(client, "the first flow", new Map([[first.sessionId, first.mitraId]]))
  process.stdout.write(`The service answers as expected (beacon: ${settings.mitras} available; a flow, a losing accept, a second request)\n`)
  const metricsBefore = await serviceMetrics(service)

  // --- (a) Latency, one flow at a time --------------------------------------------------------
  stepDone("set-up (build, database, seed, start, checks)")
  process.stdout.write(`\n== Latency: ${settings.warmupFlows} warm-up flows, then ${settings.latencyFlows} measured ==\n`)
  for (let i = 1; i < settings.warmupFlows; i++) await flow()
  const latencyCpuBefore = await readCpu(client, service, valkeyPid)
  const flows: Array<Awaited<ReturnType<typeof flow>>> = []
  for (let i = 0; i < settings.latencyFlows; i++) flows.push(await flow())
  const latencyCpu = cpuPer(latencyCpuBefore, await readCpu(client, service, valkeyPid), flows.length)
  await checkAccepted(client, "latency", new Map(flows.map((f) => [f.sessionId, f.mitraId])))
  const latency = {
    flows: flows.length,
    offersPerBlast: settings.mitras,
    request: percentiles(flows.map((f) => f.requestMs)),
    offersPoll: percentiles(flows.map((f) => f.offersMs)),
    accept: percentiles(flows.map((f) => f.acceptMs)),
    requestToAccept: percentiles(flows.map((f) => f.totalMs)),
    cpuPerFlow: latencyCpu
  }
  process.stdout.write(
    `request p50 ${latency.request.p50Ms} ms p99 ${latency.request.p99Ms} ms; offers p50 ${latency.offersPoll.p50Ms} ms; ` +
      `accept p50 ${latency.accept.p50Ms} ms p99 ${latency.accept.p99Ms} ms; whole p50 ${latency.requestToAccept.p50Ms} ms p99 ${latency.requestToAccept.p99Ms} ms\n`
  )

  // --- (b) Blasts, then accepts by distinct mitras, then contended accepts ---------------------
  const blastCount = settings.distinctAccepts + settings.contendedSessions
  stepDone("latency")
  process.stdout.write(`\n== ${blastCount} sessions requested, ${settings.blastConcurrency} at a time ==\n`)
  const blastCustomers = Array.from({ length: blastCount }, takeCustomer)
  const blastCpuBefore = await readCpu(client, service, valkeyPid)
  const blastStarted = performance.now()
  const blasted = await inParallel(blastCustomers, settings.blastConcurrency, (customer) => request(customer.token))
  const blastSeconds = (performance.now() - blastStarted) / 1000
  const blasts = {
    sessions: blasted.length,
    concurrency: settings.blastConcurrency,
    requestsPerSec: round(blasted.length / blastSeconds),
    latency: percentiles(blasted.map((b) => b.ms)),
    cpuPerRequest: cpuPer(blastCpuBefore, await readCpu(client, service, valkeyPid), blasted.length)
  }
  await checkBlasted(client, blasted.map((b) => b.sessionId))
  process.stdout.write(`${blasts.requestsPerSec} requests/s, p50 ${blasts.latency.p50Ms} ms, p99 ${blasts.latency.p99Ms} ms\n`)

  const distinctSessions = blasted.slice(0, settings.distinctAccepts).map((b) => ({ sessionId: b.sessionId, mitra: takeMitra() }))
  stepDone("blasts")
  process.stdout.write(`\n== ${distinctSessions.length} accepts, one mitra per session, ${settings.acceptConcurrency} in flight ==\n`)
  const distinctCpuBefore = await readCpu(client, service, valkeyPid)
  const distinctStarted = performance.now()
  const distinctAnswers = await inParallel(distinctSessions, settings.acceptConcurrency, async ({ mitra, sessionId }) =>
    expectAnswer("an uncontended accept", await accept(mitra.token, sessionId), 200))
  const distinctSeconds = (performance.now() - distinctStarted) / 1000
  const distinctAccepts = {
    accepts: distinctAnswers.length,
    concurrency: settings.acceptConcurrency,
    acceptsPerSec: round(distinctAnswers.length / distinctSeconds),
    latency: percentiles(distinctAnswers.map((a) => a.ms)),
    cpuPerAccept: cpuPer(distinctCpuBefore, await readCpu(client, service, valkeyPid), distinctAnswers.length)
  }
  await checkAccepted(client, "distinct accepts", new Map(distinctSessions.map((s) => [s.sessionId, s.mitra.id])))
  process.stdout.write(`${distinctAccepts.acceptsPerSec} accepts/s, p50 ${distinctAccepts.latency.p50Ms} ms, p99 ${distinctAccepts.latency.p99Ms} ms\n`)

  // Racers of one session are next to each other, so they are in flight together.
  const contended = blasted.slice(settings.distinctAccepts)
  const attempts = contended.flatMap((b) => Array.from({ length: settings.racersPerSession }, () => ({ sessionId: b.sessionId, mitra: takeMitra() })))
  stepDone("distinct accepts")
  process.stdout.write(
    `\n== ${contended.length} sessions, ${settings.racersPerSession} mitras racing for each, ${settings.acceptConcurrency} accepts in flight ==\n`
  )
  const contendedCpuBefore = await readCpu(client, service, valkeyPid)
  const contendedStarted = performance.now()
  const raced = await inParallel(attempts, settings.acceptConcurrency, async (attempt) => ({ ...attempt, answer: await accept(attempt.mitra.token, attempt.sessionId) }))
  const contendedSeconds = (performance.now() - contendedStarted) / 1000
  const contendedCpu = cpuPer(contendedCpuBefore, await readCpu(client, service, valkeyPid), raced.length)
  const winners = raced.filter((r) => r.answer.status === 200)
  const losers = raced.filter((r) => r.answer.status === 409)
  const strays = raced.filter((r) => r.answer.status !== 200 && r.answer.status !== 409)
  if (strays.length > 0) throw new Error(`contended accepts: unexpected answers ${JSON.stringify(strays.slice(0, 3).map((s) => s.answer))}`)
  const winnerOf = new Map(winners.map((w) => [w.sessionId, w.mitra.id]))
  if (winners.length !== contended.length || winnerOf.size !== contended.length) {
    throw new Error(`contended accepts: ${winners.length} wins for ${contended.length} sessions (${winnerOf.size} sessions with a winner)`)
  }
  await checkAccepted(client, "contended accepts", winnerOf)
  const losersByTag: Record<string, number> = {}
  for (const l of losers) losersByTag[String(l.answer.body["_tag"])] = (losersByTag[String(l.answer.body["_tag"])] ?? 0) + 1
  const contendedAccepts = {
    sessions: contended.length,
    racersPerSession: settings.racersPerSession,
    concurrency: settings.acceptConcurrency,
    attempts: raced.length,
    wins: winners.length,
    losers: losers.length,
    loserRate: round(losers.length / raced.length, 3),
    losersByTag,
    winsPerSec: round(winners.length / contendedSeconds),
    attemptsPerSec: round(raced.length / contendedSeconds),
    winnerLatency: percentiles(winners.map((w) => w.answer.ms)),
    loserLatency: percentiles(losers.map((l) => l.answer.ms)),
    cpuPerAttempt: contendedCpu
  }
  process.stdout.write(
    `${contendedAccepts.winsPerSec} wins/s (${contendedAccepts.attemptsPerSec} attempts/s), ${contendedAccepts.losers} losers ` +
      `${JSON.stringify(losersByTag)}, winners p50 ${contendedAccepts.winnerLatency.p50Ms} ms, losers p50 ${contendedAccepts.loserLatency.p50Ms} ms\n`
  )

  const metrics = await serviceMetrics(service)
  const metricsDelta = Object.fromEntries(Object.entries(metrics).map(([name, series]) => [
    name,
    Object.fromEntries(Object.entries(series).map(([labels, value]) => [labels, value - (metricsBefore[name]?.[labels] ?? 0)]))
  ]))
  const fallbacks = sum(Object.values(metricsDelta["availability_fallback_total"] ?? {}))
  const writeFailures = sum(Object.values(metricsDelta["valkey_write_failures_total"] ?? {}))
  if (fallbacks > 0 || writeFailures > 0) {
    process.stderr.write(`\nWARNING: ${fallbacks} availability reads fell back to Postgres and ${writeFailures} mirror writes failed\n`)
  }

  // --- Where the time goes: the same service, traced --------------------------------------------
  stepDone("contended accepts")
  process.stdout.write(`\n== ${settings.tracedFlows} flows with the service's traces exported here ==\n`)
  await service.stop()
  const receiver = await startSpanReceiver()
  const profileDir = mkdtempSync(join(tmpdir(), "bench-sessions-profile-"))
  onCleanup(`remove ${profileDir}`, () => rmSync(profileDir, { recursive: true, force: true }))
  service = await startService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }, ["--cpu-prof", `--cpu-prof-dir=${profileDir}`])
  for (let i = 0; i < settings.tracedWarmupFlows; i++) await flow()
  // Spans carry wall-clock times, profile samples monotonic ones: both windows start here.
  const tracedSince = Date.now()
  const profiledFrom = monotonicMicros()
  let lastFlow = await flow()
  for (let i = 1; i < settings.tracedFlows; i++) lastFlow = await flow()
  const profiledTo = monotonicMicros()
  // The exporter sends a batch every 5 s (and flushes on shutdown, within 3 s, which a busy
  // machine can miss): wait for the last flow's accept to arrive.
  const exportedBy = Date.now() + 20_000
  const lastAccepted = () => receiver.spans.some((s) => s.name === "Pairing.accept" && s.attributes["session.id"] === lastFlow.sessionId)
  while (!lastAccepted() && Date.now() < exportedBy) await new Promise((r) => setTimeout(r, 200))
  if (!lastAccepted()) throw new Error("the service's spans did not reach the receiver within 20 s")
  // The profile is written as the process exits.
  await service.stop()
  const routes = breakdown(receiver.spans, tracedSince)
  const cpuProfile = summarizeCpuProfile(profileDir, { fromMicros: profiledFrom, toMicros: profiledTo })
  const explainCustomer = takeCustomer()
  const postgresPlans = await explainBlastAndWithdrawal(client, explainCustomer.id, mitraIds)
  for (const [route, r] of Object.entries(routes)) {
    process.stdout.write(`${route}: ${r.meanMs} ms, SQL ${Math.round(r.sqlShare * 100)} %; ` +
      r.parts.slice(0, 4).map((p) => `${p.label} ${p.meanMs} ms`).join("; ") + "\n")
  }
  process.stdout.write(
    `CPU profile: ${cpuProfile.busyMs} ms busy, garbage collector ${Math.round(cpuProfile.garbageCollectorShare * 100)} %; ` +
      cpuProfile.serviceFunctions.slice(0, 4).map((f) => `${f.frame} ${Math.round(f.share * 100)} %`).join("; ") + "\n"
  )
  process.stdout.write(`EXPLAIN ANALYZE: offers INSERT ${postgresPlans.offersInsert.executionMs} ms, withdrawal UPDATE ${postgresPlans.offersWithdrawal.executionMs} ms\n`)

  const mirror = await checkMirror(client, valkey, mitraIds)
  stepDone("where the time goes (restart, traced and profiled flows, EXPLAIN, end checks)")
  const tableStats = (await client.query<{ sessions: number; offers: number; bytes: string }>(
    `SELECT (SELECT count(*)::int FROM chat_sessions) AS sessions, (SELECT count(*)::int FROM session_offers) AS offers,
            pg_total_relation_size('session_offers')::text AS bytes`
  )).rows[0]!

  const output: Output = {
    generatedAt: new Date().toISOString(),
    machine: {
      node: process.version,
      cpuModel: cpuModel(),
      cpus: cpus().length,
      clockTicksPerSecond,
      valkey: valkeyVersion(await valkey.info("server")),
      postgres: (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]?.server_version ?? "unknown",
      loadAverage: { atStart: loadAtStart, atEnd: loadAverage() }
    },
    settings,
    latency,
    blasts,
    distinctAccepts,
    contendedAccepts,
    timeBreakdown: { flows: settings.tracedFlows, routes, cpuProfile, postgresPlans },
    endState: {
      sessions: tableStats.sessions,
      offerRows: tableStats.offers,
      offerTableMiB: round(Number(tableStats.bytes) / 1024 / 1024),
      mirror
    },
    serviceMetrics: metricsDelta,
    stepSeconds: steps
  }

  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(new URL("sessions.json", resultsDir), JSON.stringify(output, null, 2) + "\n")
  const tables = resultTables(output)
  writeDocs(tables)
  process.stdout.write(
    `\n${tables}\n\nWrote bench/results/sessions.json and the results in docs/performance.md (${round((performance.now() - wallStart) / 1000, 0)} s)\n`
  )
}

cleanUpOnSignals()
main().then(
  () => cleanUp().then(() => process.exit(0)),
  (error) => {
    // Once interrupted, the signal handler cleans up and exits.
    if (isInterrupted()) return
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    return cleanUp().then(() => process.exit(1))
  }
)
