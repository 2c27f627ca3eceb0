/**
 * Rows for tests, written straight to Postgres (like the seed's fixtures.js). Each helper takes
 * overrides and returns what it inserted; ids and phones are random so tests never collide.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { hashPassword } from "../../src/auth/Passwords.js"
import { post } from "./http.js"

const randomPhone = () => `+62800${Math.floor(Math.random() * 1e10).toString().padStart(10, "0")}`

/** The password of the accounts the `loginAs…` helpers create. */
export const fixturePassword = "fixture-password-1"

const knownHashes = new Map<string, string>()

/** A real scrypt hash of `password`, computed once per test process (the KDF is slow on purpose). */
export const passwordHashOf = (password: string) =>
  Effect.suspend(() => {
    const known = knownHashes.get(password)
    return known !== undefined
      ? Effect.succeed(known)
      : Effect.tap(hashPassword(password), (hash) => Effect.sync(() => knownHashes.set(password, hash)))
  })

export interface CustomerRow {
  readonly id: string
  readonly displayName: string | null
  readonly phone: string | null
  readonly isAnonymous: boolean
}

export const createCustomer = (options: Partial<CustomerRow> = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const id = options.id ?? randomUUID()
    const row: CustomerRow = {
      id,
      displayName: options.displayName === undefined ? `TestCust-${id.slice(0, 6)}` : options.displayName,
      phone: options.phone ?? null,
      isAnonymous: options.isAnonymous ?? false
    }
    yield* sql`INSERT INTO customers ${sql.insert({ ...row })}`
    return row
  }).pipe(Effect.orDie)

export interface CreateMitraOptions {
  readonly id?: string
  readonly displayName?: string
  readonly phone?: string
  /** Stored as is: pass a real hash (see the auth fixtures) for login tests. */
  readonly passwordHash?: string
  /** Stores a real hash of this password (wins over `passwordHash`). */
  readonly password?: string
  readonly isActive?: boolean
  readonly isOnline?: boolean
  readonly maxConcurrentSessions?: number | null
  /** Defaults to now when online. */
  readonly lastHeartbeatAt?: Date | null
}

export interface MitraRow {
  readonly id: string
  readonly displayName: string
  readonly phone: string
  readonly isActive: boolean
  readonly isOnline: boolean
  readonly maxConcurrentSessions: number | null
}

/**
 * A mitra row and, when `isOnline`, its `mitra_online_status` row. Postgres only: the availability
 * mirror is seeded from it by the availability fixtures.
 */
export const createMitra = (options: CreateMitraOptions = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const id = options.id ?? randomUUID()
    const row: MitraRow = {
      id,
      displayName: options.displayName ?? `TestMitra-${id.slice(0, 6)}`,
      phone: options.phone ?? randomPhone(),
      isActive: options.isActive ?? true,
      isOnline: options.isOnline ?? false,
      maxConcurrentSessions: options.maxConcurrentSessions ?? null
    }
    const passwordHash = options.password === undefined ? options.passwordHash : yield* passwordHashOf(options.password)
    yield* sql`
      INSERT INTO mitras (id, display_name, phone, password_hash, is_active, max_concurrent_sessions)
      VALUES (${row.id}, ${row.displayName}, ${row.phone}, ${passwordHash ?? "unusable"},
              ${row.isActive}, ${row.maxConcurrentSessions})
    `
    if (row.isOnline) {
      const now = new Date()
      const heartbeat = options.lastHeartbeatAt === undefined ? now : options.lastHeartbeatAt
      yield* sql`
        INSERT INTO mitra_online_status (mitra_id, is_online, last_online_at, last_heartbeat_at, updated_at)
        VALUES (${id}, true, ${now}, ${heartbeat}, ${now})
      `
    }
    return row
  }).pipe(Effect.orDie)

export interface CcUserRow {
  readonly id: string
  readonly email: string
  readonly roleId: string
  readonly permissions: Record<string, ReadonlyArray<string>>
}

export const allPermissions: Record<string, ReadonlyArray<string>> = {
  mitra: ["create", "read", "update", "delete"],
  control_center_users: ["create", "read", "update", "delete"],
  config: ["read", "update"],
  roles: ["create", "read", "update", "delete"],
  sessions: ["read"]
}

/** A control-center user with a role of its own holding `permissions` (all of them by default). */
export const createCcUser = (options: {
  readonly email?: string
  readonly displayName?: string
  readonly passwordHash?: string
  /** Stores a real hash of this password (wins over `passwordHash`). */
  readonly password?: string
  readonly permissions?: Record<string, ReadonlyArray<string>>
  readonly isActive?: boolean
} = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const email = options.email ?? `cc-test-${randomUUID().slice(0, 8)}@mitra.test`
    const passwordHash = options.password === undefined ? options.passwordHash : yield* passwordHashOf(options.password)
    const permissions = options.permissions ?? allPermissions
    const [role] = yield* sql<{ id: string }>`
      INSERT INTO roles (name, permissions) VALUES (${`test-role-${randomUUID()}`}, ${JSON.stringify(permissions)}::jsonb)
      RETURNING id
    `
    const [user] = yield* sql<{ id: string }>`
      INSERT INTO control_center_users (email, display_name, role_id, password_hash, is_active)
      VALUES (${email}, ${options.displayName ?? "CC Test User"}, ${role!.id}, ${passwordHash ?? "unusable"},
              ${options.isActive ?? true})
      RETURNING id
    `
    return { id: user!.id, email, roleId: role!.id, permissions } satisfies CcUserRow
  }).pipe(Effect.orDie)

export interface SignedIn {
  readonly accessToken: string
  readonly refreshToken: string
}

const signIn = (path: string, json: unknown) =>
  Effect.flatMap(post(path, { json }), (response) =>
    response.status === 200
      ? Effect.succeed(response.body as SignedIn)
      : Effect.dieMessage(`${path} answered ${response.status}: ${response.text}`))

/** A control-center user (with `permissions`, all by default) signed in through the API. */
export const loginAsCcUser = (options: { readonly permissions?: Record<string, ReadonlyArray<string>> } = {}) =>
  Effect.gen(function*() {
    const user = yield* createCcUser({ ...options, password: fixturePassword })
    const tokens = yield* signIn("/api/auth/cc/login", { email: user.email, password: fixturePassword })
    return { user, ...tokens }
  })

/** A mitra signed in through the API. */
export const loginAsMitra = (options: Omit<CreateMitraOptions, "password" | "passwordHash"> = {}) =>
  Effect.gen(function*() {
    const mitra = yield* createMitra({ ...options, password: fixturePassword })
    const tokens = yield* signIn("/api/auth/mitra/login", { phone: mitra.phone, password: fixturePassword })
    return { mitra, ...tokens }
  })

/** Restores the config defaults (tests that change the config put it back). */
export const resetAppConfig = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    UPDATE app_config SET value = d.value, updated_by = 'test-reset', updated_at = now()
    FROM (VALUES
      ('max_sessions_per_mitra', '1'::jsonb), ('heartbeat_stale_seconds', '60'::jsonb),
      ('session_duration_minutes', '30'::jsonb), ('extension_minutes', '15'::jsonb),
      ('max_extensions', '3'::jsonb), ('pairing_timeout_seconds', '60'::jsonb),
      ('payment_required', 'false'::jsonb), ('payment_timeout_seconds', '300'::jsonb)
    ) AS d(key, value)
    WHERE app_config.key = d.key
  `
}).pipe(Effect.orDie)
