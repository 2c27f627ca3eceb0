/** The public beacon: how many mitras can take a customer now, and when that was counted. */
import { Schema } from "effect"

export class BeaconSnapshot extends Schema.Class<BeaconSnapshot>("Beacon")({
  /** Mitras who can take a customer now. */
  available: Schema.NonNegativeInt,
  /** When that number was computed (the snapshot is shared by every instance for a few seconds). */
  asOf: Schema.String
}) {}
