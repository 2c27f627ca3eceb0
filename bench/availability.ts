/**
 * Benchmark of the availability mirror against the Postgres queries it offloads
 * (`npx tsx bench/availability.ts`, or `npm run bench`).
 *
 * Starts its own valkey-server and creates a fresh database on the local Postgres
 * (`BENCH_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/postgres; dropped at the end),
 * then for 1k and 10k online mitras (plus deactivated, stale and at-capacity ones) times, one call
 * at a time:
 *
 * - findAvailableMitras: the Valkey script vs the indexed Postgres query (and the naive mirror
 *   read — SDIFF, then MGET of every capacity and heartbeat key into Node — for reference);
 * - the beacon's count, computed (Valkey vs Postgres) and served from the cached snapshot;
 * - the heartbeat write: the Valkey script vs the Postgres fallback;
 * - the seed of the whole mirror.
 *
 * Then the heartbeat and beacon routes end to end over HTTP against the real service
 * (`src/main.ts` as a child process) with keep-alive connections and bounded concurrency.
 *
 * Writes `bench/results/availability.json` and the table between the bench markers of
 * `docs/availability.md`.
 */
import { PgClient } from "@effect/sql-pg"
import { ConfigProvider, Duration, Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { spawn } from "node:child_process"
import { readFileSync, writeFileSync, mkdirSync } from "node:fs"
import http from "node:http"
import { cpus, loadavg } from "node:os"
import { performance } from "node:perf_hooks"
import pg from "pg"
import { Availability } from "../src/availability/Availability.js"
import { Beacon } from "../src/availability/Beacon.js"
import { MitraStatus } from "../src/availability/MitraStatus.js"
import { AvailabilitySettings } from "../src/settings/AvailabilitySettings.js"
import { type AvailabilityQuery, AvailabilityStore } from "../src/availability/store/AvailabilityStore.js"
import { AvailabilityStoreLive, FailingAvailabilityStoreLive } from "../src/availability/AvailabilityStoreLive.js"
import { Heartbeat } from "../src/availability/Heartbeat.js"
import { mirrorKeys } from "../src/availability/store/MirrorKeys.js"
import { MirrorSeeder } from "../src/availability/mirror/MirrorSeeder.js"
import { MitrasRepo } from "../src/mitras/MitrasRepo.js"
import { makeAccessTokens } from "../src/auth/AccessTokens.js"
import { AppConfig, appConfig } from "../src/config/AppConfig.js"
import { pgClientOptions } from "../src/db/PgPool.js"
import { runMigrations } from "../src/db/Migrations.js"
import { makeValkeyClient } from "../src/valkey/ValkeyClient.js"
import { ValkeyConnection } from "../src/valkey/ValkeyConnection.js"
import { freePort, startValkeyServer } from "../test/support/valkeyServer.js"

const sizes = [1_000, 10_000]
const jwtSecret = "bench-secret-of-at-least-thirty-two-characters"
const resultsFile = new URL("./results/availability.json", import.meta.url)
const docsFile = new URL("../docs/availability.md", import.meta.url)

// ---------------------------------------------------------------------------------------------
// Timing

interface Stats {
  readonly iterations: number
  readonly medianMs: number
  readonly p95Ms: number
  readonly meanMs: number
  readonly opsPerSec: number
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits))

const stats = (samples: ReadonlyArray<number>): Stats => {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
  return {
    iterations: sorted.length,
    medianMs: round(at(0.5)),
    p95Ms: round(at(0.95)),
    meanMs: round(mean),
    opsPerSec: Math.round(1000 / mean)
  }
}

/** Runs `run` `warmup` times untimed, then `iterations` times one after another. */
const time = async (iterations: number, run: (i: number) => Promise<unknown>, warmup = Math.min(50, iterations)) => {
  for (let i = 0; i < warmup; i++) await run(i)
  const samples: Array<number> = []
  for (let i = 0; i < iterations; i++) {
    const started = performance.now()
    await run(i)
    samples.push(performance.now() - started)
  }
  return stats(samples)
}

const ratio = (slow: Stats, fast: Stats) => round(slow.medianMs / fast.medianMs, 1)

// ---------------------------------------------------------------------------------------------
// Data

const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const databaseName = `bench_availability_${process.pid}`
const databaseUrl = (() => {
  const url = new URL(adminUrl)
  url.pathname = `/${databaseName}`
  return url.toString()
})()

