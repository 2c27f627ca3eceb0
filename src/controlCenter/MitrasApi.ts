/** `/internal/mitras`: the control center's mitra management (API.md, Control center). */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { CcUserAuthentication } from "../auth/Middleware.js"
import { DisplayName, NewPassword, Phone } from "../auth/Credentials.js"
import { Uuid } from "../domain/Uuid.js"
import { DuplicatePhone, MitraNotFound } from "../mitras/MitraErrors.js"
import { maxPageSize, Mitra, MitraCursor } from "../mitras/Mitra.js"
import { StatusEventListParams, StatusEventPage } from "../mitras/StatusEvent.js"

const Capacity = Schema.Int.pipe(Schema.between(1, 100), Schema.annotations({ identifier: "MaxConcurrentSessions" }))

export const NewMitraPayload = Schema.Struct({
  displayName: DisplayName,
  phone: Phone,
  password: NewPassword,
  maxConcurrentSessions: Schema.optionalWith(Schema.NullOr(Capacity), { exact: true })
}).annotations({ identifier: "NewMitra" })

export const MitraPatchPayload = Schema.Struct({
  displayName: Schema.optionalWith(DisplayName, { exact: true }),
  password: Schema.optionalWith(NewPassword, { exact: true }),
  /** null: back to the global default. */
  maxConcurrentSessions: Schema.optionalWith(Schema.NullOr(Capacity), { exact: true }),
  /** false deactivates (sessions revoked, taken offline); true reactivates. */
  isActive: Schema.optionalWith(Schema.Boolean, { exact: true })
}).annotations({ identifier: "MitraPatch" })

export const MitraListParams = Schema.Struct({
  online: Schema.optionalWith(Schema.BooleanFromString, { exact: true }),
  active: Schema.optionalWith(Schema.BooleanFromString, { exact: true }),
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, maxPageSize)), { exact: true }),
  cursor: Schema.optionalWith(MitraCursor, { exact: true })
})

export const MitraPage = Schema.Struct({
  items: Schema.Array(Mitra),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: Schema.NullOr(Schema.String)
}).annotations({ identifier: "MitraPage" })

export const MitraEnvelope = Schema.Struct({ mitra: Mitra }).annotations({ identifier: "MitraEnvelope" })

const MitraPath = Schema.Struct({ id: Uuid })

export class MitrasApi extends HttpApiGroup.make("mitras")
  .add(
    HttpApiEndpoint.get("list", "/internal/mitras")
      .setUrlParams(MitraListParams)
      .addSuccess(MitraPage)
      .annotate(OpenApi.Summary, "Mitras, newest first, filtered by online/active; permission mitra:read")
  )
  .add(
    HttpApiEndpoint.post("create", "/internal/mitras")
      .setPayload(NewMitraPayload)
      .addSuccess(MitraEnvelope, { status: 201 })
      .addError(DuplicatePhone)
      .annotate(OpenApi.Summary, "Creates a mitra; 409 on a duplicate phone; permission mitra:create")
  )
  .add(
    HttpApiEndpoint.get("get", "/internal/mitras/:id")
      .setPath(MitraPath)
      .addSuccess(MitraEnvelope)
      .addError(MitraNotFound)
      .annotate(OpenApi.Summary, "One mitra with its online state and live sessions; permission mitra:read")
  )
  .add(
    HttpApiEndpoint.patch("update", "/internal/mitras/:id")
      .setPath(MitraPath)
      .setPayload(MitraPatchPayload)
      .addSuccess(MitraEnvelope)
      .addError(MitraNotFound)
      .annotate(OpenApi.Summary, "Edits a mitra; isActive false deactivates it; permission mitra:update")
  )
  .add(
    HttpApiEndpoint.get("statusEvents", "/internal/mitras/:id/status-events")
      .setPath(MitraPath)
      .setUrlParams(StatusEventListParams)
      .addSuccess(StatusEventPage)
      .addError(MitraNotFound)
      .annotate(OpenApi.Summary, "The mitra's audit history (online, offline, deactivated, reactivated), newest first; permission mitra:read")
  )
  .middleware(CcUserAuthentication)
  .annotate(OpenApi.Title, "Control center: mitras")
{}
