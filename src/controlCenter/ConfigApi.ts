/** `/internal/config`: the runtime settings (`app_config`), read whole and written per key. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { CcUserAuthentication } from "../auth/Middleware.js"
import { SettingsSchema } from "../settings/SettingKeys.js"
import { InvalidSettingValue, SettingNotFound } from "./ControlCenterErrors.js"

export const SettingPath = Schema.Struct({ key: Schema.String })

/** `value` is checked against the key's own schema by the handler: unknown key 404, bad value 400. */
export const SettingPayload = Schema.Struct({ value: Schema.Unknown }).annotations({ identifier: "SettingValue" })

export const SettingUpdated = Schema.Struct({ key: Schema.String, value: Schema.Unknown }).annotations({
  identifier: "SettingUpdated"
})

export class ConfigApi extends HttpApiGroup.make("config")
  .add(
    HttpApiEndpoint.get("getAll", "/internal/config")
      .addSuccess(SettingsSchema)
      .annotate(OpenApi.Summary, "Every setting with its current value; permission config:read")
  )
  .add(
    HttpApiEndpoint.put("put", "/internal/config/:key")
      .setPath(SettingPath)
      .setPayload(SettingPayload)
      .addSuccess(SettingUpdated)
      .addError(SettingNotFound)
      .addError(InvalidSettingValue)
      .annotate(OpenApi.Summary, "Sets one setting; 404 unknown key, 400 invalid value; permission config:update")
  )
  .middleware(CcUserAuthentication)
  .annotate(OpenApi.Title, "Control center: configuration")
{}
