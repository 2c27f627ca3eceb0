/**
 * Benchmark of the event streams (`npm run bench:events`; method and results in
 * docs/performance.md, "The event-stream benchmark"):
 *
 * - **idle streams**: 5,000 mitras each open `GET /api/mitra/events` on one instance; the
 *   instance's RSS and heap before and after (memory per stream), then its CPU over an idle
 *   stretch with every stream open (keep-alive comments every `SSE_KEEPALIVE_SECONDS` included);
 * - **fan-out**: 1,000 of those mitras online and available, streaming from instance A, while
 *   customers request sessions on instance B; per mitra, the time from the request being sent to
 *   its `offer` event arriving — across instances, through Valkey pub/sub — p50 / p99 / max over
 *   `BENCH_BLASTS` blasts (each cancelled before the next).
 *
 * The service is built (`npm run build`) and run from `dist/main.js` twice (A and B) against a
 * database this bench creates on the local Postgres (`BENCH_DATABASE_URL`; dropped at the end) and
 * a valkey-server it starts on a spare port (stopped by PID at the end). Writes
 * `bench/results/events.json` and the results block of `docs/performance.md`.
 * `BENCH_STREAMS`, `BENCH_IDLE_SECONDS`, `BENCH_BLASTS` shorten a trial run.
 */
import http from "node:http"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import pg from "pg"
import { freePort, startValkeyServer } from "../test/support/valkeyServer.js"
import { cleanUp, cleanUpOnSignals, onCleanup } from "./support/cleanup.js"
import { createBenchDatabase, run } from "./support/database.js"
import { cpuModel, loadAverage, processCpuMicros, processRssKiB } from "./support/proc.js"
import { type RunningServer, startServer } from "./support/servers.js"
import { tokenSigner } from "./support/tokens.js"

const positiveInt = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number`)
  return value
}

const settings = {
  streams: positiveInt("BENCH_STREAMS", 5_000),
  onlineMitras: 1_000,
  idleSeconds: positiveInt("BENCH_IDLE_SECONDS", 30),
  blasts: positiveInt("BENCH_BLASTS", 20),
  keepAliveSeconds: 15
}

const root = new URL("../", import.meta.url).pathname
const resultsDir = new URL("./results/", import.meta.url)
const docsFile = new URL("../docs/performance.md", import.meta.url)
const jwtSecret = "bench-events-secret-of-at-least-thirty-two-characters"
const aDay = "86400"
const databaseName = `mitra_bench_events_${process.pid}`

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const round = (n: number, digits = 1) => Number(n.toFixed(digits))
const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

/** `settings.streams` mitras, the first `onlineMitras` online with a fresh heartbeat; and customers. */
const insertAccounts = async (client: pg.Client) => {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO mitras (display_name, phone, password_hash)
     SELECT 'Bench mitra ' || i, '+6281' || lpad(i::text, 9, '0'), 'bench: no login'
     FROM generate_series(1, $1::int) AS i ORDER BY i RETURNING id`,
    [settings.streams]
  )
  const mitraIds = rows.map((r) => r.id)
  await client.query(
    `INSERT INTO mitra_online_status (mitra_id, is_online, last_online_at, last_heartbeat_at)
     SELECT unnest($1::uuid[]), true, now(), now()`,
    [mitraIds.slice(0, settings.onlineMitras)]
  )
  const customers = await client.query<{ id: string }>(
    `INSERT INTO customers (display_name, is_anonymous)
     SELECT 'Bench customer ' || i, true FROM generate_series(1, $1::int) AS i ORDER BY i RETURNING id`,
    [settings.blasts + 1]
  )
  // Heartbeats stay fresh and searching sessions wait for the whole run.
  await client.query(
    `UPDATE app_config SET value = v.value, updated_at = now(), updated_by = 'bench'
     FROM (VALUES ('heartbeat_stale_seconds', '3600'::jsonb), ('pairing_timeout_seconds', '3600'::jsonb)) AS v (key, value)
     WHERE app_config.key = v.key`
  )
  return { mitraIds, customerIds: customers.rows.map((r) => r.id) }
}

