/**
 * One round of load against one server: autocannon in this process (keep-alive connections,
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
  /** The server process's user + system CPU over the round (and its in-flight tail), divided by the requests sent. */
  readonly cpuMicrosPerRequest: number
  /** The same for valkey-server: the part of a request's work done inside Valkey (Lua scripts included). */
  readonly valkeyCpuMicrosPerRequest: number
  /** Valkey commands per request, by name (commands run by Lua scripts counted too), from INFO commandstats. */
  readonly valkeyCommandsPerRequest: Readonly<Record<string, number>>
  /** The share of one core the load generator (this process) used: near 100 % means it, not the server, was the limit. */
  readonly loadGeneratorCpuPercent: number
  readonly loadAverage1m: number
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits))
const settleMs = 250

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
  readonly valkey: {
    readonly pid: number
    /** Calls so far by command name (the bench's own INFO left out). */
    readonly commandCalls: () => Promise<Readonly<Record<string, number>>>
  }
  readonly route: RouteLoad
  readonly connections: number
  /** A round lasts a fixed time; a warm-up a fixed number of requests (the same JIT exposure for a slow server as for a fast one). */
  readonly length: { readonly seconds: number } | { readonly requests: number }
}): Promise<RoundResult> => {
  const { server, route } = options
  const tokens = route.tokens
  let next = 0
  const request: autocannon.Request = { method: route.method, path: route.path }
  if (tokens !== undefined && tokens.length > 0) {
    request.setupRequest = (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } })
  }

  const callsBefore = await options.valkey.commandCalls()
  const cpuBefore = processCpuMicros(server.pid)
  const valkeyBefore = processCpuMicros(options.valkey.pid)
  const generatorBefore = process.cpuUsage()
  const startedAt = performance.now()
  const result = await autocannon({
    url: server.baseUrl,
    connections: options.connections,
    pipelining: 1,
    ...("seconds" in options.length ? { duration: options.length.seconds } : { amount: options.length.requests }),
    requests: [request]
  })
  const elapsedMicros = (performance.now() - startedAt) * 1000
  const generator = process.cpuUsage(generatorBefore)
  // Requests in flight when the round stops (at most one per connection) are still being served:
  // let them finish so their cost lands in this round, not in the next server's.
  await new Promise((resolve) => setTimeout(resolve, settleMs))
  const cpuAfter = processCpuMicros(server.pid)
  const valkeyAfter = processCpuMicros(options.valkey.pid)
  const callsAfter = await options.valkey.commandCalls()

  const problems = unexpected(result)
  if (problems.length > 0 || result.non2xx > 0) {
    throw new Error(`${server.name} ${route.method} ${route.path}: unexpected answers under load: ${problems.join(", ")}`)
  }
  const responses = result.requests.total
  // The costs are read after the in-flight requests were served, so they divide by all requests sent.
  const sent = result.requests.sent
  if (responses === 0) throw new Error(`${server.name} ${route.method} ${route.path}: no response at all`)
  return {
    requests: responses,
    requestsPerSec: round(responses / result.duration, 0),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    cpuMicrosPerRequest: round((cpuAfter - cpuBefore) / sent),
    valkeyCpuMicrosPerRequest: round((valkeyAfter - valkeyBefore) / sent),
    valkeyCommandsPerRequest: Object.fromEntries(
      Object.entries(callsAfter)
        .map(([command, calls]) => [command, round((calls - (callsBefore[command] ?? 0)) / sent, 2)] as const)
        .filter(([, perRequest]) => perRequest > 0)
        .sort(([a], [b]) => a.localeCompare(b))
    ),
    loadGeneratorCpuPercent: round((100 * (generator.user + generator.system)) / elapsedMicros, 0),
    loadAverage1m: loadAverage()[0]
  }
}
