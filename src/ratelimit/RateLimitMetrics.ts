/** What rate limiting counts on `/metrics`. */
import { Metric } from "effect"

export const rateLimited = Metric.counter("rate_limited_total", {
  description: "Requests refused with 429 by a rate limit, by limit",
  incremental: true
})

export const rateLimitFallbacks = Metric.counter("rate_limit_fallback_total", {
  description: "Rate-limit operations counted in this process's memory because Valkey failed",
  incremental: true
})

const limitedByName = new Map<string, Metric.Metric.Counter<number>>()

/** One tagged counter per limit, made once (`Metric.tagged` allocates). */
export const rateLimitedCounter = (limit: string) => {
  let counter = limitedByName.get(limit)
  if (counter === undefined) {
    counter = Metric.tagged(rateLimited, "limit", limit)
    limitedByName.set(limit, counter)
  }
  return counter
}
