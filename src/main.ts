/**
 * vigil: composes the layers and runs until SIGINT/SIGTERM, then shuts down gracefully.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { AccessConfig } from "./access/AccessConfig.js"
import { Notifications } from "./access/Notifications.js"
import { StreamGuard } from "./access/StreamGuard.js"
import { Tokens } from "./access/Tokens.js"
import { AppConfig } from "./AppConfig.js"
import { BackboneLive } from "./Backbone.js"
import { HttpLive } from "./http/HttpLive.js"
import { NodeServer } from "./http/NodeServer.js"
import { Lifecycle } from "./Lifecycle.js"
import { Incidents } from "./monitor/Incidents.js"
import { Leadership } from "./scale/Leadership.js"
import { WatchConfig } from "./monitor/WatchConfig.js"
import { WatchLive } from "./monitor/WatchLive.js"
import { Heartbeats } from "./producers/Heartbeats.js"
import { AuditRepo } from "./remediation/AuditRepo.js"
import { Engine } from "./remediation/Engine.js"
import { Notifier } from "./remediation/Notifier.js"
import { RemediationConfig } from "./remediation/RemediationConfig.js"

export const VigilLive = Lifecycle.pipe(
  Layer.provideMerge(HttpLive),
  Layer.provideMerge(Engine.Default),
  Layer.provideMerge(Notifier.Default),
  Layer.provideMerge(Layer.merge(StreamGuard.Default, Notifications.Default)),
  Layer.provideMerge(Layer.mergeAll(WatchLive, Heartbeats.Default, AuditRepo.Default, Tokens.Default)),
  Layer.provideMerge(Layer.merge(Incidents.Default, Leadership.Default)),
  Layer.provideMerge(BackboneLive),
  Layer.provideMerge(NodeServer.layer)
)

/**
 * The last line of defence: nothing a client sends reaches code outside Effect's error channel,
 * but if something ever escapes into an event listener, one connection's bug must not end the
 * service for everyone. It is logged, loudly, and the process goes on.
 */
const survive = (what: string) => (error: unknown) => {
  Effect.runFork(Effect.logError(`${what} escaped every handler; vigil keeps running`, error))
}

/** Runs the server with the environment's configuration until SIGINT/SIGTERM. */
export const runServer = () => {
  process.on("uncaughtException", survive("an exception"))
  process.on("unhandledRejection", survive("a rejected promise"))
  NodeRuntime.runMain(
    Layer.launch(VigilLive.pipe(Layer.provide([AppConfig.layer, WatchConfig.layer, RemediationConfig.layer, AccessConfig.layer])))
  )
}

if (import.meta.url === `file://${process.argv[1]}`) runServer()
