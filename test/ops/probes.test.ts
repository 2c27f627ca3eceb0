import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { eventually } from "../support/eventually.js"
import { get } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"
import { cloneTemplateDatabase, pgClientLayer } from "../support/TestDatabase.js"
import { testValkeyConnection } from "../support/TestValkey.js"
import { startTcpProxy } from "../support/tcpProxy.js"
import { startValkeyServer } from "../support/valkeyServer.js"

const valkeyUp = (response: { readonly body: unknown }) => (response.body as { valkey?: string }).valkey === "up"

describe("GET /healthz and /readyz", () => {
  it.scopedLive("report ok, Postgres up and Valkey up on a healthy instance", () =>
    Effect.gen(function*() {
      const health = yield* get("/healthz")
      expect(health).toMatchObject({ status: 200, body: { status: "ok" } })
      const ready = yield* get("/readyz")
      expect(ready).toMatchObject({ status: 200, body: { postgres: "up", valkey: "up" } })
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("report Valkey disabled in in-memory mode", () =>
    Effect.gen(function*() {
      const ready = yield* get("/readyz")
      expect(ready).toMatchObject({ status: 200, body: { postgres: "up", valkey: "disabled" } })
    }).pipe(Effect.provide(TestApp({ valkey: Layer.succeed(ValkeyConnection, ValkeyConnection.disabled) }))))

  it.scopedLive("report Valkey degraded (still 200) while its server is stopped, and up again after restart", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => startValkeyServer()),
        (s) => Effect.promise(() => s.stop())
      )
      yield* Effect.gen(function*() {
        expect((yield* get("/readyz")).body).toMatchObject({ valkey: "up" })
        yield* Effect.promise(() => server.stop())
        const degraded = yield* get("/readyz")
        expect(degraded).toMatchObject({ status: 200, body: { postgres: "up", valkey: "degraded" } })
        yield* Effect.promise(() => server.start())
        // The client reconnects on its own (its back-off reaches 1 s between attempts); readiness
        // follows without a restart of the app. Asked every 100 ms, given far longer than one back-off.
        const recovered = yield* eventually(get("/readyz"), valkeyUp, "/readyz never reported Valkey up after its server restarted", {
          every: "100 millis",
          within: "15 seconds"
        })
        expect(recovered).toMatchObject({ status: 200, body: { postgres: "up", valkey: "up" } })
      }).pipe(Effect.provide(TestApp({ valkey: testValkeyConnection({ url: server.url }) })))
    }))

  it.scopedLive("answer 503 JSON when Postgres is unreachable, and /healthz stays 200", () =>
    Effect.gen(function*() {
      const database = yield* cloneTemplateDatabase
      const target = new URL(database.url)
      const proxy = yield* Effect.promise(() => startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }))
      const viaProxy = new URL(database.url)
      viaProxy.port = String(proxy.port)

      yield* Effect.gen(function*() {
        expect((yield* get("/readyz")).status).toBe(200)
        yield* Effect.promise(() => proxy.cut())
        const notReady = yield* get("/readyz")
        expect(notReady.status).toBe(503)
        expect(notReady.body).toMatchObject({ _tag: "NotReady", postgres: "down", valkey: "up" })
        expect((yield* get("/healthz")).status).toBe(200)
      }).pipe(Effect.provide(TestApp({ database: pgClientLayer(viaProxy.toString(), 2) })))
    }))
})
