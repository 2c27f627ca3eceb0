/**
 * HTTP benchmark of the service's two hot routes beside two peers doing the same work
 * (`npm run bench:http`; method and results in docs/performance.md):
 *
 * - the service, built (`npm run build`) and run from `dist/main.js` against a database this
 *   bench creates on the local Postgres (`BENCH_DATABASE_URL`, default
 *   postgres://postgres@127.0.0.1:5432/postgres; dropped at the end) and a valkey-server it
 *   starts on a spare port (stopped by PID at the end);
 * - a Fastify 5 peer (`bench/peers/fastify.ts`): the same token check and Valkey commands;
 * - a bare `node:http` peer (`bench/peers/bare.ts`): one SET, a beacon held in memory.
 *
 * 1,000 online mitras are inserted before the service starts (its start-up seed mirrors them);
 * each gets an access token signed here with the service's secret. Every server is checked first
 * (204 / 200 for real tokens, and the service and the Fastify peer reject a missing token, a
 * customer's token and a deactivated mitra alike). Then per route: a warm-up of each server, and
 * rounds interleaved service, fastify, bare, service, … (autocannon, 50 connections, fixed
 * duration), reading each server's CPU from /proc around each round.
 *
 * Writes `bench/results/http.json`, `bench/results/http.svg` and the results block of
 * `docs/performance.md`. `BENCH_ROUNDS`, `BENCH_ROUND_SECONDS`, `BENCH_WARMUP_REQUESTS` shorten a
 * trial run; `BENCH_CPU_PROFILE_DIR` profiles the service.
 */
import { Redis } from "ioredis"
import { randomUUID } from "node:crypto"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import pg from "pg"
import { freePort, startValkeyServer } from "../test/support/valkeyServer.js"
import { renderChart } from "./support/chart.js"
import { cleanUp, cleanUpOnSignals, isInterrupted, onCleanup } from "./support/cleanup.js"
import { createBenchDatabase, run } from "./support/database.js"
import { type RoundResult, type RouteLoad, runLoad } from "./support/load.js"
import { clockTicksPerSecond, cpuModel, loadAverage, processRssKiB } from "./support/proc.js"
import { compilePeer, type RunningServer, startServer } from "./support/servers.js"
import { tokenSigner } from "./support/tokens.js"

const positiveInt = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number`)
  return value
}

const settings = {
  mitras: 1_000,
  deactivatedMitras: 10,
  connections: 50,
  warmupRequests: positiveInt("BENCH_WARMUP_REQUESTS", 10_000),
  roundSeconds: positiveInt("BENCH_ROUND_SECONDS", 5),
  rounds: positiveInt("BENCH_ROUNDS", 3)
}

/**
 * `BENCH_CPU_PROFILE_DIR`: the service runs under `node --cpu-prof` and leaves its profile there
 * when it stops (open it in Chrome's DevTools), to see where a route's CPU goes.
 */
const profileDir = process.env["BENCH_CPU_PROFILE_DIR"]

const root = new URL("../", import.meta.url).pathname
const resultsDir = new URL("./results/", import.meta.url)
const docsFile = new URL("../docs/performance.md", import.meta.url)
const jwtSecret = "bench-http-secret-of-at-least-thirty-two-characters"
/** Long enough that no sweep ticks and the beacon snapshot never expires during the bench. */
const aDay = "86400"

const databaseName = `mitra_bench_${process.pid}`

const serverKeys = ["service", "fastify", "bare"] as const
type ServerKey = (typeof serverKeys)[number]
const serverLabels: Record<ServerKey, string> = { service: "service (Effect)", fastify: "Fastify 5 peer", bare: "node:http peer" }
const serverColors: Record<ServerKey, string> = { service: "#4e79a7", fastify: "#f28e2b", bare: "#59a14f" }

const routeKeys = ["heartbeat", "beacon"] as const
type RouteKey = (typeof routeKeys)[number]

/** A record with one entry per key, typed as such (unlike `Object.fromEntries`). */
const recordOf = <K extends string, A>(keys: ReadonlyArray<K>, value: (key: K) => A): Record<K, A> => {
  const record = {} as Record<K, A>
  for (const key of keys) record[key] = value(key)
  return record
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits))
const mean = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0) / values.length

// ---------------------------------------------------------------------------------------------
// Set-up

/** Active, online mitras (ids returned in order) plus a few deactivated ones, straight into Postgres. */
const insertMitras = async (client: pg.Client) => {
  const { rows } = await client.query<{ id: string; is_active: boolean }>(
    `INSERT INTO mitras (display_name, phone, password_hash, is_active)
     SELECT 'Bench mitra ' || i, '+6281' || lpad(i::text, 9, '0'), 'bench: no login', i <= $1::int
     FROM generate_series(1, $1::int + $2::int) AS i
     ORDER BY i
     RETURNING id, is_active`,
    [settings.mitras, settings.deactivatedMitras]
  )
  await client.query(
    `INSERT INTO mitra_online_status (mitra_id, is_online, last_online_at, last_heartbeat_at)
     SELECT id, true, now(), now() FROM mitras WHERE is_active`
  )
  return {
    active: rows.filter((r) => r.is_active).map((r) => r.id),
    deactivated: rows.filter((r) => !r.is_active).map((r) => r.id)
  }
}

/** The bench's own connection: no reconnection loop (and no log flood) once Valkey is gone; commands still fail loudly. */
const benchValkeyClient = (url: string) => new Redis(url, { retryStrategy: () => null }).on("error", () => undefined)

// ---------------------------------------------------------------------------------------------
// Checks: a bench that measures 401s is worthless

const call = async (server: RunningServer, method: "GET" | "POST", path: string, token?: string) => {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` }
  })
  return { status: response.status, body: await response.text() }
}

