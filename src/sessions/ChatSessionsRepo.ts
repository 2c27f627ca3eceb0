/** `chat_sessions`: every statement about chat sessions. */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { repository } from "../db/Repository.js"
import { liveStatusList } from "../mitras/LiveSessions.js"

export class ChatSessionsRepo extends Effect.Service<ChatSessionsRepo>()("mitra/ChatSessionsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    return repository({
      /** Live (holding a mitra's capacity) and searching sessions, for the dashboard. */
      openCounts: SqlSchema.single({
        Request: Schema.Void,
        Result: Schema.Struct({ liveSessions: Schema.Number, searching: Schema.Number }),
        execute: () => sql`
          SELECT count(*) FILTER (WHERE status IN ${liveStatusList})::int AS live_sessions,
                 count(*) FILTER (WHERE status = 'searching')::int AS searching
          FROM chat_sessions WHERE status IN ('active', 'pending_payment', 'searching')
        `
      })(undefined)
    })
  })
}) {}
