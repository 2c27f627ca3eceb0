/**
 * The Fastify peer of the HTTP bench: the service's two hot routes as a plain Fastify 5 app doing
 * the same work per request, to read the service's numbers against.
 *
 * - `POST /api/mitra/status/heartbeat`: verify the bearer token (jose `jwtVerify`, HS256, the key
 *   imported once as a CryptoKey, issuer and claims as `src/auth/AccessTokens.ts`), 401 unless a
 *   mitra's; `SISMEMBER mitras:deactivated <id>` → 403; `SET mitra:heartbeat:<id> <now>` → 204.
 * - `GET /api/availability`: `GET availability:snapshot` → 200 with that JSON; on a miss (never in
 *   the bench, which stores it with a long TTL) `SCARD mitras:online` is stored as the snapshot.
 *
 * Environment: `PORT`, `VALKEY_URL`, `JWT_SECRET`. The bench runs it as plain JavaScript
 * (transpiled, no loader hooks), like the service runs from `dist/`.
 */
import Fastify from "fastify"
import { Redis } from "ioredis"
import { jwtVerify } from "jose"
import { webcrypto } from "node:crypto"

const required = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`${name} is required`)
  return value
}

const issuer = "mitra-availability"
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const snapshotTtlSeconds = 10

const redis = new Redis(required("VALKEY_URL"))
const key = await webcrypto.subtle.importKey(
  "raw",
  new TextEncoder().encode(required("JWT_SECRET")),
  { name: "HMAC", hash: "SHA-256" },
  false,
  ["verify"]
)

const unauthorized = { _tag: "Unauthorized", message: "Missing, invalid or expired access token" }
const deactivated = { _tag: "Forbidden", message: "This mitra account is deactivated" }

/** The mitra id of a valid mitra token, or undefined for anything else. */
const mitraOf = async (authorization: string | undefined): Promise<string | undefined> => {
  if (authorization === undefined || !authorization.startsWith("Bearer ")) return undefined
  try {
    const { payload } = await jwtVerify(authorization.slice(7), key, { algorithms: ["HS256"], issuer })
    return payload["kind"] === "mitra" && typeof payload.sub === "string" && uuid.test(payload.sub) ? payload.sub : undefined
  } catch {
    return undefined
  }
}

const app = Fastify({ logger: false })

app.post("/api/mitra/status/heartbeat", async (request, reply) => {
  const mitraId = await mitraOf(request.headers.authorization)
  if (mitraId === undefined) return reply.code(401).send(unauthorized)
  if ((await redis.sismember("mitras:deactivated", mitraId)) === 1) return reply.code(403).send(deactivated)
  await redis.set(`mitra:heartbeat:${mitraId}`, new Date().toISOString())
  return reply.code(204).send()
})

app.get("/api/availability", async (_request, reply) => {
  let snapshot = await redis.get("availability:snapshot")
  if (snapshot === null) {
    snapshot = JSON.stringify({ available: await redis.scard("mitras:online"), asOf: new Date().toISOString() })
    await redis.set("availability:snapshot", snapshot, "EX", snapshotTtlSeconds)
  }
  return reply.type("application/json").send(snapshot)
})

await app.listen({ port: Number(required("PORT")), host: "127.0.0.1" })