const expectStatus = async (server: RunningServer, what: string, expected: number, answer: Promise<{ status: number; body: string }>) => {
  const { status, body } = await answer
  if (status !== expected) throw new Error(`${server.name}: ${what} answered ${status}, expected ${expected}: ${body.slice(0, 200)}`)
  return body
}

const heartbeatPath = "/api/mitra/status/heartbeat"
const beaconPath = "/api/availability"

const checkServer = async (options: {
  readonly server: RunningServer
  readonly valkey: Redis
  /** The key a heartbeat of `mitraId` must write. */
  readonly heartbeatKey: string
  readonly mitraToken: string
  /** Absent for the bare peer, which reads no token. */
  readonly rejects?: { readonly customerToken: string; readonly deactivatedToken: string }
  readonly beacon: { readonly available: number; readonly asOf: string }
}) => {
  const { server, valkey } = options
  await valkey.del(options.heartbeatKey)
  await expectStatus(server, "a heartbeat with a mitra's token", 204, call(server, "POST", heartbeatPath, options.mitraToken))
  const written = await valkey.get(options.heartbeatKey)
  if (written === null || Math.abs(Date.parse(written) - Date.now()) > 60_000) {
    throw new Error(`${server.name}: the heartbeat did not write ${options.heartbeatKey} (found ${written})`)
  }
  if (options.rejects !== undefined) {
    await expectStatus(server, "a heartbeat without a token", 401, call(server, "POST", heartbeatPath))
    await expectStatus(server, "a heartbeat with a customer's token", 401, call(server, "POST", heartbeatPath, options.rejects.customerToken))
    await expectStatus(server, "a heartbeat of a deactivated mitra", 403, call(server, "POST", heartbeatPath, options.rejects.deactivatedToken))
  }
  const body = JSON.parse(await expectStatus(server, "the beacon", 200, call(server, "GET", beaconPath))) as Record<string, unknown>
  if (body["available"] !== options.beacon.available || body["asOf"] !== options.beacon.asOf) {
    throw new Error(`${server.name}: the beacon answered ${JSON.stringify(body)}, expected ${JSON.stringify(options.beacon)}`)
  }
}

// ---------------------------------------------------------------------------------------------
// The service's own account of the run, from /metrics

type MetricTotals = Record<string, Record<string, number>>

/** What the service counted about its hot paths: every heartbeat should be `recorded` on the `valkey` path. */
const watchedMetrics = [
  "mitra_heartbeats_total",
  "availability_fallback_total",
  "availability_beacon_computations_total",
  "valkey_write_failures_total"
]

