/**
 * `mitras`, `mitra_online_status` and `mitra_status_events`: every statement about a mitra's
 * account and availability state. The statements are grouped by what they serve — accounts
 * (`repo/AccountQueries.ts`), the online state and its audit (`repo/StatusQueries.ts`), the
 * availability reads (`repo/AvailabilityQueries.ts`) — and put behind one repository boundary
 * here: callers see domain values and `DatabaseUnavailable`, never a `SqlError`.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { repository } from "../db/Repository.js"
import { accountQueries } from "./repo/AccountQueries.js"
import { availabilityQueries } from "./repo/AvailabilityQueries.js"
import { statusQueries } from "./repo/StatusQueries.js"

/** What a login checks. */
export const MitraCredentials = Schema.Struct({ id: Schema.String, passwordHash: Schema.String, isActive: Schema.Boolean })

export class MitrasRepo extends Effect.Service<MitrasRepo>()("mitra/MitrasRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    return repository({
      ...accountQueries(sql),
      ...statusQueries(sql),
      ...availabilityQueries(sql),

      /** The account a phone number signs in to. */
      credentialsByPhone: SqlSchema.findOne({
        Request: Schema.String,
        Result: MitraCredentials,
        execute: (phone) => sql`SELECT id, password_hash, is_active FROM mitras WHERE phone = ${phone}`
      }),

      /** Whether the mitra is active; None when there is no such mitra. */
      activeFlag: SqlSchema.findOne({
        Request: Schema.String,
        Result: Schema.Struct({ isActive: Schema.Boolean }),
        execute: (mitraId) => sql`SELECT is_active FROM mitras WHERE id = ${mitraId}`
      })
    })
  })
}) {}
