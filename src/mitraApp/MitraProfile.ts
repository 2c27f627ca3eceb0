/** What `GET /api/mitra/me` shows: read from Postgres, the durable truth, with the effective capacity. */
import { Effect, Option } from "effect"
import { MitraNotFound } from "../mitras/MitraErrors.js"
import { MitrasRepo } from "../mitras/MitrasRepo.js"
import { AvailabilitySettings } from "../settings/AvailabilitySettings.js"
import { MitraMe } from "./MitraMe.js"

export class MitraProfile extends Effect.Service<MitraProfile>()("mitra/MitraProfile", {
  effect: Effect.gen(function*() {
    const repo = yield* MitrasRepo
    const settings = yield* AvailabilitySettings

    const get = Effect.fn("MitraProfile.get")(function*(mitraId: string) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const row = yield* repo.findById(mitraId)
      if (Option.isNone(row)) return yield* new MitraNotFound({ message: "No such mitra", mitraId })
      const { displayName, id, isActive, isOnline, liveSessions, maxConcurrentSessions, phone } = row.value
      const { maxSessionsPerMitra } = yield* settings.current
      return new MitraMe({
        id,
        displayName,
        phone,
        isActive,
        isOnline,
        liveSessions,
        maxConcurrentSessions: maxConcurrentSessions ?? maxSessionsPerMitra
      })
    })

    return { get } as const
  }),
  dependencies: [MitrasRepo.Default, AvailabilitySettings.Default]
}) {}
