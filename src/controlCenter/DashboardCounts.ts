/** What `GET /internal/dashboard` answers. */
import { Schema } from "effect"
import { ValkeyState } from "../ops/OpsApi.js"

export class DashboardCounts extends Schema.Class<DashboardCounts>("Dashboard")({
  online: Schema.NonNegativeInt,
  available: Schema.NonNegativeInt,
  liveSessions: Schema.NonNegativeInt,
  searching: Schema.NonNegativeInt,
  valkey: ValkeyState
}) {}
