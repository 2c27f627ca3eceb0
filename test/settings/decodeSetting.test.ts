import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeSettingOrDefault, defaultSettings } from "../../src/settings/SettingKeys.js"

describe("decodeSettingOrDefault (every reader of app_config)", () => {
  it.effect("decodes a valid stored value, and falls back to the default for a missing or invalid one", () =>
    Effect.gen(function*() {
      expect(yield* decodeSettingOrDefault("heartbeat_stale_seconds", 90)).toBe(90)
      expect(yield* decodeSettingOrDefault("payment_required", true)).toBe(true)
      expect(yield* decodeSettingOrDefault("heartbeat_stale_seconds", undefined)).toBe(defaultSettings.heartbeat_stale_seconds)
      for (const invalid of ["90", -1, 0, 1.5, null, { n: 1 }]) {
        expect(yield* decodeSettingOrDefault("max_sessions_per_mitra", invalid)).toBe(defaultSettings.max_sessions_per_mitra)
      }
    }))
})
