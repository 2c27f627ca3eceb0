/**
 * What every repository does at its boundary, written once: a Postgres failure becomes
 * `DatabaseUnavailable` (logged here; the API answers 503), and a row that does not match its
 * result schema — or a request that does not match its request schema, or no row from a statement
 * that always returns one — is a defect: a bug in the repository, never the caller's bad input,
 * so it must not surface as a 4xx.
 *
 * A repository is an `Effect.Service` whose queries are `SqlSchema` functions over the `sql`
 * template; it returns `repository({...})` of them, so its callers only ever see domain errors and
 * `DatabaseUnavailable`. `Transactions.run` is `withTransaction` with the same mapping: the
 * statements of one business operation commit together, whichever repositories they come from.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Predicate } from "effect"
import { DatabaseUnavailable } from "./DatabaseUnavailable.js"

const isTagged = (tag: string) => (error: unknown): boolean => Predicate.isTagged(error, tag)

/** The errors a repository's callers see: its own, minus the SQL and schema failures. */
export type AtBoundary<E> =
  | Exclude<E, { readonly _tag: "SqlError" } | { readonly _tag: "ParseError" } | { readonly _tag: "NoSuchElementException" }>
  | DatabaseUnavailable

const unavailable = new DatabaseUnavailable({ message: "The database is unavailable; try again shortly." })

/** One effect at the repository boundary. */
export const atBoundary = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, AtBoundary<E>, R> =>
  effect.pipe(
    // A row that does not decode, or no row from a statement that always returns one: a bug.
    Effect.catchIf((error) => isTagged("ParseError")(error) || isTagged("NoSuchElementException")(error), (error) =>
      Effect.die(error)),
    Effect.catchIf(isTagged("SqlError"), (error) =>
      Effect.logError("Postgres operation failed", error).pipe(Effect.zipRight(Effect.fail(unavailable))))
  ) as Effect.Effect<A, AtBoundary<E>, R>

type AnyEffect = Effect.Effect<any, any, any>
type AnyQuery = (...args: ReadonlyArray<any>) => AnyEffect

type Bounded<M> = {
  readonly [K in keyof M]: M[K] extends (...args: infer P) => Effect.Effect<infer A, infer E, infer R>
    ? (...args: P) => Effect.Effect<A, AtBoundary<E>, R>
    : M[K] extends Effect.Effect<infer A, infer E, infer R> ? Effect.Effect<A, AtBoundary<E>, R>
    : M[K]
}

/** Every query of a repository (functions and plain effects alike) at its boundary. */
export const repository = <M extends Record<string, AnyQuery | AnyEffect>>(queries: M): Bounded<M> =>
  Object.fromEntries(
    Object.entries(queries).map(([name, query]) => [
      name,
      Effect.isEffect(query)
        ? atBoundary(query)
        : (...args: ReadonlyArray<unknown>) => atBoundary((query as AnyQuery)(...args))
    ])
  ) as Bounded<M>

/** Statements of several repositories in one transaction, with the boundary's error mapping. */
export class Transactions extends Effect.Service<Transactions>()("mitra/Transactions", {
  effect: Effect.map(SqlClient.SqlClient, (sql) => ({
    run: <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, AtBoundary<E>, R> => atBoundary(sql.withTransaction(effect))
  }))
}) {}
