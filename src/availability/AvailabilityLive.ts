/**
 * The availability services as one layer, over an `AvailabilityStore` (the live switch
 * `AvailabilityStoreLive`, or a test's in-memory / failing store) and the sessions hooks.
 * `AccountMirrorLive` (the control center's post-commit follow-up) is wired in `src/App.ts`.
 */
import { Layer } from "effect"
import { MitraProfile } from "../mitraApp/MitraProfile.js"
import { Availability } from "./Availability.js"
import { AvailabilitySettings } from "./AvailabilitySettings.js"
import { Capacity } from "./Capacity.js"
import { Heartbeat } from "./Heartbeat.js"
import { MirrorRepair } from "./MirrorRepair.js"
import { MirrorSeeder } from "./MirrorSeeder.js"
import { MitraStatus } from "./MitraStatus.js"
import { PostgresAvailability } from "./PostgresAvailability.js"

export const AvailabilityServicesLive = Layer.mergeAll(
  Availability.Default,
  Capacity.Default,
  Heartbeat.Default,
  MirrorSeeder.Default,
  MitraProfile.Default
).pipe(
  Layer.provideMerge(MitraStatus.Default),
  Layer.provideMerge(PostgresAvailability.Default),
  Layer.provideMerge(AvailabilitySettings.layer),
  // One instance: the writers ask it for a reseed, the seeder takes the request.
  Layer.provideMerge(MirrorRepair.Default)
)
