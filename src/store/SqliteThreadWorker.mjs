/**
 * The SQLite connection of `SqliteThread`, on a thread of its own: it prepares and runs each
 * statement it is sent, in order, and answers with the rows (or the error). Plain JavaScript so
 * that the same file runs from the sources and from dist/, and it knows nothing of vigil: what to
 * run, transactions included, is decided on the main thread.
 */
import Database from "better-sqlite3"
import { parentPort, workerData } from "node:worker_threads"

const db = new Database(workerData.filename)
db.pragma("journal_mode = WAL")

/** Prepared statements by SQL text, the least recently prepared dropped past the bound. */
const prepared = new Map()
const prepare = (sql) => {
  let statement = prepared.get(sql)
  if (statement === undefined) {
    statement = db.prepare(sql)
    prepared.set(sql, statement)
    if (prepared.size > workerData.preparedStatements) prepared.delete(prepared.keys().next().value)
  }
  return statement
}

const run = (statement, params, as) => {
  if (!statement.reader) {
    const result = statement.run(...params)
    return as === "raw" ? result : []
  }
  if (as !== "values") return statement.all(...params)
  statement.raw(true)
  try {
    return statement.all(...params)
  } finally {
    statement.raw(false)
  }
}

parentPort.on("message", ({ id, sql, params, as }) => {
  if (as === "close") {
    db.close()
    parentPort.postMessage({ id, rows: [] })
    parentPort.close()
    return
  }
  try {
    const statement = as === "unprepared" ? db.prepare(sql) : prepare(sql)
    parentPort.postMessage({ id, rows: run(statement, params, as) })
  } catch (error) {
    parentPort.postMessage({ id, error: { message: error.message, code: error.code } })
  }
})
