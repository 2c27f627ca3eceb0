/**
 * Every permission a control-center role can hold: a resource and the actions on it. Roles store
 * `{resource: [action, ...]}` (`roles.permissions`); a role may only name what is listed here, so a
 * typo in a role never silently grants nothing (or something else).
 */
import { Schema } from "effect"

export const permissionCatalog = {
  mitra: ["create", "read", "update", "delete"],
  config: ["read", "update"],
  roles: ["create", "read", "update", "delete"],
  control_center_users: ["create", "read", "update", "delete"]
} as const satisfies Record<string, ReadonlyArray<string>>

export type Resource = keyof typeof permissionCatalog
export type Action<R extends Resource> = (typeof permissionCatalog)[R][number]

const resources = Object.keys(permissionCatalog) as ReadonlyArray<Resource>

/** Every permission there is: the bootstrap `super_admin` role's grant. */
export const allPermissions: Record<Resource, ReadonlyArray<string>> = permissionCatalog

const isKnownResource = (resource: string): resource is Resource => (resources as ReadonlyArray<string>).includes(resource)

/**
 * A role's permissions as an operator writes them: known resources, each with a non-empty list of
 * its known actions, no duplicates.
 */
export const PermissionsInput = Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) }).pipe(
  Schema.filter((permissions) => {
    for (const [resource, actions] of Object.entries(permissions)) {
      if (!isKnownResource(resource)) {
        return `Unknown resource "${resource}"; expected one of ${resources.join(", ")}`
      }
      const known: ReadonlyArray<string> = permissionCatalog[resource]
      if (actions.length === 0) return `Resource "${resource}" needs at least one action`
      for (const action of actions) {
        if (!known.includes(action)) {
          return `Unknown action "${action}" on "${resource}"; expected one of ${known.join(", ")}`
        }
      }
      if (new Set(actions).size !== actions.length) return `Resource "${resource}" lists an action twice`
    }
    return true
  }),
  Schema.annotations({ identifier: "Permissions", description: "{resource: [action, ...]} from the permission catalog" })
)
