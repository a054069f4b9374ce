/**
 * The cluster watch: four tiers, each a Stream of snapshots from an Effect Schedule (offset and
 * jittered so they do not hit the API together), folded through the pure detectors with the
 * tier's own state, into incidents and events.
 *
 * - critical (12 s): what happens to nodes, guests, storage, quorum and HA (Diff), each change
 *   with its cause from the task logs of the nodes involved (Causes), decided before it is told
 * - important (32 s): CPU, memory and disk thresholds on nodes and guests
 * - routine (5 min): the `health.heartbeat` ("Systems Nominal" / "Cluster Degraded")
 * - background (30 min): storage pool capacity thresholds
 *
 * Only the leader polls. A tier's state belongs to a leadership term: when this instance takes
 * the lead, the critical tier carries on from the watch state the last leader (or this process
 * before a restart) stored, and the threshold tiers from the open incidents, so nothing is told
 * twice and nothing that happened in between is missed. A failing source never stops a tier:
 * each poll's failure is a value, folded into one `source.degraded` per outage and one
 * `source.recovered`.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type * as Tracer from "effect/Tracer"
import { EventBus } from "../bus/EventBus.js"
import type { Snapshot } from "../domain/Snapshot.js"
import { Leadership } from "../scale/Leadership.js"
import { ClusterSource, type ClusterSourceShape } from "../sources/ClusterSource.js"
import { actingUser, SourceConfig } from "../sources/SourceConfig.js"
import { EventRepo } from "../store/EventRepo.js"
import { gatherEvidence } from "./Evidence.js"
import { fromStateChange } from "./ChangeFindings.js"
import { diff, seed, type WatchState } from "./Diff.js"
import type { Finding } from "./Findings.js"
import { nodesToExplain } from "./GuestWatch.js"
import { heartbeatEvent } from "./Heartbeat.js"
import { Incidents } from "../store/Incidents.js"
import { pollDuration, pollFailures } from "../telemetry/Instruments.js"
import { recordFindings } from "./Record.js"
import { reconcile } from "./Reconcile.js"
import { healthy, onPoll, type SourceHealth } from "./SourceHealth.js"
import { fromThreshold } from "./ThresholdFindings.js"
import { evaluate, measure, statesFromIncidents, type ThresholdStates, unmeasurable } from "./Thresholds.js"
import { type Metric } from "./ThresholdPolicy.js"
import { WatchConfig } from "./WatchConfig.js"
import { decodeWatchState, encodeWatchState } from "./WatchStateCodec.js"


/** What the leader saw last: for instances that do not poll, and for the next leader. */
export interface ClusterView {
  readonly snapshot: Snapshot
  readonly health: SourceHealth
  readonly watch: WatchState | undefined
}

/** Where the leader keeps its latest view (snapshot, source health, watch state). */
const viewKey = "cluster_view"

/**
 * A snapshot, the leadership term it was taken in (a new term starts the tier's state afresh),
 * and the poll's span: each poll begins a trace, which what it leads to continues.
 */
interface Polled {
  readonly snapshot: Snapshot
  readonly term: number
  readonly span: Tracer.AnySpan
}

const guestAndNodeMetrics: ReadonlySet<Metric> = new Set(["cpu", "mem", "disk"])
const storageMetrics: ReadonlySet<Metric> = new Set(["storage"])

