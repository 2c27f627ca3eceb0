/**
 * The named rate limits (docs/security.md, "Rate limits"): fixed windows counted in Valkey, shared
 * by every instance, or in this process's memory without Valkey or while it fails — limiting
 * never switches off and never fails a request. Keys are HMACs, so no store lists who tried to
 * sign in.
 */
import { Duration, Effect, Metric, Option, Redacted } from "effect"
import { createHmac, randomBytes } from "node:crypto"
import { AppConfig, type RateLimitSettings } from "../config/AppConfig.js"
import { ThrottledLog } from "../observability/ThrottledLog.js"
import { ValkeyConnection } from "../valkey/ValkeyConnection.js"
import type { ValkeyError } from "../valkey/ValkeyError.js"
import { makeInMemoryRateLimitStore } from "./InMemoryRateLimitStore.js"
import { rateLimitedCounter, rateLimitFallbacks } from "./RateLimitMetrics.js"
import type { RateLimitStore, WindowCount } from "./RateLimitStore.js"
import { TooManyRequests } from "../http/TooManyRequests.js"
import { makeValkeyRateLimitStore } from "./ValkeyRateLimitStore.js"

export type LimitName = "login_account" | "login_address" | "anonymous_customer_address" | "session_request_customer"

/** None switches a limit off. */
export type RateLimits = Readonly<Record<LimitName, Option.Option<RateLimitSettings>>>

/** What the refusal says, per limit (the wait is in `retryAfterSeconds` and `Retry-After`). */
const refusals: Record<LimitName, string> = {
  login_account: "Too many failed logins for this account; try again later",
  login_address: "Too many login attempts from this address; try again later",
  anonymous_customer_address: "Too many new customers from this address; try again later",
  session_request_customer: "Too many chat-session requests from this customer; try again later"
}

/** What a caller may do with an event the limit let through, once it knows how the event went. */
export interface Admission {
  /** Forgets the key's count: a success that wipes out earlier failures. */
  readonly clear: Effect.Effect<void>
  /** Takes this one event back: it turned out not to be what the limit counts. */
  readonly takeBack: Effect.Effect<void>
}

const unlimited: Admission = { clear: Effect.void, takeBack: Effect.void }

export interface RateLimiterShape {
  /** Counts one event of `limit` for `key`; fails with `TooManyRequests` once over the limit. */
  readonly consume: (limit: LimitName, key: string) => Effect.Effect<Admission, TooManyRequests>
}

export interface RateLimiterOptions {
  readonly limits: RateLimits
  /** Valkey: None in memory mode. */
  readonly shared: Option.Option<RateLimitStore>
  /** This process's memory: the store of memory mode, and the fallback while `shared` fails. */
  readonly local: RateLimitStore<never>
  /** The HMAC key that store keys are derived with. */
  readonly keySecret: Uint8Array
  /** Logs a fallback to memory (the service throttles it: an outage would repeat it per request). */
  readonly warn: (message: string, error: ValkeyError) => Effect.Effect<void>
}

export const makeRateLimiter = (options: RateLimiterOptions): RateLimiterShape => {
  const { keySecret, limits, local } = options

  const reportFallback = (operation: string, error: ValkeyError) =>
    Effect.all([
      Metric.increment(rateLimitFallbacks),
      Effect.annotateCurrentSpan({ "ratelimit.fallback": true, "ratelimit.fallback.reason": error.message }),
      options.warn(`Rate limiting: Valkey failed (${operation}), counting in this process's memory`, error)
    ], { discard: true })

  const storeKey = (limit: LimitName, key: string) =>
    `ratelimit:${limit}:${createHmac("sha256", keySecret).update(`${limit}\n${key}`).digest("base64url").slice(0, 27)}`

  /** Counts in Valkey, or in memory when there is no Valkey or it fails. */
  const count = (key: string, window: Duration.Duration): Effect.Effect<WindowCount & { readonly store: RateLimitStore }> =>
    Option.match(options.shared, {
      onNone: () => Effect.map(local.hit(key, window), (counted) => ({ ...counted, store: local })),
      onSome: (shared) =>
        shared.hit(key, window).pipe(
          Effect.map((counted) => ({ ...counted, store: shared })),
          Effect.catchAll((error) =>
            Effect.zipRight(
              reportFallback("count", error),
              Effect.map(local.hit(key, window), (counted) => ({ ...counted, store: local }))
            )
          )
        )
    })

  /** A follow-up on the store the event was counted in; a Valkey failure there is reported, not the caller's. */
  const followUp = (operation: string, run: Effect.Effect<void, ValkeyError>) =>
    Effect.catchAll(run, (error) => reportFallback(operation, error))

  const consume = Effect.fn("RateLimiter.consume")(function*(limit: LimitName, key: string) {
    const settings = limits[limit]
    if (Option.isNone(settings)) return unlimited
    const { max, window } = settings.value
    const name = storeKey(limit, key)
    const counted = yield* count(name, window)
    yield* Effect.annotateCurrentSpan({
      "ratelimit.limit": limit,
      "ratelimit.count": counted.count,
      "ratelimit.source": counted.store === local ? "memory" : "valkey"
    })
    if (counted.count > max) {
      yield* Metric.increment(rateLimitedCounter(limit))
      return yield* new TooManyRequests({
        message: refusals[limit],
        retryAfterSeconds: Math.max(1, Math.ceil(counted.resetsInMillis / 1000))
      })
    }
    const store = counted.store
    return {
      // A success also clears a count this process kept during an outage, so it cannot resurface.
      clear: followUp("clear", store.clear(name)).pipe(Effect.zipRight(local.clear(name))),
      takeBack: followUp("take-back", store.takeBack(name))
    } satisfies Admission
  })

  return { consume }
}

/** Store keys must be equal on every instance: derived from the shared `JWT_SECRET`, not random. */
const keySecretFrom = (jwtSecret: Option.Option<Redacted.Redacted<string>>): Uint8Array =>
  Option.match(jwtSecret, {
    onNone: () => randomBytes(32),
    onSome: (secret) => createHmac("sha256", Redacted.value(secret)).update("mitra-availability rate-limit keys").digest()
  })

export class RateLimiter extends Effect.Service<RateLimiter>()("mitra/RateLimiter", {
  effect: Effect.gen(function*() {
    const config = yield* AppConfig
    const connection = yield* ValkeyConnection
    const log = yield* ThrottledLog
    return makeRateLimiter({
      warn: (message, error) => log.warning("ratelimit", message, error),
      limits: {
        login_account: config.rateLimits.loginFailuresPerAccount,
        login_address: config.rateLimits.loginAttemptsPerAddress,
        anonymous_customer_address: config.rateLimits.anonymousCustomersPerAddress,
        session_request_customer: config.rateLimits.sessionRequestsPerCustomer
      },
      shared: Option.map(connection.client, (client) => makeValkeyRateLimitStore(client, connection.keyPrefix)),
      local: makeInMemoryRateLimitStore(),
      keySecret: keySecretFrom(config.auth.jwtSecret)
    })
  }),
  dependencies: [ThrottledLog.Default]
}) {}
