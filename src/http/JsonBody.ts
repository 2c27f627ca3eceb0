/**
 * What makes a request body acceptable JSON before anything walks it: the media type that says
 * so, and a bound on nesting. Schema error messages, loggers and `JSON.stringify` all recurse
 * through a value; a 10 KB body of `[[[[…]]]]` 5,000 deep overflowed the stack while the 400 was
 * being worded (effect's `formatUnknown`), so depth is refused on the text, before parsing.
 */
import { Either } from "effect"

/**
 * Deeper than any payload of the API (the deepest, a role's permissions, is 3 levels) and far
 * below what overflows the stack of a recursive walk.
 */
export const maxJsonNesting = 32

/**
 * `application/json`, in any case and spacing, with at most a UTF-8 `charset` parameter. The
 * essence is compared whole: `text/plain; a=application/json` (a type a browser sends without a
 * CORS preflight) and `application/json-patch+json` are not JSON here.
 */
export const isJsonMediaType = (contentType: string): boolean => {
  const [essence = "", ...parameters] = contentType.split(";")
  if (essence.trim().toLowerCase() !== "application/json") return false
  return parameters.every((parameter) => {
    if (parameter.trim() === "") return true
    const equals = parameter.indexOf("=")
    const name = parameter.slice(0, equals).trim().toLowerCase()
    const value = parameter.slice(equals + 1).trim().replace(/^"(.*)"$/, "$1").toLowerCase()
    return equals > 0 && name === "charset" && (value === "utf-8" || value === "utf8")
  })
}

const quote = 0x22
const backslash = 0x5c
const openers = new Set([0x5b, 0x7b]) // [ {
const closers = new Set([0x5d, 0x7d]) // ] }

/** True when `text` opens more than `limit` arrays/objects inside one another (brackets in strings do not count). */
export const isNestedDeeperThan = (text: string, limit: number): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (inString) {
      if (code === backslash) i++
      else if (code === quote) inString = false
    } else if (code === quote) {
      inString = true
    } else if (openers.has(code)) {
      if (++depth > limit) return true
    } else if (closers.has(code)) {
      depth--
    }
  }
  return false
}

/** An empty body reads as `null`, as the platform's own reader has it; the schema then rejects it. */
export const parseJson = (text: string): Either.Either<unknown, SyntaxError> =>
  Either.try({ try: () => (text === "" ? null : JSON.parse(text) as unknown), catch: (error) => error as SyntaxError })
