import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    // Forks: each worker process owns its sockets and child servers, and a crash stays contained.
    pool: "forks",
    poolOptions: {
      forks: {
        // A worker runs its files in one module graph: loading Effect, the platform and the
        // service once per worker instead of once per file was most of the suite's time. Every
        // test still gets its own database, key prefix and TestClock; state that outlives a file
        // is the metric registry (tests compare before/after), and @effect/vitest's `layer`, whose
        // leak onto the shared `it` is closed by test/support/layer.ts.
        isolate: false
      }
    },
    // Two workers on two cores: the tests mostly wait on Postgres, Valkey and real timers, so a
    // second worker nearly halves the wall time (measured: 146 s with one, 105 s with two).
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 60_000
  }
})
