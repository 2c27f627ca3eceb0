/** `/api/auth` handlers: each is one `Logins` call; the per-address limits count the client address. */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { Api } from "../Api.js"
import { addressBucket, clientAddress } from "../http/ClientAddress.js"
import { Logins } from "./Logins.js"

export const AuthHttpLive = HttpApiBuilder.group(Api, "auth", (handlers) =>
  Effect.gen(function*() {
    const logins = yield* Logins
    const { http } = yield* AppConfig
    /** What the per-address limits count under (src/http/ClientAddress.ts). */
    const addressOf = (request: Parameters<typeof clientAddress>[0]) => addressBucket(clientAddress(request, http.trustProxyHops))
    return handlers
      .handle("controlCenterLogin", ({ payload, request }) =>
        logins.controlCenterUser(payload.email, payload.password, addressOf(request)))
      .handle("mitraLogin", ({ payload, request }) => logins.mitra(payload.phone, payload.password, addressOf(request)))
      .handle("anonymousCustomer", ({ payload, request }) =>
        logins.anonymousCustomer(Option.fromNullable(payload.displayName), addressOf(request)))
      .handle("refresh", ({ payload }) => logins.refresh(payload.refreshToken))
      .handle("logout", ({ payload }) => logins.logout(payload.refreshToken))
  })).pipe(Layer.provide(Logins.Default))
