/**
 * `requirePermission` is typed from the permission catalog: a resource or an action the catalog
 * does not list — or an action of another resource — does not compile (`npm run typecheck` covers
 * `test/`, and an unused `@ts-expect-error` is itself an error). At run time it answers 403 naming
 * the missing permission, and lets through exactly what the role grants.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Permissions } from "../../src/auth/Principals.js"
import { CurrentCcUser } from "../../src/auth/Principals.js"
import { requirePermission } from "../../src/auth/RequirePermission.js"

const asUserWith = (permissions: Permissions) =>
  Effect.provideService(CurrentCcUser, { id: "00000000-0000-4000-8000-000000000001", email: "ops@example.com", permissions })

describe("requirePermission", () => {
  it("a permission outside the catalog does not compile", () => {
    // @ts-expect-error "fly" is no action of "mitra"
    requirePermission("mitra", "fly")
    // @ts-expect-error "mitras" is no resource
    requirePermission("mitras", "read")
    // @ts-expect-error "delete" is an action of "mitra", not of "config"
    requirePermission("config", "delete")
    // What the catalog lists compiles.
    requirePermission("control_center_users", "update")
  })

  it.effect("passes when the role grants the action on the resource", () =>
    requirePermission("mitra", "update").pipe(asUserWith({ mitra: ["read", "update"] })))

  it.effect("403 naming the permission when the role lacks it (another resource's action does not count)", () =>
    Effect.gen(function*() {
      const refused = yield* requirePermission("config", "update").pipe(
        asUserWith({ mitra: ["update"], config: ["read"] }),
        Effect.flip
      )
      expect(refused).toMatchObject({ _tag: "Forbidden", message: "Missing permission config:update" })
    }))
})