/** One open SSE stream: the frames it received, as (event name, data, arrival ms) as they come. */
interface Stream {
  readonly opened: Promise<void>
  readonly close: () => void
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })

const openStream = (server: RunningServer, token: string, onEvent: (name: string, data: string, at: number) => void): Stream => {
  const url = new URL("/api/mitra/events", server.baseUrl)
  let request: http.ClientRequest | undefined
  const opened = new Promise<void>((resolve, reject) => {
    request = http.get(url, { agent, headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`a stream answered ${response.statusCode}`))
        response.resume()
        return
      }
      let pending = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => {
        const at = performance.now()
        pending += chunk
        let end = pending.indexOf("\n\n")
        while (end >= 0) {
          const frame = pending.slice(0, end)
          pending = pending.slice(end + 2)
          if (frame.startsWith("retry:")) resolve()
          let name = "message"
          let data = ""
          for (const line of frame.split("\n")) {
            if (line.startsWith("event:")) name = line.slice(6).trim()
            else if (line.startsWith("data:")) data += line.slice(5).trim()
          }
          if (data !== "") onEvent(name, data, at)
          end = pending.indexOf("\n\n")
        }
      })
    })
    request.on("error", reject)
  })
  return { opened, close: () => request?.destroy() }
}

const post = async (server: RunningServer, path: string, token: string) => {
  const response = await fetch(`${server.baseUrl}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}` } })
  return { status: response.status, body: (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined }
}

/** A gauge of the service's `/metrics` (the V8 heap, the open streams), if it is there. */
const metricValue = async (server: RunningServer, name: string) => {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text()
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1))
}

