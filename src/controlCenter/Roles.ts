/** Control-center roles: a name and the permissions it grants (validated against the catalog). */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import type { Permissions } from "../auth/Principals.js"
import { orDatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { DuplicateRoleName } from "./ControlCenterErrors.js"
import { requireCanGrant } from "./Grants.js"

export const Role = Schema.Struct({
  id: Schema.UUID,
  name: Schema.String,
  permissions: Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) }),
  createdAt: Schema.Date
}).annotations({ identifier: "Role" })
export type Role = typeof Role.Type

const RoleRow = Schema.Struct({ ...Role.fields, createdAt: Schema.DateFromSelf })
const decodeRows = Schema.decodeUnknown(Schema.Array(RoleRow))

export class Roles extends Effect.Service<Roles>()("mitra/Roles", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const list = Effect.fn("Roles.list")(function*() {
      return yield* orDatabaseUnavailable(sql`SELECT id, name, permissions, created_at FROM roles ORDER BY name`).pipe(
        Effect.flatMap(decodeRows),
        Effect.catchTag("ParseError", Effect.die)
      )
    })

    /**
     * `permissions` must already be validated (`PermissionsInput`). The actor (`actorPermissions`)
     * must hold every one of them (403 otherwise): nobody writes a role granting more than it has.
     * Names are unique ignoring case (`lower(name)` index, migration 0004): 409 for a case variant.
     */
    const create = Effect.fn("Roles.create")(
      function*(name: string, permissions: Permissions, actorPermissions: Permissions) {
        yield* requireCanGrant(actorPermissions, permissions, `role "${name}"`)
        const rows = yield* orDatabaseUnavailable(sql`
          INSERT INTO roles (name, permissions) VALUES (${name}, ${JSON.stringify(permissions)}::jsonb)
          ON CONFLICT ((lower(name))) DO NOTHING
          RETURNING id, name, permissions, created_at
        `).pipe(Effect.flatMap(decodeRows), Effect.catchTag("ParseError", Effect.die))
        const [role] = rows
        if (role === undefined) {
          return yield* new DuplicateRoleName({ message: "A role with this name already exists (names are compared ignoring case)", name })
        }
        yield* Effect.annotateCurrentSpan("role.id", role.id)
        return role
      }
    )

    return { list, create }
  })
}) {}
