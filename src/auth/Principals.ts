/** Who is calling: what each authentication middleware provides to the handlers behind it. */
import { Context, Schema } from "effect"

/** The kinds of subject a token or a refresh session belongs to (`auth_sessions.subject_kind`). */
export const SubjectKind = Schema.Literal("mitra", "customer", "cc_user")
export type SubjectKind = typeof SubjectKind.Type

/** A mitra whose token verified and whose row says active (resolved from Postgres). */
export class CurrentMitra extends Context.Tag("mitra/CurrentMitra")<CurrentMitra, {
  readonly id: string
}>() {}

/**
 * A mitra known from its token alone, with no database read: for the heartbeat route, whose
 * deactivation check is the availability mirror's guard instead.
 */
export class MitraTokenSubject extends Context.Tag("mitra/MitraTokenSubject")<MitraTokenSubject, {
  readonly id: string
}>() {}

export class CurrentCustomer extends Context.Tag("mitra/CurrentCustomer")<CurrentCustomer, {
  readonly id: string
}>() {}

export type Permissions = Readonly<Record<string, ReadonlyArray<string>>>

/** An active control-center user with the permissions of its role, as of this request. */
export class CurrentCcUser extends Context.Tag("mitra/CurrentCcUser")<CurrentCcUser, {
  readonly id: string
  readonly email: string
  readonly permissions: Permissions
}>() {}