/** Watches `source` in the current scope; see the module's comment. */
export const makeMonitor = (source: ClusterSourceShape) =>
  Effect.gen(function*() {
    const config = yield* WatchConfig
    const bus = yield* EventBus
    const incidents = yield* Incidents
    const leadership = yield* Leadership
    const repo = yield* EventRepo

    const latest = yield* SubscriptionRef.make<Option.Option<Snapshot>>(Option.none())
    const view = yield* Ref.make<Option.Option<ClusterView>>(Option.none())
    const health = yield* Ref.make<SourceHealth>(healthy)
    const guestPolicy = {
      lockStuckAfterMs: Duration.toMillis(config.lockStuckAfter),
      returnGraceMs: Duration.toMillis(config.nodeReturnGrace),
      slackMs: 60_000
    }
    const acting = actingUser(yield* SourceConfig)

    const record = recordFindings(incidents, bus)

    const storedView = Effect.map(repo.getMeta(viewKey), (text): ClusterView | undefined => {
      if (text === undefined) return undefined
      const raw = JSON.parse(text) as { snapshot: Snapshot; health: SourceHealth; watch: string }
      return { snapshot: raw.snapshot, health: raw.health, watch: Option.getOrUndefined(Either.getRight(decodeWatchState(raw.watch))) }
    }).pipe(Effect.orElseSucceed(() => undefined))

    let term = 0
    let leading = false
    /** True when this instance leads; gaining the lead starts a new term and takes over source health. */
    const lead = Effect.gen(function*() {
      const now = yield* leadership.isLeader
      if (now && !leading) {
        term++
        const open = yield* incidents.openIncidents.pipe(Effect.orElseSucceed(() => []))
        const degraded = open.find((i) => i.key === `SOURCE_DEGRADED:source/${source.name}`)
        const taken: SourceHealth = degraded === undefined
          ? healthy
          : { _tag: "Degraded", since: Date.parse(degraded.openedAt), failures: degraded.count, reason: degraded.summary }
        yield* Ref.set(health, taken)
      }
      leading = now
      return now
    })

    // Tiers poll concurrently, so results can arrive out of order (a poll that hung through an
    // outage ends after a newer one succeeded). Health follows the newest poll started, and an
    // older result arriving late is ignored for health, or one outage would count as several.
    let pollsStarted = 0
    let newestApplied = 0

    /** Takes a snapshot; a failure is recorded as source health, never raised. */
    const poll = (tier: string) => Effect.gen(function*() {
      const started = ++pollsStarted
      const startedAt = yield* Clock.currentTimeNanos
      const result = yield* Effect.either(source.snapshot)
      const now = yield* Clock.currentTimeMillis
      pollDuration.observe({ source: source.name, tier }, Number((yield* Clock.currentTimeNanos) - startedAt) / 1e9)
      if (result._tag === "Left") pollFailures.inc({ source: source.name, tier })
      const outcome = yield* Ref.modify(health, (h) => {
        if (started < newestApplied) return [undefined, h] as const
        newestApplied = started
        const next = onPoll(source.name, h, result._tag === "Right" ? { ok: true } : { ok: false, reason: result.left.reason }, now)
        return [next.finding, next.health] as const
      })
      if (outcome !== undefined) yield* record([outcome]).pipe(Effect.catchAllCause((cause) => Effect.logWarning("could not record the source's health", cause)))
      return Either.getRight(result)
    })

    /** One poll, the root of a trace: the snapshot with its term and the poll's span. */
    const tracedPoll = (tier: string) =>
      Effect.zipWith(poll(tier), Effect.orDie(Effect.currentSpan), (snapshot, span) => Option.map(snapshot, (s): Polled => ({ snapshot: s, term, span }))).pipe(
        Effect.withSpan("Monitor.poll", { root: true, attributes: { tier, source: source.name } })
      )

    /** A tier's snapshots: polled on its schedule while this instance leads. */
    const snapshots = (tier: string, interval: Duration.Duration, offset: Duration.Duration): Stream.Stream<Polled> =>
      Stream.execute(Effect.sleep(offset)).pipe(
        Stream.concat(Stream.repeatEffectWithSchedule(
          Effect.flatMap(lead, (leads) => (leads ? tracedPoll(tier) : Effect.succeed(Option.none<Polled>()))),
          Schedule.spaced(interval).pipe(Schedule.jittered)
        )),
        Stream.filterMap((p) => p)
      )

    /**
     * Tells the changes and stores the view they lead to in one commit: a successor (or this
     * process after a kill) then compares against exactly the state the told events describe.
     */
    const recordWithView = (findings: ReadonlyArray<Finding>, snapshot: Snapshot, watch: WatchState) =>
      Effect.gen(function*() {
        const current = { snapshot, health: yield* Ref.get(health), watch }
        const stored = JSON.stringify({ snapshot, health: current.health, watch: encodeWatchState(watch) })
        yield* record(findings, [{ key: viewKey, value: stored }])
        yield* Ref.set(view, Option.some(current))
        yield* SubscriptionRef.set(latest, Option.some(snapshot))
      })

    /**
     * Where a new term starts: the watch state stored last (by the previous leader, or this
     * process before a restart), so what changed in between is a change against it; without one,
     * the first snapshot seeded and reconciled with the incidents still open.
     */
    const startingPoint = (snapshot: Snapshot) =>
      Effect.gen(function*() {
        const stored = yield* storedView
        if (stored?.watch !== undefined) return { state: stored.watch, changes: [] }
        return reconcile(seed(snapshot), yield* incidents.openIncidents)
      })

    /** One critical poll: the changes since the last, explained, told, and the new state. */
    const watchStep = (acc: { readonly term: number; readonly state: WatchState | undefined }, polled: Polled) =>
      Effect.gen(function*() {
        const { snapshot } = polled
        let previous = acc.term === polled.term ? acc.state : undefined
        if (previous === undefined) {
          const start = yield* startingPoint(snapshot)
          yield* record(start.changes.map(fromStateChange))
          previous = start.state
        }
        const evidence = yield* gatherEvidence(source, acting, nodesToExplain(previous.guests, snapshot), previous.takenAt)
        const { changes, state } = yield* Effect.sync(() => diff(previous, snapshot, evidence, guestPolicy)).pipe(
          // Each change with the cause it was given ("GuestStopped:unknown" is a crash).
          Effect.tap(({ changes }) => Effect.annotateCurrentSpan("changes", changes.map((c) => "cause" in c && c.cause !== undefined ? `${c._tag}:${c.cause.kind}` : c._tag).join(" "))),
          Effect.withSpan("Diff.diff")
        )
        yield* recordWithView(changes.map(fromStateChange), snapshot, state)
        return { term: polled.term, state }
      }).pipe(
        // Nothing recorded: the next poll compares with the same state and tells it then.
        Effect.catchAllCause((cause) => Effect.as(Effect.logWarning("monitor critical round failed", cause), acc)),
        Effect.withSpan("Monitor.critical", { parent: polled.span })
      )

    const thresholdStep = (metrics: ReadonlySet<Metric>, name: string) =>
      (acc: { readonly term: number; readonly states: ThresholdStates | undefined }, polled: Polled) =>
        Effect.gen(function*() {
          let states = acc.term === polled.term ? acc.states : undefined
          if (states === undefined) {
            const seeded = statesFromIncidents(config.thresholds, yield* incidents.openIncidents)
            states = new Map([...seeded].filter(([, v]) => metrics.has(v.measurement.metric)))
          }
          const { snapshot } = polled
          const measurements = measure(snapshot, metrics, { policy: config.thresholds, states })
          const result = evaluate(config.thresholds, states, measurements, metrics, snapshot.takenAt, unmeasurable(snapshot))
          yield* record(result.transitions.map(fromThreshold))
          return { term: polled.term, states: result.states as ThresholdStates | undefined }
        }).pipe(
          Effect.catchAllCause((cause) => Effect.as(Effect.logWarning(`monitor ${name} round failed`, cause), acc)),
          Effect.withSpan(`Monitor.${name}`, { parent: polled.span })
        )

    const heartbeat = ({ snapshot, span }: Polled) =>
      Effect.flatMap(incidents.openIncidents, (open) => bus.publishOne(heartbeatEvent(snapshot, open.length))).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("monitor routine round failed", cause)),
        Effect.withSpan("Monitor.routine", { parent: span })
      )

    // Offsets keep the tiers from calling the API at the same instant.
    const offset = (ms: number, interval: Duration.Duration) => Duration.millis(Math.min(ms, Duration.toMillis(interval) / 2))
    const { background, critical, important, routine } = config.tiers
    const noThresholds = { term: 0, states: undefined as ThresholdStates | undefined }
    yield* Effect.forkScoped(Stream.runDrain(
      snapshots("critical", critical, Duration.zero).pipe(Stream.mapAccumEffect({ term: 0, state: undefined as WatchState | undefined }, (acc, p) =>
        Effect.map(watchStep(acc, p), (next) => [next, undefined] as const)))
    ))
    yield* Effect.forkScoped(Stream.runDrain(
      snapshots("important", important, offset(2_000, important)).pipe(Stream.mapAccumEffect(noThresholds, (acc, p) =>
        Effect.map(thresholdStep(guestAndNodeMetrics, "important")(acc, p), (next) => [next, undefined] as const)))
    ))
    yield* Effect.forkScoped(Stream.runForEach(snapshots("routine", routine, offset(4_000, routine)), heartbeat))
    yield* Effect.forkScoped(Stream.runDrain(
      snapshots("background", background, offset(6_000, background)).pipe(Stream.mapAccumEffect(noThresholds, (acc, p) =>
        Effect.map(thresholdStep(storageMetrics, "background")(acc, p), (next) => [next, undefined] as const)))
    ))

    /** This instance's view when it leads, else the leader's. */
    const currentView = Effect.flatMap(leadership.isLeader, (leads) =>
      leads ? Ref.get(view) : Effect.map(storedView, Option.fromNullable))

    return {
      /** The latest snapshot: this instance's own when it leads, else the leader's. */
      latest: Effect.map(currentView, Option.map((v) => v.snapshot)),
      view: currentView,
      /** Every snapshot this instance takes, as it takes it (remediation verifies on them). */
      changes: latest.changes,
      sourceName: source.name,
      sourceHealth: Effect.flatMap(leadership.isLeader, (leads) =>
        leads ? Ref.get(health) : Effect.map(storedView, (v) => v?.health ?? healthy))
    } as const
  })

export type Monitor = Effect.Effect.Success<ReturnType<typeof makeMonitor>>

/** The cluster watch, when there is a cluster to watch (`VIGIL_SOURCE` is not `none`). */
export class ClusterWatch extends Context.Tag("vigil/ClusterWatch")<ClusterWatch, Option.Option<Monitor>>() {
  static readonly layer = Layer.scoped(
    ClusterWatch,
    Effect.flatMap(ClusterSource, Option.match({
      onNone: () => Effect.succeed(Option.none<Monitor>()),
      onSome: (source) => Effect.map(makeMonitor(source), Option.some)
    }))
  )
}