const admin = async (text: string) => {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}

interface Population {
  readonly online: number
  readonly deactivated: number
  readonly stale: number
  readonly atCapacity: number
  readonly ownMaximum: number
}

/**
 * `online` online mitras: every 10th stale (heartbeat 10 minutes old), every 10th (offset 3) at
 * capacity (one active session, default maximum 1), every 20th with its own maximum of 2 and one
 * session (still available); plus online/10 deactivated (offline) mitras.
 */
const populate = async (client: pg.Client, online: number): Promise<Population> => {
  await client.query(`TRUNCATE mitra_status_events, mitra_online_status, chat_sessions, auth_sessions, customers, mitras CASCADE`)
  const deactivated = Math.floor(online / 10)
  await client.query(`
    INSERT INTO mitras (id, display_name, phone, password_hash, is_active, max_concurrent_sessions)
    SELECT md5('bench-' || i)::uuid, 'Bench mitra ' || i, '+6281' || lpad(i::text, 9, '0'), 'unusable',
           i <= $1::int, CASE WHEN i % 20 = 0 THEN 2 END
    FROM generate_series(1, $1::int + $2::int) AS i
  `, [online, deactivated])
  await client.query(`
    INSERT INTO mitra_online_status (mitra_id, is_online, last_online_at, last_heartbeat_at, updated_at)
    SELECT md5('bench-' || i)::uuid, true, now(),
           date_trunc('milliseconds', CASE WHEN i % 10 = 0 THEN now() - interval '10 minutes' ELSE now() - (i % 15) * interval '1 second' END),
           now()
    FROM generate_series(1, $1::int) AS i
  `, [online])
  await client.query(`INSERT INTO customers (id, display_name) VALUES ('00000000-0000-4000-8000-000000000001', 'Bench customer')`)
  await client.query(`
    INSERT INTO chat_sessions (customer_id, mitra_id, status)
    SELECT '00000000-0000-4000-8000-000000000001', md5('bench-' || i)::uuid, 'active'
    FROM generate_series(1, $1::int) AS i WHERE i % 10 = 3 OR i % 20 = 0
  `, [online])
  await client.query(`INSERT INTO chat_sessions (customer_id, status) SELECT '00000000-0000-4000-8000-000000000001', 'searching' FROM generate_series(1, 50)`)
  await client.query("ANALYZE")
  return {
    online,
    deactivated,
    stale: Math.floor(online / 10),
    atCapacity: Array.from({ length: online }, (_, k) => k + 1).filter((i) => i % 10 === 3 && i % 20 !== 0).length,
    ownMaximum: Math.floor(online / 20)
  }
}

const mitraIds = async (client: pg.Client, online: number) =>
  (await client.query<{ id: string }>(`SELECT md5('bench-' || i)::uuid::text AS id FROM generate_series(1, $1::int) AS i`, [online])).rows
    .map((r) => r.id)

// ---------------------------------------------------------------------------------------------
// The services, as the app composes them

const configLayer = (valkeyUrl: string) =>
  Layer.effect(
    AppConfig,
    Effect.withConfigProvider(
      appConfig,
      ConfigProvider.fromMap(new Map(Object.entries({ DATABASE_URL: databaseUrl, VALKEY_URL: valkeyUrl, JWT_SECRET: jwtSecret })))
    )
  )

const valkeyLayer = (url: string) =>
  Layer.scoped(
    ValkeyConnection,
    Effect.gen(function*() {
      const client = yield* makeValkeyClient({ url: Redacted.make(url), commandTimeout: Duration.seconds(5) })
      while (!(yield* client.isReady)) yield* Effect.sleep("10 millis")
      return ValkeyConnection.fromClient(client, "")
    })
  )

const servicesOn = (valkeyUrl: string, store: "valkey" | "failing") =>
  Layer.mergeAll(
    Availability.Default,
    Beacon.Default,
    Heartbeat.Default,
    MitraStatus.Default,
    MirrorSeeder.Default,
    MitrasRepo.Default,
    AvailabilitySettings.Default
  ).pipe(
    Layer.provideMerge(store === "valkey" ? AvailabilityStoreLive : FailingAvailabilityStoreLive),
    Layer.provideMerge(Layer.mergeAll(
      PgClient.layer({ ...pgClientOptions, url: Redacted.make(databaseUrl), maxConnections: 10 }),
      valkeyLayer(valkeyUrl),
      configLayer(valkeyUrl)
    )),
    Layer.orDie
  )

