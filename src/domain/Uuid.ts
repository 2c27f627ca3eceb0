/**
 * Ids as they enter the service. Postgres compares `uuid` values case-insensitively but Valkey keys
 * and sets do not: an id taken as typed (`ABC…` in a URL) would deactivate the mitra in Postgres
 * and write `mitras:deactivated` under a name nobody reads. So every id is decoded once, at the
 * boundary, to its canonical lowercase form, and everything behind the boundary compares strings.
 */
import { Schema } from "effect"

/** A UUID in any case, decoded to lowercase (encoded as is: the service only emits lowercase). */
export const Uuid = Schema.compose(Schema.Lowercase, Schema.UUID).annotations({
  identifier: "Uuid",
  description: "A UUID; accepted in any case, always answered in lowercase",
  jsonSchema: { type: "string", format: "uuid" }
})

const canonicalUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The canonical form of a UUID string, or undefined when it is not one. */
export const canonicalUuidOf = (value: string): string | undefined => {
  const lower = value.toLowerCase()
  return canonicalUuid.test(lower) ? lower : undefined
}
