/**
 * The embedded database for trying the service on one machine: PGlite (Postgres compiled to WASM)
 * behind a Postgres wire-protocol socket on a loopback port, so the rest of the code talks to it
 * through the same `pg` driver as to a real server.
 */
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { Effect } from "effect"
import { mkdirSync } from "node:fs"
import { createServer } from "node:net"

/**
 * PGlite is a single Postgres session: queries from several socket connections are interleaved
 * in it, so two clients could interleave their transactions. One connection keeps every
 * transaction whole; the pool in front of it must be the same size.
 */
export const EMBEDDED_MAX_CONNECTIONS = 1

export interface EmbeddedPostgres {
  readonly host: string
  readonly port: number
  readonly maxConnections: number
}

const freeLoopbackPort = Effect.async<number, Error>((resume) => {
  const probe = createServer()
  probe.once("error", (error) => resume(Effect.fail(error)))
  probe.listen(0, "127.0.0.1", () => {
    const address = probe.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    probe.close(() => resume(Effect.succeed(port)))
  })
})

/** Opens (or creates) the database under `dataDir` and serves it until the scope closes. */
export const startEmbeddedPostgres = (dataDir: string) =>
  Effect.gen(function*() {
    const host = "127.0.0.1"
    const port = yield* freeLoopbackPort
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise(() => {
        mkdirSync(dataDir, { recursive: true })
        return PGlite.create(dataDir)
      }),
      (db) => Effect.promise(() => db.close()).pipe(Effect.ignore)
    )
    yield* Effect.acquireRelease(
      Effect.tryPromise(async () => {
        const server = new PGLiteSocketServer({ db, host, port, maxConnections: EMBEDDED_MAX_CONNECTIONS })
        await server.start()
        return server
      }),
      (server) => Effect.promise(() => server.stop()).pipe(Effect.ignore)
    )
    return { host, port, maxConnections: EMBEDDED_MAX_CONNECTIONS } satisfies EmbeddedPostgres
  }).pipe(Effect.withSpan("EmbeddedPostgres.start"))
