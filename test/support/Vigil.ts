/**
 * Starts a real vigil (real SQLite in a temp dir, real HTTP on a loopback port) inside the
 * test's scope, and gives the test its URL, its services and a way to stop it early.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import * as ConfigProvider from "effect/ConfigProvider"
import { VigilLive } from "../../src/main.js"

export const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(Path.join(tmpdir(), "vigil-test-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

export type VigilServices = Layer.Layer.Success<typeof VigilLive>

export interface RunningVigil {
  readonly url: string
  readonly port: number
  readonly dataDir: string
  readonly context: Context.Context<VigilServices>
  /** Shuts the server down the way SIGTERM would, and waits for it. */
  readonly stop: Effect.Effect<void>
  readonly use: <A, E>(effect: Effect.Effect<A, E, VigilServices>) => Effect.Effect<A, E>
}

/**
 * Starts vigil with the given `VIGIL_*` variables; it stops when the test's scope closes.
 * Nothing is watched unless the test sets `VIGIL_SOURCE`, so event counts stay the test's own.
 */
export const startVigil = (env: Record<string, string> = {}, dataDir?: string) =>
  Effect.gen(function*() {
    const dir = dataDir ?? (yield* tempDir)
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    // Clients here are local and read their final frame at once; a short grace keeps tests quick.
    const variables = { VIGIL_DATA_DIR: dir, VIGIL_PORT: "0", VIGIL_SHUTDOWN_GRACE: "300 millis", VIGIL_SOURCE: "none", ...env }
    const config = Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables))))
    const context = yield* Layer.buildWithScope(VigilLive.pipe(Layer.provide(config)), scope)
    const address = Context.get(context, HttpServer.HttpServer).address
    if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
    return {
      url: `http://127.0.0.1:${address.port}`,
      port: address.port,
      dataDir: dir,
      context,
      stop: Scope.close(scope, Exit.void),
      use: (effect) => Effect.provide(effect, context)
    } satisfies RunningVigil
  })

let counter = 0

/** A valid CloudEvent with a unique id. */
export const cloudEvent = (fields: Record<string, unknown> = {}) => ({
  specversion: "1.0",
  id: `ev-${process.pid}-${++counter}-${Math.random().toString(36).slice(2)}`,
  source: "test",
  type: "test.event",
  ...fields
})

export interface IngestAnswer {
  readonly status: number
  readonly body: any
}

export const postEvents = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  Effect.tryPromise(async (): Promise<IngestAnswer> => {
    const response = await fetch(`${url}/api/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body)
    })
    return { status: response.status, body: await response.json() }
  }).pipe(
    // A keep-alive connection pooled before a server restart can fail once; events carry ids,
    // so sending the same batch again is safe (the server deduplicates).
    Effect.retry({ times: 2 }),
    Effect.orDie
  )

export const getJson = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, body: await response.json() as any }
  })
