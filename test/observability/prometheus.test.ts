import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric, MetricBoundaries } from "effect"
import { renderPrometheusText } from "../../src/observability/PrometheusText.js"
import { get } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

describe("Prometheus exposition", () => {
  it.effect("renders counters, gauges, histograms and frequencies in the text format", () =>
    Effect.gen(function*() {
      const id = Math.random().toString(36).slice(2, 8)
      const counter = Metric.counter(`test_${id}_total`, { description: "A counter" }).pipe(Metric.tagged("op", "read"))
      const gauge = Metric.gauge(`test_${id}_gauge`)
      const histogram = Metric.histogram(`test_${id}_seconds`, MetricBoundaries.fromIterable([0.1, 1]))
      const frequency = Metric.frequency(`test_${id}_outcome`)

      yield* Metric.incrementBy(counter, 3)
      yield* Metric.set(gauge, 7)
      yield* Metric.update(histogram, 0.05)
      yield* Metric.update(histogram, 0.5)
      yield* Metric.update(histogram, 5)
      yield* Metric.update(frequency, "healed")
      yield* Metric.update(frequency, "healed")

      const text = renderPrometheusText(yield* Metric.snapshot)
      expect(text).toContain(`# HELP test_${id}_total A counter\n# TYPE test_${id}_total counter\ntest_${id}_total{op="read"} 3\n`)
      expect(text).toContain(`# TYPE test_${id}_gauge gauge\ntest_${id}_gauge 7\n`)
      expect(text).toContain(`test_${id}_seconds_bucket{le="0.1"} 1\n`)
      expect(text).toContain(`test_${id}_seconds_bucket{le="1"} 2\n`)
      expect(text).toContain(`test_${id}_seconds_bucket{le="+Inf"} 3\n`)
      expect(text).toContain(`test_${id}_seconds_sum 5.55\n`)
      expect(text).toContain(`test_${id}_seconds_count 3\n`)
      expect(text).toContain(`test_${id}_outcome{value="healed"} 2\n`)
    }))

  it.scopedLive("GET /metrics serves it as text/plain with the process gauges", () =>
    Effect.gen(function*() {
      yield* Metric.increment(Metric.counter("metrics_route_test_total"))
      const response = yield* get("/metrics")
      expect(response.status).toBe(200)
      expect(response.headers["content-type"]).toContain("text/plain")
      expect(response.text).toMatch(/^process_resident_memory_bytes \d+$/m)
      expect(response.text).toContain("metrics_route_test_total 1")
    }).pipe(Effect.provide(TestApp())))
})
