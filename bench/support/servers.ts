/**
 * The servers under test, each a child process of its own (so /proc gives each one's CPU and
 * memory alone), started with a minimal environment, stopped by PID.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import ts from "typescript"
import { onCleanup } from "./cleanup.js"

export interface RunningServer {
  readonly name: string
  readonly pid: number
  readonly baseUrl: string
  readonly stop: () => Promise<void>
}

const benchDir = new URL("../", import.meta.url)

/**
 * Transpiles `bench/peers/<name>.ts` to plain JavaScript in `bench/.build/peers/` (inside the
 * checkout, so its imports resolve from `node_modules`). The peers then run on bare `node`, like
 * the service from `dist/`: no loader hooks, no on-the-fly compilation inside the measured process.
 */
export const compilePeer = (name: string): string => {
  const source = readFileSync(new URL(`peers/${name}.ts`, benchDir), "utf8")
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    fileName: `${name}.ts`
  })
  const outDir = new URL(".build/peers/", benchDir)
  mkdirSync(outDir, { recursive: true })
  const file = new URL(`${name}.mjs`, outDir)
  writeFileSync(file, outputText)
  return file.pathname
}

const exited = (child: ChildProcess, withinMs: number) =>
  new Promise<boolean>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true)
    const timer = setTimeout(() => resolve(false), withinMs)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve(true)
    })
  })

/** Forwards a child's output line by line, each line prefixed with its name. */
const forward = (name: string, stream: NodeJS.ReadableStream | null, to: NodeJS.WriteStream) => {
  let pending = ""
  stream?.setEncoding("utf8")
  stream?.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n")
    pending = lines.pop() ?? ""
    for (const line of lines) to.write(`[${name}] ${line}\n`)
  })
}

/**
 * Starts `node <script>` with `env` (plus PATH only: nothing of the bench's own environment, such
 * as tsx's loader options, leaks into the measured process) and waits until `GET <readyPath>`
 * answers 200.
 */
export const startServer = async (options: {
  readonly name: string
  readonly script: string
  readonly port: number
  readonly env: Readonly<Record<string, string>>
  readonly readyPath: string
  readonly cwd: string
  /** Options for `node` itself, before the script (e.g. `--cpu-prof`). */
  readonly nodeArgs?: ReadonlyArray<string>
}): Promise<RunningServer> => {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script], {
    cwd: options.cwd,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  forward(options.name, child.stdout, process.stdout)
  forward(options.name, child.stderr, process.stderr)
  const pid = child.pid
  if (pid === undefined) throw new Error(`${options.name} did not start`)

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill("SIGTERM")
    if (!(await exited(child, 5_000))) {
      child.kill("SIGKILL")
      await exited(child, 5_000)
    }
  }
  onCleanup(`stop ${options.name} (pid ${pid})`, stop)

  const baseUrl = `http://127.0.0.1:${options.port}`
  const startedAt = Date.now()
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.name} exited during start-up (code ${child.exitCode})`)
    const status = await fetch(`${baseUrl}${options.readyPath}`).then((r) => r.arrayBuffer().then(() => r.status), () => 0)
    if (status === 200) break
    if (Date.now() - startedAt > 60_000) throw new Error(`${options.name} was not ready within 60 s (last status ${status})`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return { name: options.name, pid, baseUrl, stop }
}
