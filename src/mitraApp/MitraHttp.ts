import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { MitraAuthenticationLive, MitraTokenAuthenticationLive } from "../auth/AuthenticationLive.js"
import { CurrentMitra, MitraTokenSubject } from "../auth/Principals.js"
import { Heartbeat } from "../availability/Heartbeat.js"
import { MitraStatus } from "../availability/MitraStatus.js"
import { Api } from "../Api.js"
import { SessionRerouting } from "../sessions/SessionRerouting.js"
import { MitraProfile } from "./MitraProfile.js"

const actorOf = (mitraId: string) => `mitra:${mitraId}`

export const MitraHttpLive = HttpApiBuilder.group(Api, "mitra", (handlers) =>
  Effect.gen(function*() {
    const profile = yield* MitraProfile
    const status = yield* MitraStatus
    const heartbeat = yield* Heartbeat
    const rerouting = yield* SessionRerouting
    return handlers
      .handle("me", () => Effect.flatMap(CurrentMitra, ({ id }) => profile.get(id)))
      .handle("online", () => Effect.flatMap(CurrentMitra, ({ id }) => status.setOnline(id, actorOf(id))))
      // Going offline hands the mitra's live sessions on (rerouted) and withdraws its open offers.
      // A reroute that fails here is not the request's failure: the session deadline sweep
      // reroutes sessions whose mitra is offline.
      .handle("offline", () =>
        Effect.gen(function*() {
          const { id } = yield* CurrentMitra
          const wentOffline = yield* status.setOffline(id, actorOf(id))
          if (wentOffline) {
            yield* rerouting.rerouteLiveSessionsOf(id, "went_offline").pipe(
              Effect.catchAllCause((cause) =>
                Effect.logError("Rerouting the sessions of a mitra that went offline failed; the session deadline sweep will", cause)
              )
            )
          }
          return { isOnline: false as const }
        }).pipe(Effect.uninterruptible))
      // The hottest route: token (no database), one Valkey round trip. Untraced: `untracedUrls`
      // drops only the server span, and `Heartbeat.record`'s own spans would otherwise be
      // exported per request (metrics and throttled warnings still report it).
      .handle("heartbeat", () =>
        Effect.flatMap(MitraTokenSubject, ({ id }) => Effect.asVoid(heartbeat.record(id))).pipe(Effect.withTracerEnabled(false)))
  })).pipe(Layer.provide([
    MitraProfile.Default,
    MitraStatus.Default,
    Heartbeat.Default,
    SessionRerouting.Default,
    MitraAuthenticationLive,
    MitraTokenAuthenticationLive
  ]))