const serviceMetricsNow = async (service: RunningServer): Promise<MetricTotals> => {
  const text = await expectStatus(service, "/metrics", 200, call(service, "GET", "/metrics"))
  const totals: MetricTotals = Object.fromEntries(watchedMetrics.map((name) => [name, {}]))
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/.exec(line)
    const metric = match === null ? undefined : totals[match[1]!]
    if (metric !== undefined) metric[match![2] ?? "{}"] = Number(match![3])
  }
  return totals
}

/** The counts of the load itself: after minus before (the checks' 401s and 403 excluded). */
const metricsDelta = (before: MetricTotals, after: MetricTotals): MetricTotals =>
  Object.fromEntries(Object.entries(after).map(([name, series]) => [
    name,
    Object.fromEntries(Object.entries(series).map(([labels, value]) => [labels, value - (before[name]?.[labels] ?? 0)]))
  ]))

// ---------------------------------------------------------------------------------------------
// Results

interface Spread {
  readonly mean: number
  readonly min: number
  readonly max: number
}

const spread = (values: ReadonlyArray<number>, digits = 1): Spread => ({
  mean: round(mean(values), digits),
  min: round(Math.min(...values), digits),
  max: round(Math.max(...values), digits)
})

const summarize = (rounds: ReadonlyArray<RoundResult>) => ({
  requestsPerSec: spread(rounds.map((r) => r.requestsPerSec), 0),
  latencyP50Ms: round(mean(rounds.map((r) => r.latencyP50Ms))),
  latencyP99Ms: round(mean(rounds.map((r) => r.latencyP99Ms))),
  cpuMicrosPerRequest: spread(rounds.map((r) => r.cpuMicrosPerRequest)),
  valkeyCpuMicrosPerRequest: round(mean(rounds.map((r) => r.valkeyCpuMicrosPerRequest))),
  /** Of the last round: the mix is the same in every round. */
  valkeyCommandsPerRequest: rounds[rounds.length - 1]?.valkeyCommandsPerRequest ?? {},
  loadGeneratorCpuPercent: round(mean(rounds.map((r) => r.loadGeneratorCpuPercent)), 0)
})

type Summary = ReturnType<typeof summarize>

const ratios = (of: Record<ServerKey, Summary>) => {
  const over = (other: ServerKey) => ({
    requestsPerSec: round(of.service.requestsPerSec.mean / of[other].requestsPerSec.mean, 2),
    cpuMicrosPerRequest: round(of.service.cpuMicrosPerRequest.mean / of[other].cpuMicrosPerRequest.mean, 2)
  })
  return { serviceOverFastify: over("fastify"), serviceOverBare: over("bare") }
}

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
  readonly settings: typeof settings & { readonly order: string }
  readonly servers: Record<ServerKey, { readonly label: string; readonly rssMiB: { readonly atRest: number; readonly afterLoad: number } }>
  readonly routes: Record<RouteKey, {
    readonly method: string
    readonly path: string
    readonly results: Record<ServerKey, Summary & { readonly rounds: ReadonlyArray<RoundResult> }>
    readonly ratios: ReturnType<typeof ratios>
  }>
  readonly serviceMetrics: Record<string, Record<string, number>>
}

const routeLabel = (r: { method: string; path: string }) => `${r.method} ${r.path}`
const thousands = (n: number) => Math.round(n).toLocaleString("en")

