/**
 * Undo steps (stop a child, drop a database) that run once, last registered first, whether the
 * bench finishes, fails or is interrupted: a benchmark that leaves servers running skews the next.
 */
const steps: Array<{ readonly name: string; readonly run: () => unknown }> = []

export const onCleanup = (name: string, run: () => unknown): void => {
  steps.push({ name, run })
}

export const cleanUp = async (): Promise<void> => {
  for (let step = steps.pop(); step !== undefined; step = steps.pop()) {
    try {
      await step.run()
    } catch (error) {
      process.stderr.write(`cleanup (${step.name}) failed: ${error instanceof Error ? error.message : String(error)}\n`)
    }
  }
}

let interrupted = false

/**
 * True once a signal arrived. Ctrl-C reaches the whole process group, so the servers and Valkey
 * die under the bench's feet: what fails after that is a consequence, not news.
 */
export const isInterrupted = (): boolean => interrupted

/** Ctrl-C (or a TERM/HUP) cleans up and exits with the conventional 128 + signal number. */
export const cleanUpOnSignals = (): void => {
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const
  for (const [signal, code] of Object.entries(codes)) {
    process.on(signal, () => {
      if (interrupted) return
      interrupted = true
      process.stderr.write(`\n${signal}: stopping the servers and dropping the database…\n`)
      void cleanUp().finally(() => process.exit(code))
    })
  }
}
