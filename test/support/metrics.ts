/** Reading Effect metrics in tests: a counter's value now, with the given tags. */
import { Effect, Metric } from "effect"

export const counterValue = (metric: Metric.Metric.Counter<number>, tags: Record<string, string> = {}) =>
  Effect.map(Metric.value(Object.entries(tags).reduce((m, [k, v]) => Metric.tagged(m, k, v), metric)), (s) => s.count)
