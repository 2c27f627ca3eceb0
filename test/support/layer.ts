/**
 * `layer` of @effect/vitest (one layer shared by a describe block's tests), without its side
 * effect: it assigns its testers (`effect`, `scoped`, …) onto vitest's one shared `it` object and
 * never takes them back. Where a worker runs several files in one module graph (the suite runs
 * with `isolate: false`, vitest.config.ts), every later file's `it.effect` would then run on this
 * file's layer, long closed. Here the shared `it` gets its own testers back as soon as the block's
 * tests are registered (each registered test keeps the tester it was registered with).
 */
import { it as sharedIt, layer as effectLayer } from "@effect/vitest"

const testers = ["effect", "scoped", "live", "scopedLive", "prop", "flakyTest", "layer"] as const

export const layer: typeof effectLayer = (layer_, options) => {
  const bind = effectLayer(layer_, options)
  return ((...args: ReadonlyArray<unknown>) => {
    const saved = Object.fromEntries(testers.map((name) => [name, sharedIt[name]]))
    const body = args[args.length - 1] as (it: unknown) => void
    const registering = (it: unknown) => {
      try {
        return body(it)
      } finally {
        Object.assign(sharedIt, saved)
      }
    }
    return args.length === 1
      ? (bind as (f: (it: unknown) => void) => void)(registering)
      : (bind as (name: string, f: (it: unknown) => void) => void)(args[0] as string, registering)
  }) as ReturnType<typeof effectLayer>
}