// ---------------------------------------------------------------------------------------------
// HTTP load

interface HttpResult {
  /** CPU time the service process spent per request (user + system): independent of machine load. */
  readonly serverCpuMsPerRequest?: number
  readonly requests: number
  readonly concurrency: number
  readonly durationMs: number
  readonly requestsPerSec: number
  readonly medianMs: number
  readonly p95Ms: number
  readonly statuses: Record<string, number>
}

const load = (options: {
  port: number
  path: string
  method: "GET" | "POST"
  requests: number
  concurrency: number
  token?: (i: number) => string
}) =>
  new Promise<HttpResult>((resolve, reject) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency })
    const latencies: Array<number> = []
    const statuses: Record<string, number> = {}
    let issued = 0
    let done = 0
    const started = performance.now()
    const next = () => {
      if (issued >= options.requests) return
      const i = issued++
      const t0 = performance.now()
      const request = http.request({
        host: "127.0.0.1",
        port: options.port,
        path: options.path,
        method: options.method,
        agent,
        headers: options.token ? { authorization: `Bearer ${options.token(i)}` } : {}
      }, (response) => {
        response.resume()
        response.on("end", () => {
          latencies.push(performance.now() - t0)
          statuses[String(response.statusCode)] = (statuses[String(response.statusCode)] ?? 0) + 1
          if (++done === options.requests) {
            const durationMs = performance.now() - started
            agent.destroy()
            const s = stats(latencies)
            resolve({
              requests: options.requests,
              concurrency: options.concurrency,
              durationMs: Math.round(durationMs),
              requestsPerSec: Math.round(options.requests / (durationMs / 1000)),
              medianMs: s.medianMs,
              p95Ms: s.p95Ms,
              statuses
            })
          } else next()
        })
      })
      request.on("error", reject)
      request.end()
    }
    for (let c = 0; c < options.concurrency; c++) next()
  })

const startService = async (valkeyUrl: string) => {
  const port = await freePort()
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: new URL("..", import.meta.url).pathname,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      VALKEY_URL: valkeyUrl,
      JWT_SECRET: jwtSecret,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json"
    },
    stdio: ["ignore", "ignore", "inherit"]
  })
  const startedAt = Date.now()
  for (;;) {
    if (child.exitCode !== null) throw new Error("the service exited during start-up")
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)
    if (ready) break
    if (Date.now() - startedAt > 60_000) throw new Error("the service did not become ready")
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    port,
    /** CPU milliseconds (user + system) the service has used so far, from /proc. */
    cpuMs: () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ")
      return (Number(fields[11]) + Number(fields[12])) * 10
    },
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once("exit", () => resolve())
      child.kill("SIGTERM")
    })
  }
}

// ---------------------------------------------------------------------------------------------

