/**
 * Text fields that are stored: every route refuses, with a 400 naming the field, a lone surrogate
 * (which Postgres would store as U+FFFD) in any of them, passwords included, and hidden
 * characters — bidirectional controls, zero-width and other invisible characters, line and
 * paragraph separators — in display names, emails and role names, wherever they sit (leading and
 * trailing ones are not trimmed away silently). Emoji sequences that need a joiner or selector,
 * and names in other scripts, are stored exactly. Role names are unique ignoring case; a
 * permissions object naming `__proto__` or any other unknown resource is refused by name.
 *
 * Bodies are sent as ASCII-only JSON text with `\uXXXX` escapes, so a lone surrogate reaches the
 * server's JSON parser exactly as written.
 */
import type { HttpClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { createCcUser, createMitra, loginAsCcUser } from "../support/fixtures.js"
import { type JsonResponse, post, patch } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

/** JSON whose every non-ASCII UTF-16 code unit is a `\uXXXX` escape (lone surrogates included). */
const asciiJson = (value: unknown) =>
  JSON.stringify(value).replace(/[\u007f-\uffff]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`)

/** Every stored row a refused request could have touched. */
const snapshot = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ state: unknown }>`
    SELECT json_build_object(
      'mitras', (SELECT json_agg(m ORDER BY id) FROM mitras m),
      'customers', (SELECT json_agg(c ORDER BY id) FROM customers c),
      'roles', (SELECT json_agg(r ORDER BY id) FROM roles r),
      'users', (SELECT json_agg(u ORDER BY id) FROM control_center_users u)
    ) AS state
  `.pipe(Effect.map(([row]) => row!.state), Effect.orDie))

const loneSurrogates = { "U+D800": "\ud800", "U+DBFF": "\udbff", "U+DC00": "\udc00", "U+DFFF": "\udfff" }

/** Characters a display name, email or role name must not contain, by code point. */
const hiddenCharacters: Record<string, string> = {
  ...Object.fromEntries(
    [
      // bidirectional embeddings, overrides, isolates and marks
      0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c,
      // zero-width and invisible format characters
      0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0x00ad, 0x180e, 0x206a, 0xfff9,
      // line and paragraph separators, C1 controls
      0x2028, 0x2029, 0x0085, 0x009b,
      // blank-looking letters and symbols, variation selectors outside emoji, tag characters
      0x034f, 0x115f, 0x3164, 0xffa0, 0x2800, 0xfe0f, 0xfe00, 0xe0041, 0xe0001, 0xe0100
    ].map((codePoint) => [`U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`, String.fromCodePoint(codePoint)])
  ),
  "ZWJ between letters": "\u200d"
}

/** `ch` in the middle, leading and trailing. */
const placements = (ch: string) => [`Ann${ch}Lee`, `${ch}Ann`, `Ann${ch}`]

const expectRefused = (response: JsonResponse, field: string, what: string) => {
  expect(response.status, `${what}: ${response.text}`).toBe(400)
  const body = response.body as { _tag: string; message: string; issues: ReadonlyArray<{ path: ReadonlyArray<string> }> }
  expect(body._tag, what).toBe("HttpApiDecodeError")
  expect(body.message, what).toMatch(new RegExp(`(^|\\.)${field}: `))
  expect(body.issues[0]?.path, what).toContain(field)
}

/** Names that must be accepted and stored exactly: emoji sequences, other scripts. */
const acceptedNames = [
  "Dr \u{1F469}\u200D\u2695\uFE0F Ann", // woman health worker: ZWJ + emoji presentation selector
  "\u{1F468}\u200D\u{1F469}\u200D\u{1F467} family", // ZWJ sequence
  "\u2764\uFE0F Siti", // heart + VS16
  "1\uFE0F\u20E3 first", // keycap
  "\u{1F44B}\u{1F3FD} hi", // skin-tone modifier
  "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} Scot", // subdivision flag tag sequence
  "\u{1F600}", // an astral character: a valid surrogate pair in JSON
  "Siti Nurhaliza",
  "Zo\u00EB O'Brien-Łukasz",
  "\u0645\u062D\u0645\u062F", // Arabic, right-to-left by itself
  "\u674E\u5C0F\u9F99"
]

layer(TestApp(), { excludeTestServices: true })("stored text fields", (it) => {
  it.effect("a lone surrogate in any stored text field, passwords included → 400 naming the field, nothing written", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const mitra = yield* createMitra()
      const user = yield* createCcUser({ permissions: {} })
      const token = admin.accessToken
      const before = yield* snapshot
      for (const [name, surrogate] of Object.entries(loneSurrogates)) {
        const text = `Ann${surrogate}Lee`
        const password = `pass${surrogate}word-long`
        const phone = `+62811${Math.floor(Math.random() * 1e8).toString().padStart(8, "0")}`
        const email = `ann-${randomUUID().slice(0, 8)}@example.com`
        const cases: ReadonlyArray<readonly [string, string, Effect.Effect<JsonResponse, never, HttpClient.HttpClient>]> = [
          ["displayName", "POST /internal/mitras", post("/internal/mitras", { token, rawJson: asciiJson({ displayName: text, phone, password: "a-password" }) })],
          ["password", "POST /internal/mitras", post("/internal/mitras", { token, rawJson: asciiJson({ displayName: "Ann", phone, password }) })],
          ["displayName", "PATCH /internal/mitras", patch(`/internal/mitras/${mitra.id}`, { token, rawJson: asciiJson({ displayName: text }) })],
          ["password", "PATCH /internal/mitras", patch(`/internal/mitras/${mitra.id}`, { token, rawJson: asciiJson({ password }) })],
          ["displayName", "POST /api/auth/customer/anonymous", post("/api/auth/customer/anonymous", { rawJson: asciiJson({ displayName: text }) })],
          ["displayName", "POST /internal/cc-users", post("/internal/cc-users", { token, rawJson: asciiJson({ email, displayName: text, password: "a-password", roleId: user.roleId }) })],
          ["email", "POST /internal/cc-users", post("/internal/cc-users", { token, rawJson: asciiJson({ email: `ann${surrogate}@example.com`, displayName: "Ann", password: "a-password", roleId: user.roleId }) })],
          ["password", "POST /internal/cc-users", post("/internal/cc-users", { token, rawJson: asciiJson({ email, displayName: "Ann", password, roleId: user.roleId }) })],
          ["displayName", "PATCH /internal/cc-users", patch(`/internal/cc-users/${user.id}`, { token, rawJson: asciiJson({ displayName: text }) })],
          ["password", "PATCH /internal/cc-users", patch(`/internal/cc-users/${user.id}`, { token, rawJson: asciiJson({ password }) })],
          ["name", "POST /internal/roles", post("/internal/roles", { token, rawJson: asciiJson({ name: `role${surrogate}x`, permissions: {} }) })]
        ]
        for (const [field, route, request] of cases) {
          const response = yield* request
          expectRefused(response, field, `${route} ${field} with ${name}`)
          if (field !== "name") expect((response.body as { message: string }).message).toContain("lone surrogate")
        }
      }
      expect(yield* snapshot).toEqual(before)
    }))

  it.effect("hidden characters in display names, emails and role names → 400 naming the field, wherever they sit; nothing written", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const mitra = yield* createMitra()
      const user = yield* createCcUser({ permissions: {} })
      const token = admin.accessToken
      const before = yield* snapshot
      for (const [name, ch] of Object.entries(hiddenCharacters)) {
        for (const text of placements(ch)) {
          const what = `${name} in ${JSON.stringify(text)}`
          const phone = `+62812${Math.floor(Math.random() * 1e8).toString().padStart(8, "0")}`
          const email = `ann-${randomUUID().slice(0, 8)}@example.com`
          const cases: ReadonlyArray<readonly [string, Effect.Effect<JsonResponse, never, HttpClient.HttpClient>]> = [
            ["displayName", post("/internal/mitras", { token, rawJson: asciiJson({ displayName: text, phone, password: "a-password" }) })],
            ["displayName", patch(`/internal/mitras/${mitra.id}`, { token, rawJson: asciiJson({ displayName: text }) })],
            ["displayName", post("/api/auth/customer/anonymous", { rawJson: asciiJson({ displayName: text }) })],
            ["displayName", post("/internal/cc-users", { token, rawJson: asciiJson({ email, displayName: text, password: "a-password", roleId: user.roleId }) })],
            ["email", post("/internal/cc-users", { token, rawJson: asciiJson({ email: `${text.toLowerCase()}@example.com`, displayName: "Ann", password: "a-password", roleId: user.roleId }) })],
            ["displayName", patch(`/internal/cc-users/${user.id}`, { token, rawJson: asciiJson({ displayName: text }) })],
            ["name", post("/internal/roles", { token, rawJson: asciiJson({ name: text, permissions: {} }) })]
          ]
          for (const [field, request] of cases) expectRefused(yield* request, field, `${field}: ${what}`)
        }
      }
      expect(yield* snapshot).toEqual(before)
    }))

  it.effect("emoji sequences and names in other scripts are accepted and stored exactly", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const admin = yield* loginAsCcUser()
      for (const displayName of acceptedNames) {
        const phone = `+62813${Math.floor(Math.random() * 1e8).toString().padStart(8, "0")}`
        const mitra = yield* post("/internal/mitras", { token: admin.accessToken, rawJson: asciiJson({ displayName, phone, password: "a-password" }) })
        expect(mitra.status, `${displayName}: ${mitra.text}`).toBe(201)
        const mitraId = (mitra.body as { mitra: { id: string } }).mitra.id
        const customer = yield* post("/api/auth/customer/anonymous", { rawJson: asciiJson({ displayName }) })
        expect(customer.status, displayName).toBe(201)
        const customerId = (customer.body as { customerId: string }).customerId
        const [stored] = yield* sql<{ mitra: string; customer: string }>`
          SELECT (SELECT display_name FROM mitras WHERE id = ${mitraId}) AS mitra,
                 (SELECT display_name FROM customers WHERE id = ${customerId}) AS customer
        `
        expect(stored, displayName).toEqual({ mitra: displayName, customer: displayName })
      }
    }))

  it.effect("role names are unique ignoring case: a case variant → 409 DuplicateRoleName, no row", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const name = `Support_Lead-${randomUUID().slice(0, 8)}`
      const created = yield* post("/internal/roles", { token: admin.accessToken, json: { name, permissions: { mitra: ["read"] } } })
      expect(created.status).toBe(201)
      const before = yield* snapshot
      for (const variant of [name.toLowerCase(), name.toUpperCase(), ` ${name.toLowerCase()} `]) {
        const response = yield* post("/internal/roles", { token: admin.accessToken, json: { name: variant, permissions: {} } })
        expect(response, variant).toMatchObject({ status: 409, body: { _tag: "DuplicateRoleName" } })
      }
      expect(yield* snapshot).toEqual(before)
    }))

  it.effect("permissions naming __proto__, constructor or any other unknown resource → 400 naming it, no role", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const before = yield* snapshot
      for (
        const [resource, permissions] of [
          ["__proto__", String.raw`{"__proto__":["read"]}`],
          ["__proto__", String.raw`{"mitra":["read"],"__proto__":["read"]}`],
          ["__proto__", String.raw`{"__proto__":{"mitra":["read"]}}`],
          ["__proto__", String.raw`{"__pr\u006fto__":["read"]}`],
          ["constructor", String.raw`{"constructor":["read"]}`],
          ["prototype", String.raw`{"prototype":["read"]}`],
          ["toString", String.raw`{"toString":["read"]}`],
          ["hasOwnProperty", String.raw`{"hasOwnProperty":["read"]}`],
          ["Mitra", String.raw`{"Mitra":["read"]}`]
        ] as const
      ) {
        const response = yield* post("/internal/roles", {
          token: admin.accessToken,
          rawJson: `{"name":"r-${randomUUID()}","permissions":${permissions}}`
        })
        expect(response.status, `${permissions}: ${response.text}`).toBe(400)
        expect(response.body).toMatchObject({ _tag: "HttpApiDecodeError" })
        expect((response.body as { message: string }).message, permissions).toContain(`permissions.${resource}: `)
      }
      expect(yield* snapshot).toEqual(before)
    }))
})
