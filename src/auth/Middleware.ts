/**
 * Bearer-token authentication for each kind of caller, as `HttpApiMiddleware` tags that a group
 * or endpoint declares with `.middleware(...)`: part of the HTTP contract (what a route requires,
 * what it may answer), so specs import these and nothing that reads the database. The live
 * layers are in `AuthenticationLive.ts`.
 */
import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Schema } from "effect"
import { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { Forbidden, Unauthorized } from "./AuthErrors.js"
import { CurrentCcUser, CurrentCustomer, CurrentMitra, MitraTokenSubject } from "./Principals.js"

const security = { bearer: HttpApiSecurity.bearer }

/** A mitra route: token of an existing, active mitra (read from Postgres on each request). */
export class MitraAuthentication extends HttpApiMiddleware.Tag<MitraAuthentication>()("MitraAuthentication", {
  failure: Schema.Union(Unauthorized, Forbidden, DatabaseUnavailable),
  provides: CurrentMitra,
  security
}) {}

/** The heartbeat route: a mitra token, no database read; deactivation is checked by the mirror's guard. */
export class MitraTokenAuthentication extends HttpApiMiddleware.Tag<MitraTokenAuthentication>()("MitraTokenAuthentication", {
  failure: Unauthorized,
  provides: MitraTokenSubject,
  security
}) {}

export class CustomerAuthentication extends HttpApiMiddleware.Tag<CustomerAuthentication>()("CustomerAuthentication", {
  failure: Schema.Union(Unauthorized, DatabaseUnavailable),
  provides: CurrentCustomer,
  security
}) {}

/** A control-center route: an active user; the route itself checks its permission (`requirePermission`). */
export class CcUserAuthentication extends HttpApiMiddleware.Tag<CcUserAuthentication>()("CcUserAuthentication", {
  failure: Schema.Union(Unauthorized, Forbidden, DatabaseUnavailable),
  provides: CurrentCcUser,
  security
}) {}
