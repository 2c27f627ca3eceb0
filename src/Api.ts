/**
 * The HTTP contract (shared/API.md) as one `HttpApi`: each group's spec lives beside its domain,
 * its handlers in the matching `*Http.ts`. The OpenAPI document is generated from this value.
 */
import { HttpApi, OpenApi } from "@effect/platform"
import { AuthApi } from "./auth/AuthApi.js"
import { AvailabilityApi } from "./availability/AvailabilityApi.js"
import { DashboardApi } from "./controlCenter/DashboardApi.js"
import { CcUsersApi } from "./controlCenter/CcUsersApi.js"
import { ConfigApi } from "./controlCenter/ConfigApi.js"
import { MitrasApi } from "./controlCenter/MitrasApi.js"
import { RolesApi } from "./controlCenter/RolesApi.js"
import { ChatSessionsApi } from "./controlCenter/ChatSessionsApi.js"
import { CustomerSessionsApi } from "./customerApp/CustomerSessionsApi.js"
import { MitraApi } from "./mitraApp/MitraApi.js"
import { MitraSessionsApi } from "./mitraApp/MitraSessionsApi.js"
import { PaymentsApi } from "./sessions/PaymentsApi.js"
import { OpsApi } from "./ops/OpsApi.js"
import { BadRequest, InternalError, NotFound, PayloadTooLarge, UnsupportedMediaType } from "./http/HttpErrors.js"

export class Api extends HttpApi.make("mitra-availability")
  .add(OpsApi)
  .add(AuthApi)
  .add(MitrasApi)
  .add(ConfigApi)
  .add(RolesApi)
  .add(CcUsersApi)
  .add(MitraApi)
  .add(AvailabilityApi)
  .add(DashboardApi)
  .add(MitraSessionsApi)
  .add(CustomerSessionsApi)
  .add(PaymentsApi)
  .add(ChatSessionsApi)
  .addError(BadRequest)
  .addError(NotFound)
  .addError(PayloadTooLarge)
  .addError(UnsupportedMediaType)
  .addError(InternalError)
  .annotate(OpenApi.Title, "mitra-availability")
  .annotate(OpenApi.Description, "Which mitras can take a customer right now, and the pairing around it.")
{}
