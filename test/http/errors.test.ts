import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { JsonErrorResponsesLive } from "../../src/http/JsonErrorResponses.js"
import { get, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

/**
 * A one-endpoint API served with the service's error middleware: the mechanism that turns
 * malformed bodies and defects into JSON, tested apart from any one domain endpoint.
 */
class Echo extends Schema.Class<Echo>("Echo")({ name: Schema.NonEmptyTrimmedString }) {}
class EchoApi extends HttpApi.make("echo").add(
  HttpApiGroup.make("echo")
    .add(HttpApiEndpoint.post("echo", "/echo").setPayload(Echo).addSuccess(Echo))
    .add(HttpApiEndpoint.get("boom", "/boom").addSuccess(Schema.String))
) {}
const EchoLive = HttpApiBuilder.api(EchoApi).pipe(
  Layer.provide(HttpApiBuilder.group(EchoApi, "echo", (h) =>
    h.handle("echo", ({ payload }) => Effect.succeed(payload)).handle("boom", () => Effect.die(new Error("a bug")))))
)
const EchoServer = HttpApiBuilder.serve().pipe(
  Layer.provide(JsonErrorResponsesLive),
  Layer.provide(EchoLive),
  Layer.provideMerge(NodeHttpServer.layerTest)
)

describe("HTTP errors are JSON", () => {
  it.scopedLive("an unknown route on the service → 404 JSON NotFound", () =>
    Effect.gen(function*() {
      for (const [method, path] of [["GET", "/nope"], ["POST", "/api/nope"], ["POST", "/healthz"]] as const) {
        const response = method === "GET" ? yield* get(path) : yield* post(path, { json: {} })
        expect(response.status).toBe(404)
        expect(response.headers["content-type"]).toContain("application/json")
        expect(response.body).toEqual({ _tag: "NotFound", message: "No such route" })
      }
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("malformed JSON → 400 JSON BadRequest", () =>
    Effect.gen(function*() {
      const response = yield* post("/echo", { rawJson: "{\"name\": " })
      expect(response.status).toBe(400)
      expect(response.body).toMatchObject({ _tag: "BadRequest" })
    }).pipe(Effect.provide(EchoServer)))

  it.scopedLive("a body that does not decode → 400 JSON with the issues", () =>
    Effect.gen(function*() {
      for (const json of [{}, { name: 42 }, { name: "   " }, [], "text"]) {
        const response = yield* post("/echo", { json })
        expect(response.status).toBe(400)
        expect(response.body).toMatchObject({ _tag: "HttpApiDecodeError" })
      }
      expect((yield* post("/echo", { json: { name: "Ayu" } })).body).toEqual({ name: "Ayu" })
    }).pipe(Effect.provide(EchoServer)))

  it.scopedLive("a defect → 500 JSON without a stack trace", () =>
    Effect.gen(function*() {
      const response = yield* get("/boom")
      expect(response.status).toBe(500)
      expect(response.body).toEqual({ _tag: "InternalError", message: "Something went wrong on our side" })
      expect(response.text).not.toContain("a bug")
    }).pipe(Effect.provide(EchoServer)))
})
