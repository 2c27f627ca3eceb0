/**
 * `control_center_users` and `roles`: every statement about the control center's people and
 * their roles — for signing in, for the middleware's check on each request, for the bootstrap
 * admin, and for the control center that manages them — including the advisory locks that
 * serialise changes to who holds power.
 */
import { SqlClient, type SqlError, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { repository } from "../db/Repository.js"
import { CcUserRow } from "./CcUser.js"
import { RoleRow, StoredPermissions } from "./Role.js"

/** What a login checks. */
export const CcUserCredentials = Schema.Struct({ id: Schema.String, passwordHash: Schema.String, isActive: Schema.Boolean })

/** What `CcUserAuthentication` reads on every request. */
export const CcUserPrincipal = Schema.Struct({ email: Schema.String, isActive: Schema.Boolean, permissions: StoredPermissions })

/** A user as a change to it sees it, under its row lock. */
export const CcUserForUpdate = Schema.Struct({
  id: Schema.String,
  isActive: Schema.Boolean,
  roleName: Schema.String,
  permissions: StoredPermissions
})

/** The columns a PATCH may change; only those present are written. */
export const CcUserChanges = Schema.Struct({
  displayName: Schema.optionalWith(Schema.String, { exact: true }),
  roleId: Schema.optionalWith(Schema.String, { exact: true }),
  isActive: Schema.optionalWith(Schema.Boolean, { exact: true }),
  passwordHash: Schema.optionalWith(Schema.String, { exact: true })
})

const NewUser = Schema.Struct({
  email: Schema.String,
  displayName: Schema.String,
  roleId: Schema.String,
  passwordHash: Schema.String
})

const NewRole = Schema.Struct({ name: Schema.String, permissions: StoredPermissions })

const Id = Schema.Struct({ id: Schema.String })

/** Users holding every permission of `permissions`, other than `except`. */
const HoldersQuery = Schema.Struct({ permissions: StoredPermissions, except: Schema.String })

export class CcUsersRepo extends Effect.Service<CcUsersRepo>()("mitra/CcUsersRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const selectUsers = (where: ReturnType<typeof sql.and>) =>
      sql`
        SELECT u.id, u.email, u.display_name, u.role_id, r.name AS role_name, u.is_active, u.created_at
        FROM control_center_users u JOIN roles r ON r.id = u.role_id
        WHERE ${where}
        ORDER BY lower(u.email)
      `

    /** A transaction-level advisory lock: held until the caller's transaction ends. */
    const advisoryLock = (statement: () => Effect.Effect<unknown, SqlError.SqlError>) => SqlSchema.void({ Request: Schema.Void, execute: statement })(undefined)

    const countActiveHolders = SqlSchema.single({
      Request: HoldersQuery,
      Result: Schema.Struct({ n: Schema.Int }),
      execute: ({ except, permissions }) =>
        sql`
          SELECT count(*)::int AS n
          FROM control_center_users u JOIN roles r ON r.id = u.role_id
          WHERE u.is_active AND u.id <> ${except} AND r.permissions @> ${JSON.stringify(permissions)}::jsonb
        `
    })

    const anyUser = SqlSchema.single({
      Request: Schema.Void,
      Result: Schema.Struct({ exists: Schema.Boolean }),
      execute: () => sql`SELECT EXISTS (SELECT 1 FROM control_center_users) AS exists`
    })

    const upsertRole = SqlSchema.single({
      Request: NewRole,
      Result: Id,
      execute: ({ name, permissions }) =>
        sql`
          INSERT INTO roles (name, permissions) VALUES (${name}, ${JSON.stringify(permissions)}::jsonb)
          ON CONFLICT ((lower(name))) DO UPDATE SET permissions = EXCLUDED.permissions
          RETURNING id
        `
    })

    return repository({
      // --- users -------------------------------------------------------------------------

      /** Every user with its role's name, by email. */
      allUsers: SqlSchema.findAll({ Request: Schema.Void, Result: CcUserRow, execute: () => selectUsers(sql.and([])) })(
        undefined
      ),

      userById: SqlSchema.findOne({
        Request: Schema.String,
        Result: CcUserRow,
        execute: (userId) => selectUsers(sql.and([sql`u.id = ${userId}`]))
      }),

      /** Inserts a user; None when the email is taken, however cased (`lower(email)` index). */
      insertUser: SqlSchema.findOne({
        Request: NewUser,
        Result: Id,
        execute: ({ displayName, email, passwordHash, roleId }) =>
          sql`
            INSERT INTO control_center_users (email, display_name, role_id, password_hash)
            VALUES (${email}, ${displayName}, ${roleId}, ${passwordHash})
            ON CONFLICT ((lower(email))) DO NOTHING
            RETURNING id
          `
      }),

      /** Locks the user's row (`FOR UPDATE`) for the rest of the transaction; its role's permissions. */
      userForUpdate: SqlSchema.findOne({
        Request: Schema.String,
        Result: CcUserForUpdate,
        execute: (userId) =>
          sql`
            SELECT u.id, u.is_active, r.name AS role_name, r.permissions
            FROM control_center_users u JOIN roles r ON r.id = u.role_id
            WHERE u.id = ${userId}
            FOR UPDATE OF u
          `
      }),

      updateUser: SqlSchema.void({
        Request: Schema.Struct({ userId: Schema.String, changes: CcUserChanges }),
        execute: ({ changes, userId }) => sql`UPDATE control_center_users SET ${sql.update(changes)} WHERE id = ${userId}`
      }),

      /**
       * Serialises every change that can take super-admin power away, for the rest of the
       * transaction (see `CcUsers.update`).
       */
      lockSuperAdminChanges: advisoryLock(() => sql`SELECT pg_advisory_xact_lock(hashtext('mitra-availability:super-admins'))`),

      /** Active users other than `except` whose role grants all of `permissions` (jsonb `@>`). */
      countActiveHolders: (request: typeof HoldersQuery.Type) =>
        countActiveHolders(request).pipe(
          Effect.map((row) => row.n),
          Effect.catchTag("NoSuchElementException", Effect.die)
        ),

      // --- signing in ----------------------------------------------------------------------

      /** The account an email signs in to, compared ignoring case. */
      credentialsByEmail: SqlSchema.findOne({
        Request: Schema.String,
        Result: CcUserCredentials,
        execute: (email) => sql`SELECT id, password_hash, is_active FROM control_center_users WHERE lower(email) = lower(${email})`
      }),

      /** The user behind a token, with its role's permissions as of now. */
      principal: SqlSchema.findOne({
        Request: Schema.String,
        Result: CcUserPrincipal,
        execute: (userId) =>
          sql`
            SELECT u.email, u.is_active, r.permissions
            FROM control_center_users u JOIN roles r ON r.id = u.role_id
            WHERE u.id = ${userId}
          `
      }),

      /** Whether the user is active; None when there is no such user. */
      activeFlag: SqlSchema.findOne({
        Request: Schema.String,
        Result: Schema.Struct({ isActive: Schema.Boolean }),
        execute: (userId) => sql`SELECT is_active FROM control_center_users WHERE id = ${userId}`
      }),

      // --- roles ---------------------------------------------------------------------------

      /** Every role, by name. */
      allRoles: SqlSchema.findAll({
        Request: Schema.Void,
        Result: RoleRow,
        execute: () => sql`SELECT id, name, permissions, created_at FROM roles ORDER BY name`
      })(undefined),

      roleById: SqlSchema.findOne({
        Request: Schema.String,
        Result: Schema.Struct({ name: Schema.String, permissions: StoredPermissions }),
        execute: (roleId) => sql`SELECT name, permissions FROM roles WHERE id = ${roleId}`
      }),

      /** Inserts a role; None when the name is taken, ignoring case (`lower(name)` index). */
      insertRole: SqlSchema.findOne({
        Request: NewRole,
        Result: RoleRow,
        execute: ({ name, permissions }) =>
          sql`
            INSERT INTO roles (name, permissions) VALUES (${name}, ${JSON.stringify(permissions)}::jsonb)
            ON CONFLICT ((lower(name))) DO NOTHING
            RETURNING id, name, permissions, created_at
          `
      }),

      // --- the bootstrap admin ---------------------------------------------------------------

      /** Whether any control-center user exists. */
      anyUser: anyUser(undefined).pipe(
        Effect.map((row) => row.exists),
        Effect.catchTag("NoSuchElementException", Effect.die)
      ),

      /** Serialises instances bootstrapping at once, for the rest of the transaction. */
      lockBootstrap: advisoryLock(() => sql`SELECT pg_advisory_xact_lock(hashtext('mitra-availability:bootstrap-admin'))`),

      /** The role of that name (ignoring case), created or given exactly these permissions; its id. */
      upsertRole: (role: typeof NewRole.Type) =>
        upsertRole(role).pipe(Effect.map((row) => row.id), Effect.catchTag("NoSuchElementException", Effect.die))
    })
  })
}) {}
