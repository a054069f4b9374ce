/**
 * A fresh PostgreSQL database per test layer on the machine's server (127.0.0.1:5432, trust
 * auth), dropped afterwards. `VIGIL_TEST_PG_URL` points elsewhere; the database named in it is
 * only used to create and drop the fresh one.
 */
import * as Effect from "effect/Effect"
import pg from "pg"

const adminUrl = process.env.VIGIL_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const admin = <A>(f: (client: pg.Client) => Promise<A>) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      return await f(client)
    } finally {
      await client.end()
    }
  })

/** Creates a database, yields its URL, and drops it (closing stray connections) when the scope ends. */
export const freshDatabase = Effect.acquireRelease(
  Effect.gen(function*() {
    const name = `vigil_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
    yield* admin((c) => c.query(`CREATE DATABASE ${name}`))
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    return { name, url: url.toString() }
  }),
  ({ name }) => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).pipe(Effect.ignore)
)