const main = async () => {
  cleanUpOnSignals()
  process.stdout.write("Building the service (npm run build)…\n")
  run("npm run build", "npm", ["run", "build"], { cwd: root })
  const valkeyServer = await startValkeyServer()
  const valkeyPid = valkeyServer.pid()
  if (valkeyPid !== undefined) onCleanup(`stop valkey-server (pid ${valkeyPid})`, () => valkeyServer.stop("SIGTERM"))

  const databaseUrl = await createBenchDatabase({ name: databaseName, root })
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  onCleanup("disconnect from Postgres", () => client.end())
  const { customerIds, mitraIds } = await insertAccounts(client)
  const sign = await tokenSigner(jwtSecret)
  const mitraTokens = await Promise.all(mitraIds.map((id) => sign("mitra", id)))
  const customerTokens = await Promise.all(customerIds.map((id) => sign("customer", id)))

  const start = async (name: string) => {
    const port = await freePort()
    return startServer({
      name,
      script: "dist/main.js",
      cwd: root,
      port,
      readyPath: "/readyz",
      env: {
        DATABASE_URL: databaseUrl,
        VALKEY_URL: valkeyServer.url,
        JWT_SECRET: jwtSecret,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        SSE_MAX_STREAMS: String(settings.streams * 2),
        SSE_KEEPALIVE_SECONDS: String(settings.keepAliveSeconds),
        MITRA_AUTO_OFFLINE_SWEEP_SECONDS: aDay,
        HEARTBEAT_MIRROR_INTERVAL_SECONDS: aDay,
        VALKEY_ONLINE_MIRROR_SWEEP_SECONDS: aDay
      }
    })
  }
  const a = await start("instance A")
  const b = await start("instance B")
  const loadAtStart = loadAverage()

  // --- Idle streams -------------------------------------------------------------------------
  await sleep(2_000)
  const rssBeforeKiB = processRssKiB(a.pid)
  const heapBefore = await metricValue(a, "nodejs_heap_used_bytes")
  /** Per blast (session id) and stream index: when its offer arrived. */
  const arrivals = new Map<string, Map<number, number>>()
  const streams: Array<Stream> = []
  const openedAt = performance.now()
  for (let i = 0; i < settings.streams; i++) {
    streams.push(openStream(a, mitraTokens[i]!, (name, data, at) => {
      if (name !== "offer") return
      const sessionId = (JSON.parse(data) as { offer: { sessionId: string } }).offer.sessionId
      const blast = arrivals.get(sessionId) ?? new Map<number, number>()
      if (!blast.has(i)) blast.set(i, at)
      arrivals.set(sessionId, blast)
    }))
    if (i % 500 === 499) await Promise.all(streams.slice(i - 499, i + 1).map((s) => s.opened))
  }
  onCleanup("close the streams", () => streams.forEach((s) => s.close()))
  await Promise.all(streams.map((s) => s.opened))
  const openSeconds = (performance.now() - openedAt) / 1000
  const openStreamsGauge = await metricValue(a, "event_streams_open")
  await sleep(5_000)
  const rssAfterKiB = processRssKiB(a.pid)
  const heapAfter = await metricValue(a, "nodejs_heap_used_bytes")
  process.stdout.write(`${settings.streams} streams open in ${round(openSeconds)} s; RSS ${round(rssBeforeKiB / 1024)} → ${round(rssAfterKiB / 1024)} MiB\n`)

  const cpuBefore = processCpuMicros(a.pid)
  const idleFrom = performance.now()
  await sleep(settings.idleSeconds * 1000)
  const idleCpuMsPerSecond = (processCpuMicros(a.pid) - cpuBefore) / 1000 / ((performance.now() - idleFrom) / 1000)
  process.stdout.write(`idle: ${round(idleCpuMsPerSecond, 2)} ms of CPU per second with ${settings.streams} streams\n`)

  // --- Fan-out ------------------------------------------------------------------------------
  const perBlast: Array<{ readonly reached: number; readonly p50: number; readonly p99: number; readonly last: number }> = []
  const all: Array<number> = []
  for (let blast = 0; blast <= settings.blasts; blast++) {
    const token = customerTokens[blast]!
    const sentAt = performance.now()
    const created = await post(b, "/api/chat-sessions", token)
    if (created.status !== 201) throw new Error(`POST /api/chat-sessions answered ${created.status}`)
    const sessionId = String((created.body as { session: { id: string } }).session.id)
    const deadline = Date.now() + 10_000
    while ((arrivals.get(sessionId)?.size ?? 0) < settings.onlineMitras && Date.now() < deadline) await sleep(20)
    const latencies = [...(arrivals.get(sessionId)?.values() ?? [])].map((at) => at - sentAt).sort((x, y) => x - y)
    const cancelled = await post(b, `/api/chat-sessions/${sessionId}/cancel`, token)
    if (cancelled.status !== 200) throw new Error(`cancel answered ${cancelled.status}`)
    if (blast === 0) continue // the warm-up blast
    all.push(...latencies)
    perBlast.push({ reached: latencies.length, p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), last: round(latencies.at(-1) ?? NaN) })
    await sleep(200)
  }
  all.sort((x, y) => x - y)
  const fanOut = {
    blasts: perBlast.length,
    mitrasPerBlast: settings.onlineMitras,
    offersReached: all.length,
    offersExpected: perBlast.length * settings.onlineMitras,
    latencyMs: { p50: round(percentile(all, 50)), p99: round(percentile(all, 99)), max: round(all.at(-1) ?? NaN) },
    lastMitraReachedMs: { p50: round(percentile(perBlast.map((b) => b.last).sort((x, y) => x - y), 50)), max: round(Math.max(...perBlast.map((b) => b.last))) },
    perBlast
  }
  process.stdout.write(`fan-out: p50 ${fanOut.latencyMs.p50} ms, p99 ${fanOut.latencyMs.p99} ms, max ${fanOut.latencyMs.max} ms; ${fanOut.offersReached}/${fanOut.offersExpected} offers\n`)

  const output = {
    generatedAt: new Date().toISOString(),
    machine: { node: process.version, cpuModel: cpuModel(), cpus: cpus().length, loadAverage: { atStart: loadAtStart, atEnd: loadAverage() } },
    settings,
    idle: {
      streams: settings.streams,
      openedInSeconds: round(openSeconds),
      openStreamsGauge,
      rssMiB: { before: round(rssBeforeKiB / 1024), after: round(rssAfterKiB / 1024) },
      rssKiBPerStream: round((rssAfterKiB - rssBeforeKiB) / settings.streams, 2),
      heapMiB: heapBefore === undefined || heapAfter === undefined ? null : { before: round(heapBefore / 2 ** 20), after: round(heapAfter / 2 ** 20) },
      heapKiBPerStream: heapBefore === undefined || heapAfter === undefined ? null : round((heapAfter - heapBefore) / 1024 / settings.streams, 2),
      cpuMsPerSecond: round(idleCpuMsPerSecond, 2),
      idleSeconds: settings.idleSeconds
    },
    fanOut
  }
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(new URL("events.json", resultsDir), JSON.stringify(output, null, 2) + "\n")
  writeResults(output)
  process.stdout.write("Wrote bench/results/events.json and the results in docs/performance.md\n")
}

