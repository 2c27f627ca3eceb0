/** `/internal/cc-users`: the people who operate the control center. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { CcUser } from "../auth/CcUser.js"
import { DisplayName, Email, NewPassword } from "../auth/Credentials.js"
import { CcUserAuthentication } from "../auth/Middleware.js"
import { Uuid } from "../domain/Uuid.js"
import { CannotDeactivateSelf, CcUserNotFound, DuplicateEmail, LastSuperAdmin, RoleNotFound } from "./ControlCenterErrors.js"

export const NewCcUserPayload = Schema.Struct({
  email: Email,
  displayName: DisplayName,
  password: NewPassword,
  roleId: Uuid
}).annotations({ identifier: "NewCcUser" })

export const CcUserPatchPayload = Schema.Struct({
  displayName: Schema.optionalWith(DisplayName, { exact: true }),
  password: Schema.optionalWith(NewPassword, { exact: true }),
  roleId: Schema.optionalWith(Uuid, { exact: true }),
  isActive: Schema.optionalWith(Schema.Boolean, { exact: true })
}).annotations({ identifier: "CcUserPatch" })

const CcUserEnvelope = Schema.Struct({ user: CcUser }).annotations({ identifier: "CcUserEnvelope" })

export class CcUsersApi extends HttpApiGroup.make("ccUsers")
  .add(
    HttpApiEndpoint.get("list", "/internal/cc-users")
      .addSuccess(Schema.Struct({ items: Schema.Array(CcUser) }))
      .annotate(OpenApi.Summary, "Every control-center user; permission control_center_users:read")
  )
  .add(
    HttpApiEndpoint.post("create", "/internal/cc-users")
      .setPayload(NewCcUserPayload)
      .addSuccess(CcUserEnvelope, { status: 201 })
      .addError(DuplicateEmail)
      .addError(RoleNotFound)
      .annotate(OpenApi.Summary, "Creates a control-center user; permission control_center_users:create")
  )
  .add(
    HttpApiEndpoint.patch("update", "/internal/cc-users/:id")
      .setPath(Schema.Struct({ id: Uuid }))
      .setPayload(CcUserPatchPayload)
      .addSuccess(CcUserEnvelope)
      .addError(CcUserNotFound)
      .addError(RoleNotFound)
      .addError(CannotDeactivateSelf)
      .addError(LastSuperAdmin)
      .annotate(OpenApi.Summary, "Edits a control-center user; permission control_center_users:update")
  )
  .middleware(CcUserAuthentication)
  .annotate(OpenApi.Title, "Control center: users")
{}
