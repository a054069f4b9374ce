/**
 * A SQLite `SqlClient` whose connection lives on a worker thread (SqliteThreadWorker.mjs).
 *
 * better-sqlite3 runs each statement synchronously on the thread that calls it; on the main
 * thread that was most of what ingest cost (the statements of a 100-event commit took 44 % of the
 * busy time of the thread that also parses, validates and answers HTTP), and a long transaction
 * (history upkeep) stalled every request. Here the main thread only compiles statements and hands
 * them over; the database work runs beside it, on another core. Everything above speaks the same
 * `SqlClient` as before: one connection, statements in the order they are issued, transactions
 * holding it as the platform's SQLite client does.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as Client from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { existsSync } from "node:fs"
import { Worker } from "node:worker_threads"

export interface SqliteThreadOptions {
  readonly filename: string
  readonly transformResultNames?: (name: string) => string
  readonly transformQueryNames?: (name: string) => string
}

/** The worker beside this module in the sources, at the top of dist/ in the build. */
const workerFile = [new URL("./SqliteThreadWorker.mjs", import.meta.url), new URL("../SqliteThreadWorker.mjs", import.meta.url)]
  .find((file) => existsSync(file)) ?? new URL("./SqliteThreadWorker.mjs", import.meta.url)

/** How a statement's result is wanted: rows, better-sqlite3's own result, rows as arrays, or prepared once. */
type As = "rows" | "raw" | "values" | "unprepared" | "close"

type Reply = { readonly id: number; readonly rows: ReadonlyArray<unknown> } | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } }

type Transform = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

const make = (options: SqliteThreadOptions) =>
  Effect.gen(function*() {
    const compiler = Statement.makeCompilerSqlite(options.transformQueryNames)
    const transformRows = options.transformResultNames ? Statement.defaultTransforms(options.transformResultNames).array : undefined
    const worker = new Worker(workerFile, { workerData: { filename: options.filename, preparedStatements: 200 } })
    const waiting = new Map<number, (reply: Reply) => void>()
    let nextId = 0
    let gone: string | undefined

    const failAll = (reason: string) => {
      gone = reason
      for (const answer of waiting.values()) answer({ id: -1, error: { message: reason } })
      waiting.clear()
    }
    worker.on("message", (reply: Reply) => {
      const answer = waiting.get(reply.id)
      waiting.delete(reply.id)
      answer?.(reply)
    })
    worker.on("error", (error) => failAll(`the SQLite thread failed: ${error.message}`))
    worker.on("exit", (code) => failAll(`the SQLite thread exited (${code})`))

    const send = (sql: string, params: ReadonlyArray<unknown>, as: As) =>
      Effect.async<ReadonlyArray<unknown>, SqlError>((resume) => {
        if (gone !== undefined) return resume(Effect.fail(new SqlError({ message: gone })))
        const id = nextId++
        waiting.set(id, (reply) =>
          resume("error" in reply
            ? Effect.fail(new SqlError({ cause: Object.assign(new Error(reply.error.message), { code: reply.error.code }), message: "Failed to execute statement" }))
            : Effect.succeed(reply.rows)))
        worker.postMessage({ id, sql, params, as })
      })

    const rows = (sql: string, params: ReadonlyArray<unknown>, transform: Transform, as: As) =>
      transform === undefined ? send(sql, params, as) : Effect.map(send(sql, params, as), (r) => transform(r as ReadonlyArray<object>))

    const connection: Connection = {
      execute: (sql, params, transform) => rows(sql, params, transform, "rows"),
      executeRaw: (sql, params) => send(sql, params, "raw"),
      executeValues: (sql, params) => send(sql, params, "values") as Effect.Effect<ReadonlyArray<ReadonlyArray<unknown>>, SqlError>,
      executeUnprepared: (sql, params, transform) => rows(sql, params ?? [], transform, "unprepared"),
      // The thread answers a statement whole: a stream of its rows, read at once (no cursor).
      executeStream: (sql, params, transform) => Stream.fromIterableEffect(rows(sql, params, transform, "rows"))
    }

    // Closing lets the statements already sent finish, then checkpoints and closes the file.
    yield* Effect.addFinalizer(() =>
      gone !== undefined ? Effect.void : send("", [], "close").pipe(
        Effect.ignore,
        Effect.zipRight(Effect.promise(() => worker.terminate()))
      )
    )

    // One connection: a transaction holds it until it ends, and a statement outside one until it
    // is answered, so no statement can land inside another fiber's transaction while it waits
    // for the thread (the client releases the connection when the statement's scope closes).
    const semaphore = yield* Effect.makeSemaphore(1)
    const acquirer = Effect.uninterruptibleMask((restore) =>
      Effect.as(
        Effect.zipRight(restore(semaphore.take(1)), Effect.tap(Effect.scope, (scope) => Scope.addFinalizer(scope, semaphore.release(1)))),
        connection
      )
    )
    return yield* Client.make({ acquirer, compiler, transactionAcquirer: acquirer, spanAttributes: [["db.system.name", "sqlite"]], transformRows })
  })

export const layer = (options: SqliteThreadOptions): Layer.Layer<Client.SqlClient> =>
  Layer.scopedContext(Effect.map(make(options), (client) => Context.make(Client.SqlClient, client))).pipe(Layer.provide(Reactivity.layer))
