/**
 * Everything the service reads from its environment, in one place.
 *
 * This is the only module that knows variable names (ARCHITECTURE.md section 6). The rest of the
 * code asks for `AppConfig` and receives typed, validated values; tests provide the service
 * directly or through a `ConfigProvider`.
 */
import { Config, ConfigError, Context, Duration, Either, Layer, LogLevel, Option, Redacted } from "effect"

const seconds = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: "Expected a positive whole number of seconds", validation: (n) => n > 0 }),
    Config.withDefault(fallback),
    Config.map(Duration.seconds)
  )

const millis = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: "Expected a positive number of milliseconds", validation: (n) => n > 0 }),
    Config.withDefault(fallback),
    Config.map(Duration.millis)
  )

/** A log level by name, any case: trace, debug, info, warn(ing), error, fatal, all, none/off. */
const logLevel = (name: string) =>
  Config.string(name).pipe(
    Config.mapOrFail((raw) => {
      const wanted = raw.trim().toUpperCase().replace(/^WARNING$/, "WARN").replace(/^NONE$/, "OFF")
      const level = LogLevel.allLevels.find((l) => l.label === wanted)
      return level === undefined
        ? Either.left(ConfigError.InvalidData([], `Expected one of trace, debug, info, warn, error, fatal, all, none but received "${raw}"`))
        : Either.right(level)
    })
  )

const http = Config.all({
  port: Config.port("PORT").pipe(Config.withDefault(3000)),
  host: Config.string("HOST").pipe(Config.withDefault("0.0.0.0")),
  /** The largest request body read, in bytes; every payload of the API is a small JSON object. */
  maxBodyBytes: Config.integer("HTTP_MAX_BODY_BYTES").pipe(
    Config.validate({ message: "Expected a positive whole number of bytes", validation: (n) => n > 0 }),
    Config.withDefault(64 * 1024)
  ),
  /**
   * Proxies in front of the service whose `X-Forwarded-For` entries are believed (0 = none: the
   * socket's peer is the client). Only for a service reachable solely through those proxies.
   */
  trustProxyHops: Config.integer("TRUST_PROXY_HOPS").pipe(
    Config.validate({ message: "Expected a whole number of proxies, 0 or more", validation: (n) => n >= 0 }),
    Config.withDefault(0)
  )
})

const database = Config.all({
  /** None → the embedded PGlite database under `embeddedDataDir`. */
  url: Config.option(Config.redacted("DATABASE_URL")),
  maxConnections: Config.integer("DATABASE_POOL_SIZE").pipe(
    Config.validate({ message: "Expected at least 1 connection", validation: (n) => n >= 1 }),
    Config.withDefault(10)
  ),
  embeddedDataDir: Config.string("EMBEDDED_DATA_DIR").pipe(Config.withDefault("./data/pglite")),
  /** The longest one statement may take (migrations included) before the request gets a 503. */
  queryTimeout: millis("DATABASE_QUERY_TIMEOUT_MS", 5_000),
  /** The longest a request waits for a pooled or new connection. */
  connectTimeout: millis("DATABASE_CONNECT_TIMEOUT_MS", 3_000)
})

const valkey = Config.all({
  /** None → the in-memory availability store. */
  url: Config.option(Config.redacted("VALKEY_URL")),
  keyPrefix: Config.string("VALKEY_KEY_PREFIX").pipe(Config.withDefault("")),
  commandTimeout: millis("VALKEY_COMMAND_TIMEOUT_MS", 500)
})

const auth = Config.all({
  /** None is allowed only in embedded mode, where a random per-process secret is generated. */
  jwtSecret: Config.option(Config.redacted("JWT_SECRET")),
  accessTokenTtl: seconds("ACCESS_TOKEN_TTL_SECONDS", 900),
  /**
   * How many verified access tokens each instance remembers (0: none), so a token sent again —
   * every heartbeat of a mitra's app — is not verified again (auth/VerifiedTokenCache.ts). About
   * 350 bytes each: the default holds one token per online mitra of a large marketplace in ~35 MB.
   */
  verifiedTokenCacheSize: Config.integer("ACCESS_TOKEN_CACHE_SIZE").pipe(
    Config.validate({ message: "Expected a whole number of tokens, 0 or more", validation: (n) => n >= 0 }),
    Config.withDefault(100_000)
  ),
  refreshTokenTtl: Config.integer("REFRESH_TOKEN_TTL_DAYS").pipe(
    Config.validate({ message: "Expected a positive whole number of days", validation: (n) => n > 0 }),
    Config.withDefault(30),
    Config.map(Duration.days)
  ),
  /** How long ended (revoked or expired) refresh sessions are kept before the pruning sweep deletes them. */
  endedSessionRetention: Config.integer("AUTH_SESSION_RETENTION_DAYS").pipe(
    Config.validate({ message: "Expected a positive whole number of days", validation: (n) => n > 0 }),
    Config.withDefault(30),
    Config.map(Duration.days)
  ),
  bootstrapAdminEmail: Config.option(Config.string("BOOTSTRAP_ADMIN_EMAIL")),
  bootstrapAdminPassword: Config.option(Config.redacted("BOOTSTRAP_ADMIN_PASSWORD"))
})

const sweeps = Config.all({
  autoOffline: seconds("MITRA_AUTO_OFFLINE_SWEEP_SECONDS", 30),
  heartbeatMirror: seconds("HEARTBEAT_MIRROR_INTERVAL_SECONDS", 60),
  reseed: seconds("VALKEY_ONLINE_MIRROR_SWEEP_SECONDS", 300),
  authSessionPrune: seconds("AUTH_SESSION_PRUNE_SWEEP_SECONDS", 3600),
  sessionDeadlines: seconds("SESSION_DEADLINE_SWEEP_SECONDS", 5)
})

