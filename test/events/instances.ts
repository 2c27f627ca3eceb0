/** Two app instances on one Postgres database and one Valkey (key prefix shared), each its own server and client. */
import { Effect, Layer } from "effect"
import { cloneTemplateDatabase, pgClientLayer } from "../support/TestDatabase.js"
import { TestApp } from "../support/TestApp.js"
import type { MirrorLayer } from "../support/TestInfrastructure.js"
import { randomKeyPrefix, testValkeyConnection } from "../support/TestValkey.js"

export const twoInstances = (options: {
  readonly valkeyUrl?: string
  readonly env?: Record<string, string>
  /** Each instance's mirror store (default: the Valkey store). */
  readonly store?: MirrorLayer
} = {}) =>
  Effect.gen(function*() {
    const database = yield* cloneTemplateDatabase
    const keyPrefix = randomKeyPrefix()
    const instance = () =>
      Layer.build(TestApp({
        database: pgClientLayer(database.url, 4),
        valkey: testValkeyConnection({ keyPrefix, ...(options.valkeyUrl === undefined ? {} : { url: options.valkeyUrl }) }),
        ...(options.env === undefined ? {} : { env: options.env }),
        ...(options.store === undefined ? {} : { store: options.store })
      }))
    const a = yield* instance()
    const b = yield* instance()
    return { a, b }
  })
