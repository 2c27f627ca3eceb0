/**
 * The Valkey mirror with some of its writes held back a random few milliseconds: the time a real
 * write spends between its Postgres commit and Valkey (a scheduler, a network, a GC pause). Two
 * instances' writes of one mitra then reach Valkey out of commit order, often — what the mirror's
 * ordering rules must survive (docs/availability.md, "Ordering").
 */
import { Duration, Effect, Layer } from "effect"
import { AvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import { AvailabilityStore } from "../../src/availability/store/AvailabilityStore.js"

export type MirrorWrite = "markOnline" | "markOffline" | "setDeactivated" | "setCapacity"

export const delayedMirrorWrites = (writes: ReadonlyArray<MirrorWrite>, maxMillis: number) =>
  Layer.effect(
    AvailabilityStore,
    Effect.map(AvailabilityStore, (store) => {
      const jitter = Effect.suspend(() => Effect.sleep(Duration.millis(Math.random() * maxMillis)))
      const delay = <Args extends ReadonlyArray<unknown>, E>(write: (...args: Args) => Effect.Effect<void, E>) => (...args: Args) =>
        Effect.zipRight(jitter, write(...args))
      return {
        ...store,
        ...Object.fromEntries(writes.map((name) => [name, delay(store[name] as (...args: ReadonlyArray<unknown>) => Effect.Effect<void, unknown>)]))
      } as typeof store
    })
  ).pipe(Layer.provideMerge(AvailabilityStoreLive))
