/** `/api/auth`: logins for each kind of caller, refresh-token rotation and logout (API.md, Auth). */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { TooManyRequests } from "../http/TooManyRequests.js"
import { Forbidden, Unauthorized } from "./AuthErrors.js"
import { DisplayName, LoginEmail, LoginPassword, Phone } from "./Credentials.js"

const RefreshToken = Schema.String.pipe(
  Schema.minLength(1, { message: () => "Expected a refresh token" }),
  Schema.maxLength(512),
  Schema.annotations({ identifier: "RefreshToken" })
)

export const TokenPair = Schema.Struct({
  accessToken: Schema.String,
  refreshToken: Schema.String,
  expiresIn: Schema.Int.annotations({ description: "Seconds until the access token expires" })
}).annotations({ identifier: "TokenPair" })

export const CustomerSession = Schema.Struct({
  customerId: Schema.UUID,
  ...TokenPair.fields
}).annotations({ identifier: "CustomerSession" })

export const CcLogin = Schema.Struct({ email: LoginEmail, password: LoginPassword }).annotations({ identifier: "CcLogin" })
export const MitraLogin = Schema.Struct({ phone: Phone, password: LoginPassword }).annotations({ identifier: "MitraLogin" })
export const AnonymousCustomer = Schema.Struct({ displayName: Schema.optionalWith(DisplayName, { exact: true }) }).annotations({
  identifier: "AnonymousCustomer"
})
export const RefreshRequest = Schema.Struct({ refreshToken: RefreshToken }).annotations({ identifier: "RefreshRequest" })

export class AuthApi extends HttpApiGroup.make("auth")
  .add(
    HttpApiEndpoint.post("controlCenterLogin", "/cc/login")
      .setPayload(CcLogin)
      .addSuccess(TokenPair)
      .addError(Unauthorized)
      .addError(Forbidden)
      .addError(TooManyRequests)
      .annotate(OpenApi.Summary, "Control-center user login (email case-insensitive)")
      .annotate(OpenApi.Description, "429 after too many failed logins for the email, or attempts from the address")
  )
  .add(
    HttpApiEndpoint.post("mitraLogin", "/mitra/login")
      .setPayload(MitraLogin)
      .addSuccess(TokenPair)
      .addError(Unauthorized)
      .addError(Forbidden)
      .addError(TooManyRequests)
      .annotate(OpenApi.Summary, "Mitra login; 403 when the mitra is deactivated")
      .annotate(OpenApi.Description, "429 after too many failed logins for the phone, or attempts from the address")
  )
  .add(
    HttpApiEndpoint.post("anonymousCustomer", "/customer/anonymous")
      .setPayload(AnonymousCustomer)
      .addSuccess(CustomerSession, { status: 201 })
      .addError(TooManyRequests)
      .annotate(OpenApi.Summary, "Creates an anonymous customer and its session (send {} for no display name)")
      .annotate(OpenApi.Description, "429 after too many new customers from the address")
  )
  .add(
    HttpApiEndpoint.post("refresh", "/refresh")
      .setPayload(RefreshRequest)
      .addSuccess(TokenPair)
      .addError(Unauthorized)
      .annotate(OpenApi.Summary, "Rotates the refresh token; a reused one revokes its session")
  )
  .add(
    HttpApiEndpoint.post("logout", "/logout")
      .setPayload(RefreshRequest)
      .addSuccess(HttpApiSchema.NoContent)
      .annotate(OpenApi.Summary, "Revokes the refresh token's session; 204 for any token, known or not")
  )
  .addError(DatabaseUnavailable)
  .prefix("/api/auth")
  .annotate(OpenApi.Title, "Auth")
{}