const writeResults = (o: {
  readonly generatedAt: string
  readonly machine: { readonly node: string; readonly cpuModel: string; readonly cpus: number; readonly loadAverage: { readonly atStart: ReadonlyArray<number>; readonly atEnd: ReadonlyArray<number> } }
  readonly idle: { readonly streams: number; readonly openedInSeconds: number; readonly rssMiB: { readonly before: number; readonly after: number }; readonly rssKiBPerStream: number; readonly heapMiB: { readonly before: number; readonly after: number } | null; readonly heapKiBPerStream: number | null; readonly cpuMsPerSecond: number; readonly idleSeconds: number }
  readonly fanOut: { readonly blasts: number; readonly mitrasPerBlast: number; readonly offersReached: number; readonly offersExpected: number; readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number }; readonly lastMitraReachedMs: { readonly p50: number; readonly max: number } }
}) => {
  const { fanOut, idle } = o
  const block = [
    "<!-- bench:events:start -->",
    `Measured ${o.generatedAt.slice(0, 10)} on ${o.machine.cpus} × ${o.machine.cpuModel}, Node ${o.machine.node}; 1-minute load average ${o.machine.loadAverage.atStart[0]} at the start, ${o.machine.loadAverage.atEnd[0]} at the end.`,
    "",
    "| idle streams on one instance | |",
    "|---|---:|",
    `| streams open (\`GET /api/mitra/events\`) | ${idle.streams.toLocaleString("en")} (opened in ${idle.openedInSeconds} s) |`,
    `| RSS before → with them | ${idle.rssMiB.before} → ${idle.rssMiB.after} MiB |`,
    `| RSS per stream | ${idle.rssKiBPerStream} KiB |`,
    ...(idle.heapMiB === null ? [] : [`| V8 heap used before → with them | ${idle.heapMiB.before} → ${idle.heapMiB.after} MiB (${idle.heapKiBPerStream} KiB per stream) |`]),
    `| CPU at idle, every stream open (${idle.idleSeconds} s, keep-alive every ${settings.keepAliveSeconds} s) | ${idle.cpuMsPerSecond} ms per second (${round(idle.cpuMsPerSecond / 10, 2)} % of a core) |`,
    "",
    `| offer fan-out: ${fanOut.mitrasPerBlast.toLocaleString("en")} mitras streaming from instance A, the request sent to instance B | |`,
    "|---|---:|",
    `| blasts (after one warm-up) | ${fanOut.blasts} |`,
    `| offers delivered | ${fanOut.offersReached.toLocaleString("en")} of ${fanOut.offersExpected.toLocaleString("en")} |`,
    `| request sent → offer on a mitra's stream: p50 / p99 / max | ${fanOut.latencyMs.p50} / ${fanOut.latencyMs.p99} / ${fanOut.latencyMs.max} ms |`,
    `| request sent → the last of the ${fanOut.mitrasPerBlast.toLocaleString("en")} reached: median / worst blast | ${fanOut.lastMitraReachedMs.p50} / ${fanOut.lastMitraReachedMs.max} ms |`,
    "<!-- bench:events:end -->"
  ].join("\n")
  const docs = readFileSync(docsFile, "utf8")
  const from = docs.indexOf("<!-- bench:events:start -->")
  const to = docs.indexOf("<!-- bench:events:end -->")
  if (from < 0 || to < 0) throw new Error("docs/performance.md has no bench:events markers")
  writeFileSync(docsFile, docs.slice(0, from) + block + docs.slice(to + "<!-- bench:events:end -->".length))
}

main().then(
  () => cleanUp().then(() => process.exit(0)),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    return cleanUp().then(() => process.exit(1))
  }
)
