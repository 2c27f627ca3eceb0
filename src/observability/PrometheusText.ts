/**
 * Effect's metric registry in the Prometheus text exposition format (version 0.0.4), so `/metrics`
 * needs no exporter library: counters, gauges, histograms (cumulative buckets), frequencies (one
 * counter series per observed value) and summaries.
 */
import { Effect, Metric, MetricState, Option } from "effect"
import type { MetricPair } from "effect"

const sanitizeName = (name: string) => name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^([0-9])/, "_$1")
const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

const labels = (pairs: ReadonlyArray<readonly [string, string]>) =>
  pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${sanitizeName(k)}="${escapeLabel(v)}"`).join(",")}}`

const number = (n: number | bigint) =>
  typeof n === "bigint" ? n.toString() : Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN"

export const renderPrometheusText = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, { type: string; help: string; lines: Array<string> }>()
  const family = (name: string, type: string, help: Option.Option<string>) => {
    let entry = families.get(name)
    if (entry === undefined) {
      entry = { type, help: Option.getOrElse(help, () => name), lines: [] }
      families.set(name, entry)
    }
    return entry.lines
  }

  for (const { metricKey, metricState } of pairs) {
    const name = sanitizeName(metricKey.name)
    const tags = metricKey.tags.map((t) => [t.key, t.value] as const)
    if (MetricState.isCounterState(metricState)) {
      family(name, "counter", metricKey.description).push(`${name}${labels(tags)} ${number(metricState.count)}`)
    } else if (MetricState.isGaugeState(metricState)) {
      family(name, "gauge", metricKey.description).push(`${name}${labels(tags)} ${number(metricState.value)}`)
    } else if (MetricState.isFrequencyState(metricState)) {
      const lines = family(name, "counter", metricKey.description)
      for (const [value, count] of metricState.occurrences) {
        lines.push(`${name}${labels([...tags, ["value", value]])} ${count}`)
      }
    } else if (MetricState.isHistogramState(metricState)) {
      const lines = family(name, "histogram", metricKey.description)
      for (const [bound, count] of metricState.buckets) {
        lines.push(`${name}_bucket${labels([...tags, ["le", number(bound)]])} ${count}`)
      }
      lines.push(`${name}_bucket${labels([...tags, ["le", "+Inf"]])} ${metricState.count}`)
      lines.push(`${name}_sum${labels(tags)} ${number(metricState.sum)}`)
      lines.push(`${name}_count${labels(tags)} ${metricState.count}`)
    } else if (MetricState.isSummaryState(metricState)) {
      const lines = family(name, "summary", metricKey.description)
      for (const [quantile, value] of metricState.quantiles) {
        if (Option.isSome(value)) lines.push(`${name}${labels([...tags, ["quantile", String(quantile)]])} ${number(value.value)}`)
      }
      lines.push(`${name}_sum${labels(tags)} ${number(metricState.sum)}`)
      lines.push(`${name}_count${labels(tags)} ${metricState.count}`)
    }
  }

  let text = ""
  for (const [name, { type, help, lines }] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    text += `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n${lines.join("\n")}\n`
  }
  return text
}

/** Process-level gauges read at scrape time (not worth a registry entry each). */
const processText = () => {
  const memory = process.memoryUsage()
  return [
    "# HELP process_resident_memory_bytes Resident set size of the process",
    "# TYPE process_resident_memory_bytes gauge",
    `process_resident_memory_bytes ${memory.rss}`,
    "# HELP nodejs_heap_used_bytes V8 heap in use",
    "# TYPE nodejs_heap_used_bytes gauge",
    `nodejs_heap_used_bytes ${memory.heapUsed}`,
    "# HELP process_uptime_seconds Seconds since the process started",
    "# TYPE process_uptime_seconds gauge",
    `process_uptime_seconds ${process.uptime().toFixed(3)}`
  ].join("\n") + "\n"
}

/** The current registry and the process gauges, rendered. */
export const prometheusText = Effect.map(Metric.snapshot, (pairs) => renderPrometheusText(pairs) + processText())
