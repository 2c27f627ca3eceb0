/**
 * What a V8 CPU profile (`node --cpu-prof`) of a server says about where its CPU went over a window
 * of the run: the garbage collector's share, and the functions of the service itself (`dist/`)
 * that the busy samples ran under. Spans say where a request waits; this says what burns the core.
 *
 * Sample times are V8's monotonic clock in microseconds, the clock `process.hrtime` reads in every
 * process on Linux, so the bench marks a window with `monotonicMicros()` and keeps only its samples.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}

interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

export const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n)

export interface CpuProfileSummary {
  /** Busy (neither idle nor V8's "(program)" bookkeeping) sampled time in the window. */
  readonly busyMs: number
  readonly garbageCollectorShare: number
  /** Self time by package (`effect`, `pg`, …), the service's own code, or native work; share of busy time. */
  readonly selfByPackage: ReadonlyArray<{ readonly where: string; readonly share: number }>
  /** Functions of the service (`dist/…`), by the busy time spent in them and all they call; share of busy time. */
  readonly serviceFunctions: ReadonlyArray<{ readonly frame: string; readonly share: number }>
}

const packageOf = (url: string) => {
  if (url === "") return "native"
  const modules = url.lastIndexOf("node_modules/")
  if (modules >= 0) {
    const [scope, name] = url.slice(modules + "node_modules/".length).split("/")
    return scope?.startsWith("@") ? `${scope}/${name}` : scope ?? url
  }
  if (url.includes("/dist/")) return "the service (dist/)"
  return url.startsWith("node:") ? "node" : url
}

const round = (n: number) => Number(n.toFixed(3))

/** The one profile `node --cpu-prof --cpu-prof-dir=<dir>` wrote into `dir`, summarized over `[fromMicros, toMicros]`. */
export const summarizeCpuProfile = (dir: string, window: { readonly fromMicros: number; readonly toMicros: number }): CpuProfileSummary => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))
  if (files.length !== 1) throw new Error(`expected one .cpuprofile in ${dir}, found ${files.length}`)
  const profile = JSON.parse(readFileSync(join(dir, files[0]!), "utf8")) as Profile
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const parents = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)

  const timeByNode = new Map<number, number>()
  let at = profile.startTime
  profile.samples.forEach((sample, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (at >= window.fromMicros && at <= window.toMicros) timeByNode.set(sample, (timeByNode.get(sample) ?? 0) + delta)
  })

  let busy = 0
  let garbage = 0
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  for (const [id, micros] of timeByNode) {
    const { functionName, url } = nodes.get(id)!.callFrame
    if (functionName === "(idle)" || functionName === "(program)") continue
    busy += micros
    if (functionName === "(garbage collector)") {
      garbage += micros
      continue
    }
    const where = packageOf(url)
    self.set(where, (self.get(where) ?? 0) + micros)
    const seen = new Set<string>()
    for (let up: number | undefined = id; up !== undefined; up = parents.get(up)) {
      const frame = nodes.get(up)!.callFrame
      if (!frame.url.includes("/dist/") || frame.url.includes("node_modules/")) continue
      const name = `${frame.functionName || "(anonymous)"} (${frame.url.slice(frame.url.lastIndexOf("/dist/") + 6)}:${frame.lineNumber + 1})`
      if (seen.has(name)) continue
      seen.add(name)
      inclusive.set(name, (inclusive.get(name) ?? 0) + micros)
    }
  }
  if (busy === 0) throw new Error("the CPU profile has no busy sample in the window (is the clock the same?)")
  const ranked = (m: Map<string, number>) => [...m.entries()].sort(([, a], [, b]) => b - a)
  return {
    busyMs: Math.round(busy / 1000),
    garbageCollectorShare: round(garbage / busy),
    selfByPackage: ranked(self).slice(0, 8).map(([where, micros]) => ({ where, share: round(micros / busy) })),
    serviceFunctions: ranked(inclusive).slice(0, 12).map(([frame, micros]) => ({ frame, share: round(micros / busy) }))
  }
}
