/**
 * Start-up and shutdown of the running service.
 *
 * At start: a `system.online` event (persisted, then broadcast) and the setup logged in one
 * block (StartupSummary). At shutdown, before the HTTP server's own finalizer would wait forever
 * on open streams: stop accepting connections, record `system.offline`, end every stream with its
 * final frame, give clients a moment to read it, then close what is left. The layers below (writer flush, store close) run after this.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { hostname } from "node:os"
import { AccessConfig } from "../access/AccessConfig.js"
import { EventBus } from "../bus/EventBus.js"
import { Hub } from "../bus/Hub.js"
import { makeEvent } from "../domain/Event.js"
import { version } from "../domain/Version.js"
import { WatchConfig } from "../monitor/WatchConfig.js"
import { NotifyConfig } from "../notify/NotifyConfig.js"
import { RemediationConfig } from "../remediation/RemediationConfig.js"
import { SourceConfig } from "../sources/SourceConfig.js"
import { StoreConfig } from "../store/StoreConfig.js"
import { NodeServer } from "./NodeServer.js"
import { ServerConfig } from "./ServerConfig.js"
import { startupSummary } from "./StartupSummary.js"

export const Lifecycle = Layer.scopedDiscard(
  Effect.gen(function*() {
    const bus = yield* EventBus
    const hub = yield* Hub
    const server = yield* NodeServer
    const { shutdownGrace } = yield* ServerConfig
    const { address } = yield* HttpServer.HttpServer
    const listening = address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : address.path

    yield* bus.publishOne(makeEvent({ type: "system.online", data: { version, address: listening, pid: process.pid } }))
    const { auth } = yield* AccessConfig
    const [first, ...rest] = startupSummary({
      version,
      address: listening,
      hostname: hostname(),
      auth,
      source: yield* SourceConfig,
      watch: yield* WatchConfig,
      store: yield* StoreConfig,
      remediation: yield* RemediationConfig,
      notify: yield* NotifyConfig
    })
    yield* Effect.logInfo(first, ...rest)
    if (!auth) {
      yield* Effect.logWarning("authentication is OFF (loopback only): anyone on this machine can read and write; set VIGIL_AUTH=on to require tokens")
    }

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* Effect.logInfo("vigil shutting down")
        const closed = yield* Deferred.make<void>()
        server.close(() => Deferred.unsafeDone(closed, Effect.void))
        yield* bus.publishOne(makeEvent({ type: "system.offline", data: { version, reason: "shutdown" } })).pipe(
          Effect.catchAll((error) => Effect.logWarning("could not record system.offline", error))
        )
        yield* hub.closeAll
        // Streams that just ended leave keep-alive connections that turn idle after close() was
        // called: close those as they appear. A connection that never sent a request (HTTP
        // clients open spare ones) is not "idle" to Node and is only cut when the grace ends.
        // Finalizers run uninterruptibly, so the wait is made interruptible for the timeout.
        yield* Deferred.await(closed).pipe(
          Effect.race(
            Effect.sync(() => server.closeIdleConnections()).pipe(
              Effect.repeat(Schedule.spaced("25 millis")),
              Effect.zipRight(Effect.never)
            )
          ),
          Effect.interruptible,
          Effect.timeout(shutdownGrace),
          Effect.catchAll(() => Effect.sync(() => server.closeAllConnections()))
        )
      })
    )
  })
)
