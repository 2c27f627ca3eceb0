/**
 * The import rules of src/ (`npm run lint:deps`, also run by .ci/run).
 *
 * The folders below are in dependency order: each may import the folders before it, never one
 * after it — so no folder depends, directly or through others, on a folder that depends on it.
 * The composition root (src/App.ts, src/main.ts, src/migrate.ts) imports everything; the folders
 * may import from the root only the HTTP contract, src/Api.ts (which imports only `*Api.ts`
 * specs: schemas and errors). Inside availability/, the store and the beacon cache (the ports and
 * their Valkey / in-memory implementations) know nothing of the services built on them.
 */
const order = [
  "config", // the environment, read and validated
  "domain", // value schemas shared by every part (ids)
  "observability", // logging, tracing, metrics text
  "db", // the Postgres client, migrations, the repository boundary
  "valkey", // the Valkey client and connection
  "http", // the HTTP server's own plumbing: limits, error answers
  "ratelimit", // limits counted in Valkey (memory as the fallback)
  "settings", // app_config and the typed settings
  "mitras", // the mitra account and its availability state in Postgres
  "customers", // the customer account
  "ops", // probes and /metrics
  "auth", // identities, tokens, logins, sessions, permissions
  "availability", // the Valkey mirror of availability: store, reads, writes, seeding, beacon
  "sessions", // chat sessions: pairing, offers, timers, payment, reroute; the payment webhook
  "events", // event streams (SSE) and their transport between instances
  "controlCenter", // the operators' /internal routes
  "mitraApp", // the mitra app's /api/mitra routes
  "customerApp", // the customer app's /api/chat-sessions routes
  "sweeps" // the background loops
]

const layerRules = order.map((folder, i) => ({
  name: `layer:${folder}`,
  comment: `src/${folder} may import only folders listed before it in .dependency-cruiser.cjs`,
  severity: "error",
  from: { path: `^src/${folder}/` },
  to: { path: `^src/(${order.slice(i + 1).join("|") || "$^"})/` }
}))

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No file reaches itself through its imports",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true }
    },
    ...layerRules,
    {
      name: "unknown-folder",
      comment: "Every folder of src/ has its place in the order above",
      severity: "error",
      from: { path: `^src/(?!(${order.join("|")})/)[^/]+/` },
      to: {}
    },
    {
      name: "root-is-composition",
      comment: "A folder may import from the root only the HTTP contract (src/Api.ts)",
      severity: "error",
      from: { path: "^src/[^/]+/" },
      to: { path: "^src/(App|main|migrate)\\.ts$" }
    },
    {
      name: "ports-know-no-services",
      comment: "availability/store and availability/beaconCache do not import the services built on them",
      severity: "error",
      from: { path: "^src/availability/(store|beaconCache)/" },
      to: { path: "^src/availability/(?!(store|beaconCache)/)" }
    },
    {
      name: "store-below-beacon-cache",
      severity: "error",
      from: { path: "^src/availability/store/" },
      to: { path: "^src/availability/beaconCache/" }
    },
    {
      name: "src-not-tests",
      comment: "The service never imports its tests or benchmarks",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|bench)/" }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"]
    }
  }
}
