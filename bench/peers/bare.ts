/**
 * The bare `node:http` peer of the HTTP bench: the floor, what the two routes cost with no
 * framework, no authentication and no validation.
 *
 * - `POST /api/mitra/status/heartbeat`: one `SET` → 204 (no token read, so one fixed key).
 * - `GET /api/availability`: the beacon JSON read from Valkey once at start-up, served from memory → 200.
 *
 * Environment: `PORT`, `VALKEY_URL`. Run as plain JavaScript, like the other two servers.
 */
import { Redis } from "ioredis"
import { createServer } from "node:http"

const required = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`${name} is required`)
  return value
}

const redis = new Redis(required("VALKEY_URL"))
const beacon = Buffer.from((await redis.get("availability:snapshot")) ?? JSON.stringify({ available: 0, asOf: new Date().toISOString() }))
const beaconHeaders = { "content-type": "application/json", "content-length": String(beacon.length) }

const server = createServer((request, response) => {
  if (request.method === "POST" && request.url === "/api/mitra/status/heartbeat") {
    redis.set("mitra:heartbeat:bare", new Date().toISOString()).then(
      () => response.writeHead(204).end(),
      () => response.writeHead(503).end()
    )
  } else if (request.method === "GET" && request.url === "/api/availability") {
    response.writeHead(200, beaconHeaders).end(beacon)
  } else {
    response.writeHead(404).end()
  }
})

server.listen(Number(required("PORT")), "127.0.0.1")
