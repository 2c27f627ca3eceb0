/**
 * What Linux says about a process and the machine, read from /proc: CPU time, resident memory,
 * load average, CPU model. The HTTP bench reads a server's CPU before and after each round, so its
 * cost per request does not depend on how busy the rest of the machine was.
 */
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"

/** Clock ticks per second of the `utime`/`stime` fields (almost always 100, i.e. 10 ms resolution). */
export const clockTicksPerSecond: number = (() => {
  const answer = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" })
  const ticks = Number(answer.stdout?.trim())
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100
})()

/**
 * User + system CPU time the process has used so far, all threads included (libuv's pool, where
 * WebCrypto runs, too), in microseconds.
 */
export const processCpuMicros = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  // utime and stime are fields 14 and 15 of the whole line, so 11 and 12 after the name and state.
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1_000_000) / clockTicksPerSecond
}

/** Resident set size (VmRSS) in kibibytes. */
export const processRssKiB = (pid: number): number => {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  if (match === null) throw new Error(`no VmRSS for process ${pid}`)
  return Number(match[1])
}

/** The 1-, 5- and 15-minute load averages. */
export const loadAverage = (): readonly [number, number, number] => {
  const [one, five, fifteen] = readFileSync("/proc/loadavg", "utf8").split(" ").map(Number)
  return [one ?? NaN, five ?? NaN, fifteen ?? NaN]
}

export const cpuModel = (): string =>
  /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "unknown"
