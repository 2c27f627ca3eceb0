/** What `GET /api/mitra/me` shows: read from Postgres, the durable truth, with the effective capacity. */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { AvailabilitySettings } from "../availability/AvailabilitySettings.js"
import { MitraNotFound } from "../mitras/MitraErrors.js"
import { orDatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { MitraMe } from "./MitraApi.js"
import { liveStatusList } from "../mitras/LiveSessions.js"

export class MitraProfile extends Effect.Service<MitraProfile>()("mitra/MitraProfile", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const settings = yield* AvailabilitySettings

    const get = Effect.fn("MitraProfile.get")(function*(mitraId: string) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const [row] = yield* orDatabaseUnavailable(sql<{
        id: string
        displayName: string
        phone: string
        isActive: boolean
        isOnline: boolean
        liveSessions: number
        maxConcurrentSessions: number | null
      }>`
        SELECT m.id, m.display_name, m.phone, m.is_active, m.max_concurrent_sessions,
               COALESCE(s.is_online, false) AS is_online,
               (SELECT count(*)::int FROM chat_sessions c
                WHERE c.mitra_id = m.id AND c.status IN ${liveStatusList}) AS live_sessions
        FROM mitras m LEFT JOIN mitra_online_status s ON s.mitra_id = m.id
        WHERE m.id = ${mitraId}
      `)
      if (row === undefined) return yield* new MitraNotFound({ message: "No such mitra", mitraId })
      const { maxSessionsPerMitra } = yield* settings.current
      return new MitraMe({ ...row, maxConcurrentSessions: row.maxConcurrentSessions ?? maxSessionsPerMitra })
    })

    return { get } as const
  })
}) {}