const main = async () => {
  const loadAtStart = loadavg()[0]!
  const valkey = await startValkeyServer()
  await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`)
  await admin(`CREATE DATABASE ${databaseName}`)
  const client = new pg.Client({ connectionString: databaseUrl })
  try {
    await Effect.runPromise(
      runMigrations.pipe(
        Effect.provide(PgClient.layer({ ...pgClientOptions, url: Redacted.make(databaseUrl) })),
        Effect.scoped
      )
    )
    await client.connect()

    const mirrorRuntime = ManagedRuntime.make(servicesOn(valkey.url, "valkey"))
    const outageRuntime = ManagedRuntime.make(servicesOn(valkey.url, "failing"))
    const raw = new (await import("ioredis")).Redis(valkey.url)
    const keys = mirrorKeys("")
    const results: Array<Record<string, unknown>> = []

    for (const size of sizes) {
      process.stdout.write(`\n== ${size} online mitras ==\n`)
      const population = await populate(client, size)
      const ids = await mitraIds(client, size)
      await raw.flushall()

      const seedStats = await time(5, () => mirrorRuntime.runPromise(Effect.flatMap(MirrorSeeder, (s) => s.seedFromPostgres())), 1)

      const settings = await mirrorRuntime.runPromise(Effect.flatMap(AvailabilitySettings, (s) => s.fresh))
      const query: AvailabilityQuery = {
        freshSince: new Date(Date.now() - settings.heartbeatStaleSeconds * 1000),
        defaultMaxSessions: settings.maxSessionsPerMitra,
        defaultMaxVersion: settings.maxSessionsVersion
      }
      const fromValkey = await mirrorRuntime.runPromise(Effect.flatMap(AvailabilityStore, (s) => s.findAvailable(query)))
      const fromPostgres = await mirrorRuntime.runPromise(Effect.flatMap(MitrasRepo, (p) => Effect.map(p.findAvailable(query), (rows) => rows.map((row) => row.id))))
      const same = fromValkey.length === fromPostgres.length && new Set(fromValkey).size === new Set([...fromValkey, ...fromPostgres]).size
      if (!same) throw new Error(`Valkey and Postgres disagree: ${fromValkey.length} vs ${fromPostgres.length}`)
      process.stdout.write(`available: ${fromValkey.length} (Valkey and Postgres agree)\n`)

      const iterations = size >= 10_000 ? 200 : 500
      const findValkey = await time(iterations, () => mirrorRuntime.runPromise(Effect.flatMap(AvailabilityStore, (s) => s.findAvailable(query))))
      const findPostgres = await time(iterations, () => mirrorRuntime.runPromise(Effect.flatMap(MitrasRepo, (p) => Effect.map(p.findAvailable(query), (rows) => rows.map((row) => row.id)))))
      const cutoffIso = query.freshSince.toISOString()
      const findNaive = await time(Math.min(iterations, 100), async () => {
        const candidates = await raw.sdiff(keys.online, keys.deactivated)
        const [capacity, heartbeats, maxima] = await Promise.all([
          raw.mget(...candidates.map(keys.capacity)),
          raw.mget(...candidates.map(keys.heartbeat)),
          raw.hgetall(keys.maxSessions)
        ])
        return candidates.filter((id, i) =>
          (heartbeats[i] ?? "") >= cutoffIso && Number(capacity[i] ?? 0) < Number(maxima[id] ?? 1)
        )
      })
      // The same two reads at the driver level (no Effect runtime, no row transforms): the
      // comparison most favourable to Postgres, and what "the indexed query" costs on its own.
      const findValkeyDriver = await time(iterations, async () => {
        const replies = await raw.multi()
          .hmget(keys.meta, "seededAt", "defaultMaxVersion")
          .zrange(keys.freeIndex, query.freshSince.getTime(), "+inf", "BYSCORE")
          .exec()
        return replies![1]![1] as Array<string>
      })
      const findPostgresDriver = await time(iterations, async () =>
        (await client.query<{ id: string }>(`
          SELECT s.mitra_id AS id
          FROM mitra_online_status s
          JOIN mitras m ON m.id = s.mitra_id
          LEFT JOIN (SELECT mitra_id, count(*)::int AS live FROM chat_sessions
                     WHERE status IN ('active', 'pending_payment') AND mitra_id IS NOT NULL GROUP BY mitra_id) c
            ON c.mitra_id = s.mitra_id
          WHERE s.is_online AND m.is_active AND s.last_heartbeat_at >= $1
            AND COALESCE(c.live, 0) < COALESCE(m.max_concurrent_sessions, $2)
        `, [query.freshSince, query.defaultMaxSessions])).rows.map((r) => r.id))
      const countValkey = await time(iterations * 2, () => mirrorRuntime.runPromise(Effect.flatMap(AvailabilityStore, (s) => s.countAvailable(query))))
      const countPostgres = await time(iterations, () => mirrorRuntime.runPromise(Effect.flatMap(MitrasRepo, (p) => p.countAvailable(query))))
      await mirrorRuntime.runPromise(Effect.flatMap(Beacon, (b) => b.current()))
      const beaconCached = await time(iterations * 2, () => mirrorRuntime.runPromise(Effect.flatMap(Beacon, (b) => b.current())))
      const liveIds = ids.filter((_, k) => (k + 1) % 10 !== 0)
      const heartbeatValkey = await time(3_000, (i) => mirrorRuntime.runPromise(Effect.flatMap(Heartbeat, (h) => h.record(liveIds[i % liveIds.length]!))))
      const heartbeatPostgres = await time(1_000, (i) => outageRuntime.runPromise(Effect.flatMap(Heartbeat, (h) => h.record(liveIds[i % liveIds.length]!))))

      const row = {
        population: { ...population, available: fromValkey.length },
        seed: seedStats,
        findAvailableMitras: { valkey: findValkey, postgres: findPostgres, naiveValkey: findNaive, postgresOverValkey: ratio(findPostgres, findValkey) },
        findAvailableMitrasDriverLevel: {
          valkey: findValkeyDriver,
          postgres: findPostgresDriver,
          postgresOverValkey: ratio(findPostgresDriver, findValkeyDriver)
        },
        beaconCount: { valkey: countValkey, postgres: countPostgres, postgresOverValkey: ratio(countPostgres, countValkey) },
        beaconSnapshotHit: beaconCached,
        heartbeatWrite: { valkey: heartbeatValkey, postgres: heartbeatPostgres, postgresOverValkey: ratio(heartbeatPostgres, heartbeatValkey) }
      }
      results.push({ onlineMitras: size, ...row })
      process.stdout.write(JSON.stringify(row, null, 2) + "\n")
    }

    // End to end over HTTP, on the 10k population the last round left in place.
    process.stdout.write("\n== HTTP (10k online mitras) ==\n")
    await raw.flushall()
    const service = await startService(valkey.url)
    let httpResults: Record<string, HttpResult>
    try {
      const tokens = await Effect.runPromise(makeAccessTokens(new TextEncoder().encode(jwtSecret), Duration.hours(1)))
      const ids = (await mitraIds(client, sizes[sizes.length - 1]!)).filter((_, k) => (k + 1) % 10 !== 0).slice(0, 2_000)
      const bearer = await Effect.runPromise(Effect.forEach(ids, (id) => tokens.issue("mitra", id)))
      const token = (i: number) => bearer[i % bearer.length]!.accessToken
      await load({ port: service.port, path: "/api/mitra/status/heartbeat", method: "POST", requests: 2_000, concurrency: 16, token })
      const measured = async (options: Parameters<typeof load>[0]): Promise<HttpResult> => {
        const cpuBefore = service.cpuMs()
        const result = await load(options)
        return { ...result, serverCpuMsPerRequest: round((service.cpuMs() - cpuBefore) / options.requests) }
      }
      httpResults = {
        // The HTTP stack alone (no auth, no store), to read the two routes' own cost against.
        healthz: await measured({ port: service.port, path: "/healthz", method: "GET", requests: 20_000, concurrency: 32 }),
        heartbeat: await measured({ port: service.port, path: "/api/mitra/status/heartbeat", method: "POST", requests: 20_000, concurrency: 32, token }),
        beacon: await measured({ port: service.port, path: "/api/availability", method: "GET", requests: 20_000, concurrency: 32 })
      }
      process.stdout.write(JSON.stringify(httpResults, null, 2) + "\n")
    } finally {
      await service.stop()
    }

    const versions = {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      valkey: (await raw.info("server").then((info) => info.match(/valkey_version:(\S+)/) ?? info.match(/redis_version:(\S+)/)))?.[1] ??
        "unknown",
      postgres: (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version,
      // Other work on the machine skews absolute times (the ratios much less): reported, not hidden.
      loadAverage1m: { atStart: round(loadAtStart, 2), atEnd: round(loadavg()[0]!, 2) }
    }
    raw.disconnect()
    await mirrorRuntime.dispose()
    await outageRuntime.dispose()

    const output = { generatedAt: new Date().toISOString(), machine: versions, sizes: results, http: httpResults }
    mkdirSync(new URL("./results/", import.meta.url), { recursive: true })
    writeFileSync(resultsFile, JSON.stringify(output, null, 2) + "\n")
    writeDocsTable(output)
    process.stdout.write(`\nWrote ${resultsFile.pathname} and the table in ${docsFile.pathname}\n`)
  } finally {
    await client.end().catch(() => undefined)
    await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`)
    await valkey.stop("SIGTERM")
  }
}