const resultTables = (output: Output) => {
  const m = output.machine
  const lines = [
    `Measured ${output.generatedAt.slice(0, 10)} on ${m.cpus} × ${m.cpuModel}, Node ${m.node}, Valkey ${m.valkey}, Postgres ${m.postgres}; ` +
    `1-minute load average ${m.loadAverage.atStart[0]} at the start, ${m.loadAverage.atEnd[0]} at the end. ` +
    `${output.settings.connections} connections, ${output.settings.rounds} rounds of ${output.settings.roundSeconds} s per server and route ` +
    `after a warm-up of ${thousands(output.settings.warmupRequests)} requests, interleaved. Latency: mean over rounds of each round's percentile.`,
    "",
    "| route | server | requests/s (mean) | requests/s per round | p50 ms | p99 ms | server CPU µs / request | Valkey CPU µs / request | load generator CPU |",
    "|---|---|---:|---|---:|---:|---:|---:|---:|"
  ]
  for (const key of routeKeys) {
    const route = output.routes[key]
    for (const server of serverKeys) {
      const r = route.results[server]
      lines.push(
        `| ${key === "heartbeat" ? "heartbeat" : "beacon"} | ${serverLabels[server]} | ${thousands(r.requestsPerSec.mean)} | ${
          r.rounds.map((x) => thousands(x.requestsPerSec)).join(", ")
        } | ${r.latencyP50Ms} | ${r.latencyP99Ms} | ${r.cpuMicrosPerRequest.mean} | ${r.valkeyCpuMicrosPerRequest} | ${r.loadGeneratorCpuPercent} % |`
      )
    }
  }
  lines.push(
    "",
    "| route | requests/s: service ÷ Fastify | service ÷ node:http | CPU per request: service ÷ Fastify | service ÷ node:http |",
    "|---|---:|---:|---:|---:|"
  )
  for (const key of routeKeys) {
    const r = output.routes[key].ratios
    lines.push(
      `| ${routeLabel(output.routes[key])} | ${r.serviceOverFastify.requestsPerSec}× | ${r.serviceOverBare.requestsPerSec}× | ${r.serviceOverFastify.cpuMicrosPerRequest}× | ${r.serviceOverBare.cpuMicrosPerRequest}× |`
    )
  }
  lines.push(
    "",
    "Valkey commands per request, by name (commands a Lua script runs counted too; INFO commandstats over the last round):",
    "",
    `| route | ${serverKeys.map((s) => serverLabels[s]).join(" | ")} |`,
    `|---|${serverKeys.map(() => "---").join("|")}|`
  )
  for (const key of routeKeys) {
    const perServer = serverKeys.map((s) => {
      const commands = Object.entries(output.routes[key].results[s].valkeyCommandsPerRequest)
      return commands.length === 0 ? "none" : commands.map(([command, n]) => `${command} ${n}`).join(", ")
    })
    lines.push(`| ${routeLabel(output.routes[key])} | ${perServer.join(" | ")} |`)
  }
  lines.push(
    "",
    "| server | RSS at rest | RSS after the load |",
    "|---|---:|---:|"
  )
  for (const server of serverKeys) {
    const rss = output.servers[server].rssMiB
    lines.push(`| ${serverLabels[server]} | ${rss.atRest} MiB | ${rss.afterLoad} MiB |`)
  }
  return lines.join("\n")
}

const writeDocs = (tables: string) => {
  const docs = readFileSync(docsFile, "utf8")
  const start = "<!-- bench:http:start -->"
  const end = "<!-- bench:http:end -->"
  const from = docs.indexOf(start)
  const to = docs.indexOf(end)
  if (from < 0 || to < from) throw new Error(`docs/performance.md lacks the ${start} … ${end} markers`)
  writeFileSync(docsFile, `${docs.slice(0, from + start.length)}\n${tables}\n${docs.slice(to)}`)
}

const chart = (output: Output) =>
  renderChart({
    title: "HTTP hot routes: the service beside a Fastify 5 peer and a bare node:http peer",
    subtitle: `${output.generatedAt.slice(0, 10)}, Node ${output.machine.node}, ${output.machine.cpus} × ${output.machine.cpuModel}, ` +
      `${output.settings.connections} connections, ${output.settings.rounds} × ${output.settings.roundSeconds} s rounds (load generator on the same cores)`,
    series: serverKeys.map((s) => ({ label: serverLabels[s], color: serverColors[s] })),
    panels: [
      {
        title: "requests per second (higher is better)",
        unit: "",
        groups: routeKeys.map((k) => ({ label: routeLabel(output.routes[k]), bars: serverKeys.map((s) => output.routes[k].results[s].requestsPerSec) }))
      },
      {
        title: "server CPU µs per request (lower is better)",
        unit: " µs",
        groups: routeKeys.map((k) => ({
          label: routeLabel(output.routes[k]),
          bars: serverKeys.map((s) => output.routes[k].results[s].cpuMicrosPerRequest)
        }))
      }
    ]
  })

// ---------------------------------------------------------------------------------------------

/** Valkey also reports `redis_version` (the Redis release it is compatible with): its own comes first. */
const valkeyVersion = (info: string) => (/^valkey_version:(\S+)/m.exec(info) ?? /^redis_version:(\S+)/m.exec(info))?.[1] ?? "unknown"

