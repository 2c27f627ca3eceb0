/**
 * The shapes credentials must have before any lookup or hashing happens: a malformed phone, email
 * or password is a 400 at the schema, never a query.
 */
import { Schema } from "effect"

/** E.164: `+`, a non-zero country digit, 7 to 15 digits in all (the same rule as the `mitras.phone` CHECK). */
export const Phone = Schema.String.pipe(
  Schema.pattern(/^\+[1-9][0-9]{6,14}$/, { message: () => "Expected an E.164 phone number such as +628123456789" }),
  Schema.annotations({ identifier: "Phone", examples: ["+628123456789"] })
)

/** Text stored in Postgres: no control characters (a NUL cannot even be stored in a `text` column). */
const noControlCharacters = /^[^\u0000-\u001f\u007f]*$/
const noControlCharactersMessage = { message: () => "Expected no control characters" }

export const Email = Schema.Trim.pipe(
  Schema.maxLength(254),
  Schema.pattern(noControlCharacters, noControlCharactersMessage),
  Schema.pattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { message: () => "Expected an email address" }),
  Schema.annotations({ identifier: "Email", examples: ["ops@example.com"] })
)

export const passwordMinLength = 8
export const passwordMaxLength = 128

/** A password being set: long enough to resist guessing, short enough to bound the KDF's input. */
export const NewPassword = Schema.String.pipe(
  Schema.minLength(passwordMinLength, { message: () => `Expected a password of at least ${passwordMinLength} characters` }),
  Schema.maxLength(passwordMaxLength, { message: () => `Expected a password of at most ${passwordMaxLength} characters` }),
  Schema.annotations({ identifier: "NewPassword" })
)

/**
 * A password presented at login: any non-empty string up to the maximum. The minimum of
 * `NewPassword` is not enforced here, so raising it later never locks out existing accounts.
 */
export const LoginPassword = Schema.String.pipe(
  Schema.minLength(1, { message: () => "Expected a password" }),
  Schema.maxLength(passwordMaxLength, { message: () => `Expected a password of at most ${passwordMaxLength} characters` }),
  Schema.annotations({ identifier: "LoginPassword" })
)

export const DisplayName = Schema.Trim.pipe(
  Schema.minLength(1, { message: () => "Expected a display name" }),
  Schema.maxLength(100),
  Schema.pattern(noControlCharacters, noControlCharactersMessage),
  Schema.annotations({ identifier: "DisplayName" })
)
