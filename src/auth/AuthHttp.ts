import { HttpApiBuilder } from "@effect/platform"
import { Effect, Option } from "effect"
import { Api } from "../http/Api.js"
import { Logins } from "./Logins.js"

export const AuthHttpLive = HttpApiBuilder.group(Api, "auth", (handlers) =>
  Effect.gen(function*() {
    const logins = yield* Logins
    return handlers
      .handle("controlCenterLogin", ({ payload }) => logins.controlCenterUser(payload.email, payload.password))
      .handle("mitraLogin", ({ payload }) => logins.mitra(payload.phone, payload.password))
      .handle("anonymousCustomer", ({ payload }) => logins.anonymousCustomer(Option.fromNullable(payload.displayName)))
      .handle("refresh", ({ payload }) => logins.refresh(payload.refreshToken))
      .handle("logout", ({ payload }) => logins.logout(payload.refreshToken))
  }))