/** Calls by command name from INFO commandstats (`cmdstat_get:calls=12,…`), the bench's own INFO left out. */
const commandCalls = (info: string) => {
  const calls: Record<string, number> = {}
  for (const [, command, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (command !== undefined && command !== "info") calls[command] = Number(count)
  }
  return calls
}

const rssMiB = (pid: number) => round(processRssKiB(pid) / 1024)

const main = async () => {
  const loadAtStart = loadAverage()
  process.stdout.write(`Building the service (npm run build)…\n`)
  run("npm run build", "npm", ["run", "build"], { cwd: root })
  const peerScripts = { fastify: compilePeer("fastify"), bare: compilePeer("bare") }

  const valkey = await startValkeyServer()
  const valkeyPid = valkey.pid()
  if (valkeyPid === undefined) throw new Error("valkey-server has no pid")
  onCleanup(`stop valkey-server (pid ${valkeyPid})`, () => valkey.stop("SIGTERM"))
  const serviceValkey = benchValkeyClient(valkey.url)
  const valkeyProbe = { pid: valkeyPid, commandCalls: async () => commandCalls(await serviceValkey.info("commandstats")) }
  // The peers use database 1: same key names and commands, apart from the service's keys.
  const peerValkeyUrl = `${valkey.url}/1`
  const peerValkey = benchValkeyClient(peerValkeyUrl)
  onCleanup("disconnect from Valkey", () => {
    serviceValkey.disconnect()
    peerValkey.disconnect()
  })

  const databaseUrl = await createBenchDatabase({ name: databaseName, root })
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  onCleanup("disconnect from Postgres", () => client.end())
  const mitras = await insertMitras(client)
  process.stdout.write(`Inserted ${mitras.active.length} online and ${mitras.deactivated.length} deactivated mitras into ${databaseName}\n`)

  const servicePort = await freePort()
  const service = await startServer({
    name: "service",
    script: "dist/main.js",
    cwd: root,
    port: servicePort,
    readyPath: "/readyz",
    ...(profileDir === undefined ? {} : { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] }),
    env: {
      DATABASE_URL: databaseUrl,
      VALKEY_URL: valkey.url,
      JWT_SECRET: jwtSecret,
      PORT: String(servicePort),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      MITRA_AUTO_OFFLINE_SWEEP_SECONDS: aDay,
      HEARTBEAT_MIRROR_INTERVAL_SECONDS: aDay,
      VALKEY_ONLINE_MIRROR_SWEEP_SECONDS: aDay,
      AVAILABILITY_SNAPSHOT_TTL_SECONDS: aDay
    }
  })

  // The service computes and stores its beacon snapshot on the first poll; the peers get a copy.
  await expectStatus(service, "the first beacon", 200, call(service, "GET", beaconPath))
  const snapshot = await serviceValkey.get("availability:snapshot")
  if (snapshot === null) throw new Error("the service stored no availability:snapshot")
  await peerValkey.flushdb()
  await peerValkey.set("availability:snapshot", snapshot, "EX", Number(aDay))
  await peerValkey.sadd("mitras:online", ...mitras.active)
  await peerValkey.sadd("mitras:deactivated", ...mitras.deactivated)

  const startPeer = async (peer: "fastify" | "bare") => {
    const port = await freePort()
    return startServer({
      name: peer,
      script: peerScripts[peer],
      cwd: root,
      port,
      readyPath: beaconPath,
      env: { PORT: String(port), VALKEY_URL: peerValkeyUrl, JWT_SECRET: jwtSecret }
    })
  }
  const servers: Record<ServerKey, RunningServer> = { service, fastify: await startPeer("fastify"), bare: await startPeer("bare") }

  const sign = await tokenSigner(jwtSecret)
  const tokens = await Promise.all(mitras.active.map((id) => sign("mitra", id)))
  const rejects = {
    customerToken: await sign("customer", randomUUID()),
    deactivatedToken: await sign("mitra", mitras.deactivated[0]!)
  }
  const beacon = JSON.parse(snapshot) as { available: number; asOf: string }
  const probeMitra = mitras.active[0]!
  await checkServer({
    server: servers.service,
    valkey: serviceValkey,
    heartbeatKey: `mitra:heartbeat:${probeMitra}`,
    mitraToken: tokens[0]!,
    rejects,
    beacon
  })
  await checkServer({ server: servers.fastify, valkey: peerValkey, heartbeatKey: `mitra:heartbeat:${probeMitra}`, mitraToken: tokens[0]!, rejects, beacon })
  await checkServer({ server: servers.bare, valkey: peerValkey, heartbeatKey: "mitra:heartbeat:bare", mitraToken: tokens[0]!, beacon })
  process.stdout.write(`All three servers answer as expected (beacon: ${beacon.available} available)\n`)

  const metricsBeforeLoad = await serviceMetricsNow(service)
  await new Promise((r) => setTimeout(r, 1_000))
  const rssAtRest = recordOf(serverKeys, (s) => rssMiB(servers[s].pid))

  const routes: Record<RouteKey, RouteLoad> = {
    heartbeat: { method: "POST", path: heartbeatPath, tokens },
    beacon: { method: "GET", path: beaconPath }
  }
  const rounds = recordOf(routeKeys, () => recordOf(serverKeys, (): Array<RoundResult> => []))
  for (const routeKey of routeKeys) {
    const route = routes[routeKey]
    process.stdout.write(`\n== ${routeLabel(route)} ==\n`)
    for (const server of serverKeys) {
      await runLoad({ server: servers[server], valkey: valkeyProbe, route, connections: settings.connections, length: { requests: settings.warmupRequests } })
    }
    for (let r = 1; r <= settings.rounds; r++) {
      for (const server of serverKeys) {
        const result = await runLoad({ server: servers[server], valkey: valkeyProbe, route, connections: settings.connections, length: { seconds: settings.roundSeconds } })
        rounds[routeKey][server].push(result)
        process.stdout.write(
          `round ${r}/${settings.rounds} ${server.padEnd(7)} ${thousands(result.requestsPerSec).padStart(7)} req/s  p50 ${result.latencyP50Ms} ms  ` +
            `p99 ${result.latencyP99Ms} ms  ${result.cpuMicrosPerRequest} µs CPU/req (Valkey ${result.valkeyCpuMicrosPerRequest})  ` +
            `generator ${result.loadGeneratorCpuPercent} %\n`
        )
      }
    }
  }
  const rssAfterLoad = recordOf(serverKeys, (s) => rssMiB(servers[s].pid))

  const serviceMetrics = metricsDelta(metricsBeforeLoad, await serviceMetricsNow(service))
  const offPath = Object.entries(serviceMetrics["mitra_heartbeats_total"] ?? {})
    .filter(([labels, count]) => count > 0 && labels !== `{outcome="recorded",path="valkey"}`)
  const fallbacks = Object.values(serviceMetrics["availability_fallback_total"] ?? {}).reduce((a, b) => a + b, 0)
  if (offPath.length > 0 || fallbacks > 0) {
    process.stderr.write(
      `\nWARNING: the service did not record every heartbeat in the Valkey mirror: ${JSON.stringify(offPath)}, ${fallbacks} fallbacks\n`
    )
  }

  const output: Output = {
    generatedAt: new Date().toISOString(),
    machine: {
      node: process.version,
      cpuModel: cpuModel(),
      cpus: cpus().length,
      clockTicksPerSecond,
      valkey: valkeyVersion(await serviceValkey.info("server")),
      postgres: (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]?.server_version ?? "unknown",
      loadAverage: { atStart: loadAtStart, atEnd: loadAverage() }
    },
    settings: { ...settings, order: "per route: warm-up of each server, then rounds interleaved service, fastify, bare, service, …" },
    servers: recordOf(serverKeys, (s) => ({ label: serverLabels[s], rssMiB: { atRest: rssAtRest[s], afterLoad: rssAfterLoad[s] } })),
    routes: recordOf(routeKeys, (k) => {
      const results = recordOf(serverKeys, (s) => ({ ...summarize(rounds[k][s]), rounds: rounds[k][s] }))
      return { method: routes[k].method, path: routes[k].path, results, ratios: ratios(results) }
    }),
    serviceMetrics
  }

  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(new URL("http.json", resultsDir), JSON.stringify(output, null, 2) + "\n")
  writeFileSync(new URL("http.svg", resultsDir), chart(output))
  const tables = resultTables(output)
  writeDocs(tables)
  process.stdout.write(`\n${tables}\n\nWrote bench/results/http.json, bench/results/http.svg and the results in docs/performance.md\n`)
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
