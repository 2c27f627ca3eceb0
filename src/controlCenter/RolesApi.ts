/** `/internal/roles`: the roles control-center users are given. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { CcUserAuthentication } from "../auth/Middleware.js"
import { PermissionsInput } from "../auth/PermissionCatalog.js"
import { Role } from "../auth/Role.js"
import { noHiddenCharacters, wellFormed } from "../auth/StorableText.js"
import { DuplicateRoleName } from "./ControlCenterErrors.js"

/** Checked before trimming too, so no hidden character is dropped silently; unique ignoring case (`Roles.create`). */
export const RoleName = Schema.String.pipe(
  wellFormed,
  noHiddenCharacters,
  Schema.compose(Schema.Trim),
  Schema.minLength(1),
  Schema.maxLength(64),
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/, { message: () => "Expected letters, digits, space, _ . or -" }),
  Schema.annotations({ identifier: "RoleName" })
)

export const NewRolePayload = Schema.Struct({ name: RoleName, permissions: PermissionsInput }).annotations({
  identifier: "NewRole"
})

export class RolesApi extends HttpApiGroup.make("roles")
  .add(
    HttpApiEndpoint.get("list", "/internal/roles")
      .addSuccess(Schema.Struct({ items: Schema.Array(Role) }))
      .annotate(OpenApi.Summary, "Every role; permission roles:read")
  )
  .add(
    HttpApiEndpoint.post("create", "/internal/roles")
      .setPayload(NewRolePayload)
      .addSuccess(Schema.Struct({ role: Role }), { status: 201 })
      .addError(DuplicateRoleName)
      .annotate(OpenApi.Summary, "Creates a role; permissions from the catalog only; permission roles:create")
  )
  .middleware(CcUserAuthentication)
  .annotate(OpenApi.Title, "Control center: roles")
{}
