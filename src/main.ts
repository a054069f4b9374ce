/**
 * vigil: the features composed in dependency order, run until SIGINT/SIGTERM, then shut down
 * gracefully. Each feature's layer wires its own parts; the configuration is read from the
 * environment (or any ConfigProvider: tests give a map).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { AccessConfig } from "./access/AccessConfig.js"
import { Inbox } from "./access/Inbox.js"
import { StreamGuard } from "./access/StreamGuard.js"
import { Tokens } from "./access/Tokens.js"
import { BackboneLive } from "./bus/Backbone.js"
import { HttpLive } from "./http/HttpLive.js"
import { LoggingLive } from "./Logging.js"
import { TracingLive } from "./Tracing.js"
import { Lifecycle } from "./http/Lifecycle.js"
import { NodeServer } from "./http/NodeServer.js"
import { ServerConfig } from "./http/ServerConfig.js"
import { HistoryConfig } from "./monitor/HistoryConfig.js"
import { CephMonitor } from "./monitor/CephMonitor.js"
import { HistoryRecorder } from "./monitor/HistoryRecorder.js"
import { DiskMonitor } from "./monitor/DiskMonitor.js"
import { ReplicationMonitor } from "./monitor/ReplicationMonitor.js"
import { UpdatesMonitor } from "./monitor/UpdatesMonitor.js"
import { BackupMonitor } from "./monitor/BackupMonitor.js"
import { ZfsMonitor } from "./monitor/ZfsMonitor.js"
import { ClusterWatch } from "./monitor/Monitor.js"
import { WatchConfig } from "./monitor/WatchConfig.js"
import { Acknowledgements } from "./notify/Acknowledgements.js"
import { Alerting } from "./notify/Alerting.js"
import { Deliveries } from "./notify/Deliveries.js"
import { NotifyConfig } from "./notify/NotifyConfig.js"
import { Heartbeats } from "./producers/Heartbeats.js"
import { AuditRepo } from "./remediation/AuditRepo.js"
import { Engine } from "./remediation/Engine.js"
import { Proposals } from "./remediation/Proposals.js"
import { RemediationConfig } from "./remediation/RemediationConfig.js"
import { Leadership } from "./scale/Leadership.js"
import { SourceConfig } from "./sources/SourceConfig.js"
import { SourcesLive } from "./sources/Sources.js"
import { Incidents } from "./store/Incidents.js"
import { MetricHistory } from "./store/MetricHistory.js"
import { Silences } from "./store/Silences.js"
import { StoreConfig } from "./store/StoreConfig.js"

/** Every `VIGIL_*` variable, read once at start: a bad one stops start-up naming it. */
const ConfigLive = Layer.mergeAll(
  StoreConfig.layer,
  ServerConfig.layer,
  AccessConfig.layer,
  SourceConfig.layer,
  WatchConfig.layer,
  HistoryConfig.layer,
  RemediationConfig.layer,
  NotifyConfig.layer
)

/** Store and bus, with the coordination of several instances (leadership), the incidents table and metric history. */
const Core = Layer.mergeAll(Incidents.Default, Silences.Default, Leadership.Default, MetricHistory.Default).pipe(Layer.provideMerge(BackboneLive))

/** What reacts to the stream and what feeds it besides ingest: the watch, remediation, producers, access. */
const Features = Layer.mergeAll(
  Engine.Default,
  AuditRepo.Default,
  Proposals.Default,
  Alerting.Default,
  Deliveries.Default,
  Acknowledgements.Default,
  Heartbeats.Default,
  Inbox.Default,
  StreamGuard.Default,
  HistoryRecorder.Default,
  CephMonitor.Default,
  ZfsMonitor.Default,
  ReplicationMonitor.Default,
  DiskMonitor.Default,
  UpdatesMonitor.Default,
  BackupMonitor.Default
).pipe(
  Layer.provideMerge(Layer.mergeAll(ClusterWatch.layer, Tokens.Default)),
  Layer.provideMerge(SourcesLive)
)

export const VigilLive = Lifecycle.pipe(
  Layer.provideMerge(HttpLive),
  Layer.provideMerge(Features),
  Layer.provideMerge(Core),
  Layer.provideMerge(NodeServer.layer),
  Layer.provideMerge(ConfigLive)
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
  // The logger is LoggingLive's, not the one runMain would add. Tracing wraps everything, so the
  // spans of shutting down are exported too before it flushes and closes.
  NodeRuntime.runMain(Layer.launch(VigilLive).pipe(Effect.provide(TracingLive), Effect.provide(LoggingLive)), { disablePrettyLogger: true })
}

if (import.meta.url === `file://${process.argv[1]}`) runServer()
