/**
 * The real entry point as a child process, as `npm start` runs it: embedded defaults with no
 * environment, the configured servers otherwise, and a clean exit on SIGTERM.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cloneTemplateDatabase } from "../support/TestDatabase.js"
import { freePort, startValkeyServer } from "../support/valkeyServer.js"

interface Running {
  readonly baseUrl: string
  readonly child: ChildProcess
  readonly output: () => string
}

const startMain = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.promise(async (): Promise<Running> => {
      const port = await freePort()
      const { DATABASE_URL: _d, VALKEY_URL: _v, ...inherited } = process.env
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
        env: { ...inherited, PORT: String(port), HOST: "127.0.0.1", LOG_FORMAT: "json", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stdout!.on("data", (chunk) => (output += chunk))
      child.stderr!.on("data", (chunk) => (output += chunk))
      const baseUrl = `http://127.0.0.1:${port}`
      const started = Date.now()
      for (;;) {
        if (child.exitCode !== null) throw new Error(`main exited early:\n${output}`)
        const ok = await fetch(`${baseUrl}/healthz`).then((r) => r.ok, () => false)
        if (ok) break
        if (Date.now() - started > 40_000) throw new Error(`main did not listen in time:\n${output}`)
        await new Promise((r) => setTimeout(r, 100))
      }
      return { baseUrl, child, output: () => output }
    }),
    ({ child }) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
  )

const getJson = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, body: await response.json() as unknown }
  })

const runToExit = (env: Record<string, string>) =>
  Effect.promise(() =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const { DATABASE_URL: _d, VALKEY_URL: _v, JWT_SECRET: _j, ...inherited } = process.env
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { env: { ...inherited, ...env } })
      let output = ""
      child.stdout.on("data", (chunk) => (output += chunk))
      child.stderr.on("data", (chunk) => (output += chunk))
      child.once("exit", (code) => resolve({ code, output }))
    })
  )

const stopGracefully = (child: ChildProcess) =>
  Effect.promise(() =>
    new Promise<number | null>((resolve) => {
      child.once("exit", (code) => resolve(code))
      child.kill("SIGTERM")
    })
  )

describe("the service's entry point", () => {
  it.scopedLive("with no environment: embedded Postgres, in-memory store, /healthz and /readyz 200, clean SIGTERM", () =>
    Effect.gen(function*() {
      const dataDir = mkdtempSync(join(tmpdir(), "mitra-embedded-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
      const app = yield* startMain({ EMBEDDED_DATA_DIR: dataDir })

      expect(yield* getJson(`${app.baseUrl}/healthz`)).toEqual({ status: 200, body: { status: "ok" } })
      expect(yield* getJson(`${app.baseUrl}/readyz`)).toEqual({ status: 200, body: { postgres: "up", valkey: "disabled" } })
      expect(app.output()).toContain("EMBEDDED MODE")
      expect(app.output()).toContain("IN-MEMORY MODE")

      // The generated first control-center user, printed once, signs in.
      const generated = /control-center user (\S+) with the generated password (\S+) /.exec(app.output())
      expect(generated).not.toBeNull()
      const login = yield* Effect.promise(() =>
        fetch(`${app.baseUrl}/api/auth/cc/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: generated![1], password: generated![2] })
        }).then((response) => response.status)
      )
      expect(login).toBe(200)

      expect(yield* stopGracefully(app.child)).toBe(0)
    }), 60_000)

  it.scopedLive("with DATABASE_URL and VALKEY_URL: uses them; Valkey stopped → degraded", () =>
    Effect.gen(function*() {
      const database = yield* cloneTemplateDatabase
      const valkey = yield* Effect.acquireRelease(Effect.promise(() => startValkeyServer()), (s) => Effect.promise(() => s.stop()))
      const app = yield* startMain({
        DATABASE_URL: database.url,
        VALKEY_URL: valkey.url,
        JWT_SECRET: "an-e2e-secret-of-at-least-thirty-two-chars"
      })

      expect(yield* getJson(`${app.baseUrl}/readyz`)).toEqual({ status: 200, body: { postgres: "up", valkey: "up" } })
      expect(app.output()).not.toContain("EMBEDDED MODE")
      yield* Effect.promise(() => valkey.stop())
      expect(yield* getJson(`${app.baseUrl}/readyz`)).toEqual({ status: 200, body: { postgres: "up", valkey: "degraded" } })
      expect(yield* stopGracefully(app.child)).toBe(0)
    }), 60_000)

  it.scopedLive("with DATABASE_URL but no JWT_SECRET: refuses to start, naming the variable", () =>
    Effect.gen(function*() {
      const database = yield* cloneTemplateDatabase
      const { code, output } = yield* runToExit({ DATABASE_URL: database.url })
      expect(code).toBe(1)
      expect(output).toContain("invalid configuration")
      expect(output).toMatch(/JWT_SECRET: Expected JWT_SECRET to be set/)
    }), 60_000)
})
