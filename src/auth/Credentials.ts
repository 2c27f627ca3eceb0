/**
 * The shapes credentials must have before any lookup or hashing happens: a malformed phone, email
 * or password is a 400 at the schema, never a query.
 */
import { Schema } from "effect"
import { noHiddenCharacters, wellFormed } from "./StorableText.js"

/** E.164: `+`, a non-zero country digit, 7 to 15 digits in all (the same rule as the `mitras.phone` CHECK). */
export const Phone = Schema.String.pipe(
  Schema.pattern(/^\+[1-9][0-9]{6,14}$/, { message: () => "Expected an E.164 phone number such as +628123456789" }),
  Schema.annotations({ identifier: "Phone", examples: ["+628123456789"] })
)

/**
 * Text as typed at login: trimmed, no control characters. Deliberately not the stricter rules of
 * `Email` below, so an address stored before those rules existed can still sign in.
 */
const noControlCharacters = /^[^\u0000-\u001f\u007f]*$/
const noControlCharactersMessage = { message: () => "Expected no control characters" }

const emailShape = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const emailShapeMessage = { message: () => "Expected an email address" }

/**
 * An email being stored (a new control-center user, the bootstrap admin): well-formed, no hidden
 * characters (checked before trimming, so none is dropped silently either), `local@domain.tld`,
 * at most 254 characters.
 */
export const Email = Schema.String.pipe(
  wellFormed,
  noHiddenCharacters,
  Schema.compose(Schema.Trim),
  Schema.maxLength(254),
  Schema.pattern(emailShape, emailShapeMessage),
  Schema.annotations({ identifier: "Email", examples: ["ops@example.com"] })
)

/** An email presented at login: the shape only (see `noControlCharacters`). */
export const LoginEmail = Schema.Trim.pipe(
  Schema.maxLength(254),
  Schema.pattern(noControlCharacters, noControlCharactersMessage),
  Schema.pattern(emailShape, emailShapeMessage),
  Schema.annotations({ identifier: "LoginEmail", examples: ["ops@example.com"] })
)

export const passwordMinLength = 8
export const passwordMaxLength = 128

/**
 * A password being set: long enough to resist guessing, short enough to bound the KDF's input,
 * and well-formed — a lone surrogate would be hashed as U+FFFD, so the password could never be
 * told apart from others with a different lone surrogate in its place. Hidden characters are
 * allowed: a password is never shown, and whatever can be typed can be typed again.
 */
export const NewPassword = Schema.String.pipe(
  wellFormed,
  Schema.minLength(passwordMinLength, { message: () => `Expected a password of at least ${passwordMinLength} characters` }),
  Schema.maxLength(passwordMaxLength, { message: () => `Expected a password of at most ${passwordMaxLength} characters` }),
  Schema.annotations({ identifier: "NewPassword" })
)

/**
 * A password presented at login: any non-empty string up to the maximum. Neither the minimum nor
 * the well-formedness of `NewPassword` is enforced here, so a stricter rule never locks out an
 * existing account (a password set before is hashed exactly as it was then).
 */
export const LoginPassword = Schema.String.pipe(
  Schema.minLength(1, { message: () => "Expected a password" }),
  Schema.maxLength(passwordMaxLength, { message: () => `Expected a password of at most ${passwordMaxLength} characters` }),
  Schema.annotations({ identifier: "LoginPassword" })
)

/**
 * A name shown to other people (mitras, customers, control-center users): well-formed, no hidden
 * characters (checked before trimming), 1–100 characters once trimmed.
 */
export const DisplayName = Schema.String.pipe(
  wellFormed,
  noHiddenCharacters,
  Schema.compose(Schema.Trim),
  Schema.minLength(1, { message: () => "Expected a display name" }),
  Schema.maxLength(100),
  Schema.annotations({ identifier: "DisplayName" })
)
