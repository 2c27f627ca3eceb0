/**
 * One timed round of load against one server: autocannon in this process (keep-alive connections,
 * no pipelining), the server's CPU read from /proc just before and just after.
 */
import autocannon from "autocannon"
import { loadAverage, processCpuMicros } from "./proc.js"
import type { RunningServer } from "./servers.js"

export interface RouteLoad {
  readonly method: "GET" | "POST"
  readonly path: string
  /** Bearer tokens sent in turn, one per request, shared by all connections. */
  readonly tokens?: ReadonlyArray<string>
}

export interface RoundResult {
  readonly requests: number
  readonly requestsPerSec: number
  readonly latencyP50Ms: number
  readonly latencyP99Ms: number
  /** The server process's user + system CPU over the round, divided by the responses received. */
  readonly cpuMicrosPerRequest: number
  /** The same for valkey-server: the part of a request's work done inside Valkey (Lua scripts included). */
  readonly valkeyCpuMicrosPerRequest: number
  /** The share of one core the load generator (this process) used: near 100 % means it, not the server, was the limit. */
  readonly loadGeneratorCpuPercent: number
  readonly loadAverage1m: number
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits))

/** The answers that are not the expected 2xx, as `{ status: count }` plus socket errors and timeouts. */
const unexpected = (result: autocannon.Result) => {
  const statuses = Object.entries(result.statusCodeStats ?? {})
    .filter(([status]) => !status.startsWith("2"))
    .map(([status, stats]) => `${status} × ${stats.count ?? 0}`)
  if (result.errors > 0) statuses.push(`${result.errors} errors (${result.timeouts} timeouts)`)
  return statuses
}

export const runLoad = async (options: {
  readonly server: RunningServer
  readonly valkeyPid: number
  readonly route: RouteLoad
  readonly connections: number
  readonly seconds: number
}): Promise<RoundResult> => {
  const { server, route } = options
  const tokens = route.tokens
  let next = 0
  const request: autocannon.Request = { method: route.method, path: route.path }
  if (tokens !== undefined && tokens.length > 0) {
    request.setupRequest = (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } })
  }

  const cpuBefore = processCpuMicros(server.pid)
  const valkeyBefore = processCpuMicros(options.valkeyPid)
  const generatorBefore = process.cpuUsage()
  const startedAt = performance.now()
  const result = await autocannon({
    url: server.baseUrl,
    connections: options.connections,
    pipelining: 1,
    duration: options.seconds,
    requests: [request]
  })
  const elapsedMicros = (performance.now() - startedAt) * 1000
  const generator = process.cpuUsage(generatorBefore)
  const cpuAfter = processCpuMicros(server.pid)
  const valkeyAfter = processCpuMicros(options.valkeyPid)

  const problems = unexpected(result)
  if (problems.length > 0 || result.non2xx > 0) {
    throw new Error(`${server.name} ${route.method} ${route.path}: unexpected answers under load: ${problems.join(", ")}`)
  }
  const responses = result.requests.total
  if (responses === 0) throw new Error(`${server.name} ${route.method} ${route.path}: no response at all`)
  return {
    requests: responses,
    requestsPerSec: round(responses / result.duration, 0),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    cpuMicrosPerRequest: round((cpuAfter - cpuBefore) / responses),
    valkeyCpuMicrosPerRequest: round((valkeyAfter - valkeyBefore) / responses),
    loadGeneratorCpuPercent: round((100 * (generator.user + generator.system)) / elapsedMicros, 0),
    loadAverage1m: loadAverage()[0]
  }
}
