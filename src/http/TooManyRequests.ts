import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/**
 * A rate limit refused the request before any work was done. Answered as 429 with a
 * `Retry-After` header carrying `retryAfterSeconds` (src/http/TooManyRequestsResponses.ts).
 */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()(
  "TooManyRequests",
  {
    message: Schema.String,
    retryAfterSeconds: Schema.Int.annotations({
      description: "Seconds until the limit lets this request through again (also the Retry-After header)"
    })
  },
  HttpApiSchema.annotations({ status: 429, description: "Rate limited; retry after the Retry-After header's seconds" })
) {}
