/**
 * Character rules for text the service stores and shows back (display names, emails, role names,
 * passwords): well-formed, and free of the hidden characters that let one name pass for another.
 * Each is a `Schema.filter` whose message names the character, so the 400 says what and where
 * (docs/security.md, "Names and text fields").
 */
import { Schema } from "effect"

/** In `u` mode a lone surrogate is a code point of its own, category Cs; a valid pair never is. */
const loneSurrogate = /\p{Cs}/u

/** `U+D800`, `U+202E`: a character named so the message shows it even when it is invisible. */
const codePoint = (character: string) => `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`

/** No lone surrogates: what is stored is exactly what was sent. */
export const wellFormed = Schema.filter<Schema.Schema<string>>((text) => {
  const found = loneSurrogate.exec(text)
  return found === null
    ? true
    : `Expected well-formed Unicode text: a lone surrogate (${codePoint(found[0])}) is not a character and cannot be stored`
})

/**
 * Sequences made of otherwise hidden characters that emoji need, taken out before the check:
 * a zero-width joiner between two emoji (👩‍⚕️), an emoji or text presentation selector after an
 * emoji (❤️, 1️⃣), and the tag sequence of a subdivision flag (🏴 + tags + cancel tag).
 */
const emojiSequences = new RegExp(
  [
    String.raw`(?<=[\p{Extended_Pictographic}\p{Emoji_Modifier}\u{FE0F}])\u{200D}(?=\p{Extended_Pictographic})`,
    String.raw`(?<=\p{Emoji})[\u{FE0E}\u{FE0F}]`,
    String.raw`(?<=\u{1F3F4})[\u{E0020}-\u{E007E}]+\u{E007F}`
  ].join("|"),
  "gu"
)

/**
 * Hidden characters:
 * - `\p{Cc}`: control characters, C0, DEL and C1 (a NUL cannot even be stored in `text`);
 * - `\p{Cf}`: format characters — zero-width space, non-joiner and joiner (U+200B–U+200D), the
 *   bidirectional marks, embeddings, overrides and isolates (U+200E, U+200F, U+061C,
 *   U+202A–U+202E, U+2066–U+2069), the word joiner and invisible operators (U+2060–U+2064),
 *   the byte-order mark (U+FEFF), soft hyphen, Mongolian vowel separator, interlinear
 *   annotation and tag characters (U+E0000–U+E007F) among them;
 * - `\p{Zl}`, `\p{Zp}`: the line and paragraph separators (U+2028, U+2029) that break a name
 *   over lines;
 * - variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF) outside an emoji, where they change
 *   nothing visible;
 * - characters that render blank but are letters or symbols by category: the combining grapheme
 *   joiner (U+034F), the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0) and the blank Braille
 *   pattern (U+2800) — the usual ways to make an "empty" name.
 */
const hiddenCharacter =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}\u{034F}\u{115F}\u{1160}\u{3164}\u{FFA0}\u{2800}]/u

/** No invisible, direction-changing or line-breaking characters (emoji sequences excepted). */
export const noHiddenCharacters = Schema.filter<Schema.Schema<string>>((text) => {
  const found = hiddenCharacter.exec(text.replace(emojiSequences, ""))
  return found === null
    ? true
    : `Expected no invisible, direction-changing or line-separating characters (found ${codePoint(found[0])})`
})