const availability = Config.all({
  snapshotTtl: seconds("AVAILABILITY_SNAPSHOT_TTL_SECONDS", 10)
})

export interface RateLimitSettings {
  /** Events allowed per window; more are refused until the window ends. */
  readonly max: number
  readonly window: Duration.Duration
}

/** A limit from its two variables; a `max` of 0 switches it off (None). */
const rateLimit = (maxName: string, maxDefault: number, windowName: string, windowDefaultSeconds: number) =>
  Config.all({
    max: Config.integer(maxName).pipe(
      Config.validate({ message: "Expected a whole number, 0 (no limit) or more", validation: (n) => n >= 0 }),
      Config.withDefault(maxDefault)
    ),
    window: seconds(windowName, windowDefaultSeconds)
  }).pipe(Config.map(({ max, window }) => max === 0 ? Option.none() : Option.some<RateLimitSettings>({ max, window })))

/** docs/security.md, "Rate limits". */
const rateLimits = Config.all({
  /** Wrong passwords per account (control-center email or mitra phone), from any address. */
  loginFailuresPerAccount: rateLimit("LOGIN_MAX_FAILURES_PER_ACCOUNT", 10, "LOGIN_ACCOUNT_WINDOW_SECONDS", 900),
  /** Login attempts (either kind, any outcome) per client address. */
  loginAttemptsPerAddress: rateLimit("LOGIN_MAX_ATTEMPTS_PER_ADDRESS", 30, "LOGIN_ADDRESS_WINDOW_SECONDS", 60),
  /** Anonymous customers created per client address. */
  anonymousCustomersPerAddress: rateLimit("ANONYMOUS_CUSTOMERS_PER_ADDRESS", 10, "ANONYMOUS_CUSTOMERS_WINDOW_SECONDS", 60),
  /** Chat sessions a customer requests (each one a blast to every available mitra). */
  sessionRequestsPerCustomer: rateLimit("SESSION_REQUESTS_PER_CUSTOMER", 20, "SESSION_REQUESTS_WINDOW_SECONDS", 600)
})

const payments = Config.all({
  /**
   * None → the webhook takes no notice (503). A blank value counts as unset: it is a variable left
   * empty, not a key, and an HMAC under "" is one anybody can compute.
   */
  webhookSecret: Config.option(Config.redacted("PAYMENT_WEBHOOK_SECRET")).pipe(
    Config.map(Option.filter((secret) => Redacted.value(secret).trim() !== ""))
  )
})

const count = (name: string, fallback: number, min = 1) =>
  Config.integer(name).pipe(
    Config.validate({ message: `Expected a whole number, at least ${min}`, validation: (n) => n >= min }),
    Config.withDefault(fallback)
  )

/** The event streams (docs/events.md). */
const events = Config.all({
  /** A comment line at least this often keeps idle streams open through proxies (API.md: at most 20 s). */
  keepAlive: Config.integer("SSE_KEEPALIVE_SECONDS").pipe(
    Config.validate({ message: "Expected 1 to 20 seconds (API.md: a keep-alive at least every 20 s)", validation: (n) => n >= 1 && n <= 20 }),
    Config.withDefault(15),
    Config.map(Duration.seconds)
  ),
  /** The `retry:` hint sent on connect: how long a client waits before reconnecting. */
  retry: millis("SSE_RETRY_MS", 3000),
  /** Streams one mitra or customer may hold on one instance; a new one past it closes the oldest. */
  maxStreamsPerSubject: count("SSE_MAX_STREAMS_PER_SUBJECT", 3),
  /** Streams one instance holds at most; past it a new one is refused (503). */
  maxStreams: count("SSE_MAX_STREAMS", 20_000),
  /** Events buffered for one client; a client that falls further behind is disconnected. */
  clientBuffer: count("SSE_CLIENT_BUFFER_EVENTS", 256),
  /** While the pub/sub connection is down: how often each stream re-reads its state… */
  degradedCatchUpEvery: seconds("SSE_DEGRADED_CATCHUP_SECONDS", 5),
  /** …and how many such re-reads the instance runs per second at most. */
  degradedCatchUpsPerSecond: count("SSE_DEGRADED_CATCHUPS_PER_SECOND", 200)
})

const observability = Config.all({
  logLevel: logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info)),
  logFormat: Config.literal("json", "pretty")("LOG_FORMAT").pipe(Config.withDefault("json" as const)),
  otlpEndpoint: Config.option(Config.string("OTEL_EXPORTER_OTLP_ENDPOINT")),
  serviceName: Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault("mitra-availability")),
  /**
   * The share of heartbeats and beacon polls traced (0 to 1; default none): a span per request
   * costs more CPU than the request itself, so an operator samples them when looking into one.
   */
  hotRouteTraceRatio: Config.number("HOT_ROUTES_TRACE_RATIO").pipe(
    Config.validate({ message: "Expected a ratio from 0 to 1", validation: (n) => n >= 0 && n <= 1 }),
    Config.withDefault(0)
  )
})

/** The whole configuration, read and validated at once so a bad value stops start-up early. */
export const appConfig = Config.all({
  http,
  database,
  valkey,
  auth,
  rateLimits,
  sweeps,
  availability,
  payments,
  events,
  observability
})

export interface AppConfigShape extends Config.Config.Success<typeof appConfig> {}

export class AppConfig extends Context.Tag("mitra/AppConfig")<AppConfig, AppConfigShape>() {
  /** Reads the environment (through the current `ConfigProvider`). */
  static readonly layer = Layer.effect(AppConfig, appConfig)
}

/** True when no `DATABASE_URL` is set: the process runs its own PGlite database. */
export const isEmbeddedDatabase = (config: AppConfigShape) => Option.isNone(config.database.url)
