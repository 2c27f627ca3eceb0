/**
 * A refresh's "may this subject still sign in?" check and its token rotation commit together: when
 * the check fails (Postgres error → 503), the presented token stays current, so the client's retry
 * with it succeeds instead of being treated as a replay that revokes the session.
 */
import { SqlClient, SqlError } from "@effect/sql"
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { RefreshSessions } from "../../src/auth/RefreshSessions.js"
import { loginAsMitra } from "../support/fixtures.js"
import { post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

const refresh = (refreshToken: string) => post("/api/auth/refresh", { json: { refreshToken } })

const revokedReasons = (subjectId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ revokedReason: string | null }>`SELECT revoked_reason FROM auth_sessions WHERE subject_id = ${subjectId}`.pipe(
      Effect.map((rows) => rows.map((row) => row.revokedReason)),
      Effect.orDie
    ))

layer(TestApp(), { excludeTestServices: true })("refresh: subject check and rotation are one transaction", (it) => {
  it.effect("the subject check failing after the rotation's UPDATE rolls the rotation back (503), and the retry works", () =>
    Effect.gen(function*() {
      const sessions = yield* RefreshSessions.pipe(Effect.provide(RefreshSessions.Default))
      const { mitra, refreshToken } = yield* loginAsMitra()
      let checked = 0
      const failure = yield* sessions.rotate(refreshToken, () =>
        Effect.suspend(() => {
          checked++
          return Effect.fail(new SqlError.SqlError({ cause: new Error("connection lost"), message: "simulated" }))
        })).pipe(Effect.flip)
      expect(checked).toBe(1)
      expect(failure).toMatchObject({ _tag: "DatabaseUnavailable" })
      expect(yield* revokedReasons(mitra.id)).toEqual([null])

      // The client retries with the same token: it is still the current one, not a replay.
      const retry = yield* refresh(refreshToken)
      expect(retry.status).toBe(200)
      expect(yield* revokedReasons(mitra.id)).toEqual([null])
      expect((yield* refresh((retry.body as { refreshToken: string }).refreshToken)).status).toBe(200)
    }))

  it.effect("through the API: Postgres failing the subject check → 503, then the same token refreshes (200)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { mitra, refreshToken } = yield* loginAsMitra()
      // The subject check of a mitra reads `mitras`; without the table it fails with a SqlError.
      const failed = yield* Effect.acquireUseRelease(
        sql`ALTER TABLE mitras RENAME TO mitras_hidden_by_test`.pipe(Effect.orDie),
        () => refresh(refreshToken),
        () => sql`ALTER TABLE mitras_hidden_by_test RENAME TO mitras`.pipe(Effect.orDie)
      )
      expect(failed.status).toBe(503)
      expect(failed.body).toMatchObject({ _tag: "DatabaseUnavailable" })

      const retry = yield* refresh(refreshToken)
      expect(retry.status).toBe(200)
      expect(yield* revokedReasons(mitra.id)).toEqual([null])
    }))
})
