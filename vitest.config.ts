import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    // Forks: each file's process owns its sockets and child servers, and a crash stays contained.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000
  }
})
