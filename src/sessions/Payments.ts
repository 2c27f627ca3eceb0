/**
 * The payment provider's webhook (API.md, "Payments"): a notice that a pending-payment session was
 * `paid` (→ active, its clock starts) or `failed` (→ cancelled, `payment_failed`). Trusted only
 * when `X-Signature` is the hex HMAC-SHA256 of the raw body under `PAYMENT_WEBHOOK_SECRET`,
 * compared in constant time; without a secret configured no notice is taken (503, and start-up
 * says so). Replays are harmless: a notice for a session no longer pending payment changes
 * nothing, so the provider's retries all get 204.
 */
import { Clock, Effect, Option, ParseResult, Redacted, Schema } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"
import { AppConfig } from "../config/AppConfig.js"
import { Transactions } from "../db/Repository.js"
import { Uuid } from "../domain/Uuid.js"
import { BadRequest } from "../http/HttpErrors.js"
import { AppSettings } from "../settings/AppSettings.js"
import { ChatSessionsRepo } from "./ChatSessionsRepo.js"
import { InvalidSignature, PaymentsNotConfigured, SessionNotFound } from "./SessionErrors.js"
import { SessionSettlement } from "./SessionSettlement.js"
import { SessionTimers } from "./SessionTimers.js"

export const PaymentNotice = Schema.Struct({
  sessionId: Uuid,
  status: Schema.Literal("paid", "failed")
}).annotations({ identifier: "PaymentNotice" })

const decodeNotice = Schema.decodeUnknownEither(Schema.parseJson(PaymentNotice))

/** Whether `signature` is the hex HMAC-SHA256 of `body` under `secret`, compared in constant time. */
export const signatureMatches = (secret: string, body: Uint8Array, signature: string) => {
  const expected = createHmac("sha256", secret).update(body).digest()
  if (!/^[0-9a-fA-F]{64}$/.test(signature.trim())) return false
  return timingSafeEqual(expected, Buffer.from(signature.trim(), "hex"))
}

export class Payments extends Effect.Service<Payments>()("mitra/Payments", {
  effect: Effect.gen(function*() {
    const { payments } = yield* AppConfig
    const repo = yield* ChatSessionsRepo
    const transactions = yield* Transactions
    const appSettings = yield* AppSettings
    const settlement = yield* SessionSettlement
    const timers = yield* SessionTimers

    if (Option.isNone(payments.webhookSecret)) {
      yield* Effect.logWarning(
        "PAYMENT_WEBHOOK_SECRET is not set: payment notices cannot be verified, so none is taken (the webhook answers 503). " +
          "With payment_required on, accepted sessions wait for payment until their payment timeout cancels them."
      )
    }

    /** Applies a signed notice; does nothing for a session no longer pending payment. */
    const notify = Effect.fn("Payments.notify")(function*(body: Uint8Array, signature: Option.Option<string>) {
      if (Option.isNone(payments.webhookSecret)) {
        return yield* new PaymentsNotConfigured({ message: "Payments are not configured on this service (PAYMENT_WEBHOOK_SECRET)" })
      }
      const secret = Redacted.value(payments.webhookSecret.value)
      if (Option.isNone(signature) || !signatureMatches(secret, body, signature.value)) {
        return yield* new InvalidSignature({ message: "X-Signature is missing or is not the HMAC-SHA256 of this body" })
      }
      const notice = decodeNotice(Buffer.from(body).toString("utf8"))
      if (notice._tag === "Left") {
        return yield* new BadRequest({
          message: `Expected {sessionId, status: "paid" | "failed"}: ${ParseResult.TreeFormatter.formatErrorSync(notice.left).slice(0, 300)}`
        })
      }
      const { sessionId, status } = notice.right
      yield* Effect.annotateCurrentSpan({ "session.id": sessionId, "payment.status": status })
      const current = yield* repo.findById(sessionId)
      if (Option.isNone(current)) return yield* new SessionNotFound({ message: "No such session", sessionId })
      if (current.value.status !== "pending_payment") return
      const at = new Date(yield* Clock.currentTimeMillis)
      const settings = yield* appSettings.all()
      const changed = yield* transactions.run(
        status === "paid"
          ? repo.markPaid({ id: sessionId, at, expiresAt: new Date(at.getTime() + settings.session_duration_minutes * 60_000) })
          : repo.close({ id: sessionId, from: ["pending_payment"], status: "cancelled", reason: "payment_failed", at })
      )
      if (Option.isNone(changed)) return
      yield* settlement.settle({ sessions: [changed.value], capacityOf: [changed.value.mitraId] })
      yield* timers.track([changed.value])
    })

    return { notify } as const
  }),
  dependencies: [ChatSessionsRepo.Default, Transactions.Default, AppSettings.Default, SessionSettlement.Default, SessionTimers.Default]
}) {}
