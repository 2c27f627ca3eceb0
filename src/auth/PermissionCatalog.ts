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
  control_center_users: ["create", "read", "update", "delete"],
  sessions: ["read"]
} as const satisfies Record<string, ReadonlyArray<string>>

export type Resource = keyof typeof permissionCatalog
export type Action<R extends Resource> = (typeof permissionCatalog)[R][number]

const resources = Object.keys(permissionCatalog) as ReadonlyArray<Resource>

/** Every permission there is: the bootstrap `super_admin` role's grant. */
export const allPermissions: Record<Resource, ReadonlyArray<string>> = permissionCatalog

/**
 * The actions an operator may list for `resource`: at least one, each from the catalog, no
 * duplicates.
 */
const actionsOf = (resource: Resource) => {
  const known: ReadonlyArray<string> = permissionCatalog[resource]
  return Schema.Array(Schema.String).pipe(
    Schema.filter((actions) => {
      if (actions.length === 0) return `Resource "${resource}" needs at least one action`
      for (const action of actions) {
        if (!known.includes(action)) return `Unknown action "${action}" on "${resource}"; expected one of ${known.join(", ")}`
      }
      if (new Set(actions).size !== actions.length) return `Resource "${resource}" lists an action twice`
      return true
    })
  )
}

type ResourceFields = { readonly [R in Resource]: Schema.optionalWith<ReturnType<typeof actionsOf>, { exact: true }> }

/**
 * A role's permissions as an operator writes them: `{resource: [action, ...]}` with known
 * resources only, each with a non-empty list of its known actions, no duplicates.
 *
 * A struct of the catalog's resources that refuses any other key (`onExcessProperty: "error"`),
 * rather than a string-keyed record checked afterwards: a record decodes by assigning each key to
 * a plain object, so a `"__proto__"` key (an own property after `JSON.parse`) would set the
 * result's prototype instead of a property — the resource would vanish and `{}` be stored. Every
 * own key of the input, whatever JavaScript makes of its name (`__proto__`, `constructor`,
 * `prototype`), is checked against the catalog and refused by name when unknown.
 */
export const PermissionsInput = Schema.Struct(
  Object.fromEntries(resources.map((resource) => [resource, Schema.optionalWith(actionsOf(resource), { exact: true })])) as ResourceFields
).annotations({
  identifier: "Permissions",
  description: "{resource: [action, ...]} from the permission catalog",
  parseOptions: { onExcessProperty: "error" }
})
