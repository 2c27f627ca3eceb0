/** `/api/payments/webhook`: the payment provider's notices (API.md, Payments). */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { InvalidSignature, PaymentsNotConfigured, SessionNotFound } from "./SessionErrors.js"

/**
 * Declared for the document only: the body is verified against its signature as raw bytes before
 * it is decoded, so the endpoint itself takes it undecoded.
 */
const SignedPaymentNotice = Schema.Unknown.annotations({
  identifier: "SignedPaymentNotice",
  description: "{sessionId, status: \"paid\" | \"failed\"}, signed in X-Signature",
  // Written out: JSONSchema.make(PaymentNotice) carries its own $defs, whose refs would not resolve in the document.
  jsonSchema: {
    type: "object",
    required: ["sessionId", "status"],
    properties: {
      sessionId: { type: "string", format: "uuid" },
      status: { type: "string", enum: ["paid", "failed"] }
    }
  }
})

export class PaymentsApi extends HttpApiGroup.make("payments")
  .add(
    HttpApiEndpoint.post("webhook", "/api/payments/webhook")
      .setHeaders(Schema.Struct({ "x-signature": Schema.optional(Schema.String) }))
      .setPayload(SignedPaymentNotice)
      .addSuccess(HttpApiSchema.NoContent)
      .addError(InvalidSignature)
      .addError(SessionNotFound)
      .addError(PaymentsNotConfigured)
      .addError(DatabaseUnavailable)
      .annotate(
        OpenApi.Description,
        "X-Signature: hex HMAC-SHA256 of the raw body under PAYMENT_WEBHOOK_SECRET (401 otherwise). paid → active, " +
          "failed → cancelled (payment_failed). 204 also for a replay or a session no longer pending payment; 404 for " +
          "an unknown session; 503 when no secret is configured."
      )
  )
  .annotate(OpenApi.Title, "Payments")
{}