const ms = (s: Stats) => `${s.medianMs} / ${s.p95Ms}`

const writeDocsTable = (output: {
  generatedAt: string
  machine: Record<string, unknown>
  sizes: ReadonlyArray<Record<string, unknown>>
  http: Record<string, HttpResult>
}) => {
  type Row = {
    onlineMitras: number
    seed: Stats
    findAvailableMitras: { valkey: Stats; postgres: Stats; naiveValkey: Stats; postgresOverValkey: number }
    findAvailableMitrasDriverLevel: { valkey: Stats; postgres: Stats; postgresOverValkey: number }
    beaconCount: { valkey: Stats; postgres: Stats; postgresOverValkey: number }
    beaconSnapshotHit: Stats
    heartbeatWrite: { valkey: Stats; postgres: Stats; postgresOverValkey: number }
  }
  const rows = output.sizes as ReadonlyArray<Row>
  const lines = [
    `Measured ${output.generatedAt.slice(0, 10)} on ${output.machine.cpus} × ${output.machine.cpuModel}, Node ${output.machine.node}, ` +
    `Valkey ${output.machine.valkey}, Postgres ${output.machine.postgres} (all on one machine; 1-minute load average ` +
    `${(output.machine.loadAverage1m as { atStart: number; atEnd: number }).atStart} at the start, ` +
    `${(output.machine.loadAverage1m as { atStart: number; atEnd: number }).atEnd} at the end). ` +
    "Median / p95 in ms per call, one call at a time, through the services (Effect runtime included); " +
    "ratio = Postgres median ÷ Valkey median.",
    "",
    "| operation | online mitras | Valkey | Postgres | ratio |",
    "|---|---:|---:|---:|---:|"
  ]
  for (const r of rows) {
    const n = r.onlineMitras.toLocaleString("en")
    lines.push(`| findAvailableMitras | ${n} | ${ms(r.findAvailableMitras.valkey)} | ${ms(r.findAvailableMitras.postgres)} | ${r.findAvailableMitras.postgresOverValkey}× |`)
    lines.push(
      `| findAvailableMitras, driver level (ioredis MULTI vs pg query, no Effect) | ${n} | ${ms(r.findAvailableMitrasDriverLevel.valkey)} | ${
        ms(r.findAvailableMitrasDriverLevel.postgres)
      } | ${r.findAvailableMitrasDriverLevel.postgresOverValkey}× |`
    )
    lines.push(`| findAvailableMitras, naive mirror read (SDIFF + MGET, reference) | ${n} | ${ms(r.findAvailableMitras.naiveValkey)} | | |`)
    lines.push(`| beacon count, computed | ${n} | ${ms(r.beaconCount.valkey)} | ${ms(r.beaconCount.postgres)} | ${r.beaconCount.postgresOverValkey}× |`)
    lines.push(`| beacon, snapshot hit | ${n} | ${ms(r.beaconSnapshotHit)} | | |`)
    lines.push(`| heartbeat write (guard + write) | ${n} | ${ms(r.heartbeatWrite.valkey)} | ${ms(r.heartbeatWrite.postgres)} | ${r.heartbeatWrite.postgresOverValkey}× |`)
    lines.push(`| seed of the whole mirror (Postgres read + staging + swap) | ${n} | ${ms(r.seed)} | | |`)
  }
  const h = output.http
  lines.push(
    "",
    "End to end over HTTP against `src/main.ts` (10k online mitras, keep-alive, load generator on the same 2 cores):",
    "",
    "| route | requests | concurrency | requests/s | median ms | p95 ms | service CPU ms / request | statuses |",
    "|---|---:|---:|---:|---:|---:|---:|---|"
  )
  for (const [name, r] of Object.entries(h)) {
    const route = ({ heartbeat: "POST /api/mitra/status/heartbeat", beacon: "GET /api/availability", healthz: "GET /healthz (baseline)" } as Record<string, string>)[name] ?? name
    lines.push(
      `| ${route} | ${r.requests} | ${r.concurrency} | ${r.requestsPerSec} | ${r.medianMs} | ${r.p95Ms} | ${r.serverCpuMsPerRequest ?? ""} | ${JSON.stringify(r.statuses)} |`
    )
  }
  const docs = readFileSync(docsFile, "utf8")
  const start = "<!-- bench:start -->"
  const end = "<!-- bench:end -->"
  const from = docs.indexOf(start)
  const to = docs.indexOf(end)
  if (from < 0 || to < from) throw new Error(`docs/availability.md lacks the ${start} … ${end} markers`)
  writeFileSync(docsFile, `${docs.slice(0, from + start.length)}\n${lines.join("\n")}\n${docs.slice(to)}`)
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  }
)
