/**
 * Text that goes into an error answer and may carry what the client sent (schema messages quote
 * the rejected value): cut to a budget so an answer never grows with its input.
 */

/** Bytes `code` (a UTF-16 code unit) takes once JSON-encoded as UTF-8. */
const encodedBytes = (code: number) =>
  code < 0x20 ? 6 // \u00XX
  : code === 0x22 || code === 0x5c ? 2 // \" and \\
  : code < 0x80 ? 1
  : code < 0x800 ? 2
  : code >= 0xd800 && code <= 0xdfff ? 2 // half of a 4-byte pair
  : 3

const ellipsis = "…"
const ellipsisBytes = 3

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff

/**
 * `text` whole when its JSON encoding fits `maxBytes`, else its longest prefix that fits with a
 * trailing "…" (never ending on half of a surrogate pair).
 */
export const clip = (text: string, maxBytes: number): string => {
  let used = 0
  /** Length of the longest prefix that fits together with the ellipsis. */
  let cut = 0
  for (let i = 0; i < text.length; i++) {
    used += encodedBytes(text.charCodeAt(i))
    if (used > maxBytes) {
      const end = cut > 0 && isHighSurrogate(text.charCodeAt(cut - 1)) ? cut - 1 : cut
      return text.slice(0, end) + ellipsis
    }
    if (used <= maxBytes - ellipsisBytes) cut = i + 1
  }
  return text
}
