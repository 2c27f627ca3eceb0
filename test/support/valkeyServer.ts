/**
 * A dedicated Valkey server for tests: `valkey-server` from PATH (falling back to `redis-server`
 * where Valkey cannot be installed), on a free loopback port, nothing persisted, stopped by PID.
 * Never the machine's shared server: tests that stop or restart Valkey stop their own.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { createServer } from "node:net"
import { Redis } from "ioredis"

export const valkeyBinary = (): string => {
  for (const name of ["valkey-server", "redis-server"]) {
    if (spawnSync("sh", ["-c", `command -v ${name}`]).status === 0) return name
  }
  throw new Error("Neither valkey-server nor redis-server is installed: run scripts/services.sh")
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

const waitUntilAnswering = async (port: number, deadlineMs = 10_000) => {
  const started = Date.now()
  for (;;) {
    const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
    probe.on("error", () => undefined)
    try {
      await probe.connect()
      await probe.ping()
      return
    } catch (error) {
      if (Date.now() - started > deadlineMs) throw new Error(`Valkey on port ${port} did not start: ${String(error)}`)
      await new Promise((r) => setTimeout(r, 50))
    } finally {
      probe.disconnect()
    }
  }
}

export interface TestValkeyServer {
  readonly port: number
  readonly url: string
  readonly pid: () => number | undefined
  /** Stops the server (SIGKILL by PID by default: a crash, not a polite shutdown). */
  readonly stop: (signal?: NodeJS.Signals) => Promise<void>
  /** Starts it again on the same port, empty. */
  readonly start: () => Promise<void>
}

export const startValkeyServer = async (options: { port?: number } = {}): Promise<TestValkeyServer> => {
  const binary = valkeyBinary()
  const port = options.port ?? (await freePort())
  let child: ChildProcess | undefined

  const start = async () => {
    child = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"], {
      stdio: "ignore"
    })
    await waitUntilAnswering(port)
  }

  const stop = async (signal: NodeJS.Signals = "SIGKILL") => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve())
      running.kill(signal)
    })
  }

  await start()
  return { port, url: `redis://127.0.0.1:${port}`, pid: () => child?.pid, stop, start }
}
