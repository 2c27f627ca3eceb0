/**
 * A UUID taken from a request (path, body, query), decoded to its canonical spelling: lowercase.
 *
 * Postgres compares `uuid` values canonically, but the service also compares ids as strings — the
 * caller's own id (a user may not deactivate itself), the Valkey mirror's keys and set members
 * (`mitras:deactivated`, `mitra:capacity:<id>`). An id spelled in uppercase must never pass for
 * another id there, so every id is lowercased once, at the edge.
 */
import { identity, Schema } from "effect"

export const CanonicalUuid = Schema.transform(Schema.UUID, Schema.UUID, {
  strict: true,
  decode: (id) => id.toLowerCase(),
  encode: identity
})
