/**
 * The cluster watch: four tiers of polls, each an Effect Schedule (offset and jittered so they
 * do not hit the API together), feeding the pure detectors and turning what they find into
 * incidents and events.
 *
 * - critical (12 s): node and guest state changes (Diff)
 * - important (32 s): CPU, memory and disk thresholds on nodes and guests
 * - routine (5 min): the `health.heartbeat` ("Systems Nominal" / "Cluster Degraded")
 * - background (30 min): storage pool capacity thresholds
 *
 * A failing source never stops a tier and never crashes the runtime: each poll's failure is a
 * value, folded into one `source.degraded` per outage and one `source.recovered`.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { EventBus } from "../bus/EventBus.js"
import { makeEvent } from "../domain/Event.js"
import type { Snapshot } from "../domain/Snapshot.js"
import { Leadership } from "../scale/Leadership.js"
import { ClusterSource } from "../sources/ClusterSource.js"
import { EventRepo } from "../store/EventRepo.js"
import { diff, reconcile, seed, type WatchState } from "./Diff.js"
import { type Finding, fromStateChange, fromThreshold, monitorSource } from "./Findings.js"
import { Incidents } from "./Incidents.js"
import { healthy, onPoll, type SourceHealth } from "./SourceHealth.js"
import { evaluate, type Measurement, measure, type Metric, statesFromIncidents, type ThresholdState } from "./Thresholds.js"
import { WatchConfig } from "./WatchConfig.js"

type ThresholdStates = ReadonlyMap<string, { readonly state: ThresholdState; readonly measurement: Measurement }>

/** Where the leader keeps its latest snapshot and source health for the other instances. */
const snapshotKey = "cluster_snapshot"

const guestAndNodeMetrics: ReadonlySet<Metric> = new Set(["cpu", "mem", "disk"])
const storageMetrics: ReadonlySet<Metric> = new Set(["storage"])

export class Monitor extends Effect.Service<Monitor>()("vigil/Monitor", {
  scoped: Effect.gen(function*() {
    const source = yield* ClusterSource
    const config = yield* WatchConfig
    const bus = yield* EventBus
    const incidents = yield* Incidents
    const leadership = yield* Leadership
    const repo = yield* EventRepo

    const latest = yield* SubscriptionRef.make<Option.Option<Snapshot>>(Option.none())
    const health = yield* Ref.make<SourceHealth>(healthy)
    const watch = yield* Ref.make<WatchState | undefined>(undefined)
    // One state map per tier that evaluates thresholds: the tiers run concurrently and each
    // owns its metrics, so neither can overwrite the other's state.
    const nodeAndGuestThresholds = yield* Ref.make<ThresholdStates | undefined>(undefined)
    const storageThresholds = yield* Ref.make<ThresholdStates | undefined>(undefined)

    /** Applies each finding's incident operation, then publishes all their events in one commit. */
    const record = (findings: ReadonlyArray<Finding>) =>
      Effect.gen(function*() {
        if (findings.length === 0) return
        for (const f of findings) if (f.incident !== undefined) yield* incidents.apply(f.incident)
        yield* bus.publish(findings.map((f) => f.event))
      })

    /** What the leader stored last, for an instance that does not poll and for the next leader. */
    const fromLeader = Effect.map(repo.getMeta(snapshotKey), (text) =>
      text === undefined ? undefined : (JSON.parse(text) as { snapshot: Snapshot; health: SourceHealth }))

    /**
     * What the previous leader (or this process before a restart) left open is the starting
     * point, so nothing is alerted twice: detection state is dropped and re-seeded from the
     * incidents each time this instance takes the lead.
     */
    const takeOver = Effect.gen(function*() {
      yield* Ref.set(nodeAndGuestThresholds, undefined)
      yield* Ref.set(storageThresholds, undefined)
      const open = yield* incidents.openIncidents
      // Start from what the previous leader saw last, so a crash during the handover is a change
      // against it, not part of a first snapshot that only seeds.
      const previous = yield* fromLeader.pipe(Effect.orElseSucceed(() => undefined))
      if (previous === undefined) {
        yield* Ref.set(watch, undefined)
      } else {
        const reconciled = reconcile(seed(previous.snapshot), open)
        yield* Ref.set(watch, reconciled.state)
        yield* record(reconciled.changes.map(fromStateChange))
      }
      const degraded = open.find((i) => i.key === `SOURCE_DEGRADED:source/${source.name}`)
      const seeded: SourceHealth = degraded === undefined
        ? healthy
        : { _tag: "Degraded", since: Date.parse(degraded.openedAt), failures: degraded.count, reason: degraded.summary }
      yield* Ref.set(health, seeded)
    })
    let leading = false
    /** True when this instance leads; the first round after gaining the lead takes over first. */
    const lead = Effect.gen(function*() {
      const now = yield* leadership.isLeader
      if (now && !leading) {
        leading = true
        yield* takeOver
      } else if (!now) leading = false
      return now
    })

    // Tiers poll concurrently, so results can arrive out of order (a poll that hung through an
    // outage ends after a newer one succeeded). Health follows the newest poll started, and an
    // older result arriving late is ignored for health, or one outage would count as several.
    let pollsStarted = 0
    let newestApplied = 0
    let newestSnapshot = 0

    /** Takes a snapshot; a failure is recorded as source health, never raised. */
    const poll = Effect.gen(function*() {
      const started = ++pollsStarted
      const result = yield* Effect.either(source.snapshot)
      const now = Date.now()
      const outcome = yield* Ref.modify(health, (h) => {
        if (started < newestApplied) return [undefined, h] as const
        newestApplied = started
        const next = onPoll(source.name, h, result._tag === "Right" ? { ok: true } : { ok: false, reason: result.left.reason }, now)
        return [next.finding, next.health] as const
      })
      if (outcome !== undefined) yield* record([outcome])
      if (result._tag === "Left") return Option.none<Snapshot>()
      if (started > newestSnapshot) {
        newestSnapshot = started
        yield* SubscriptionRef.set(latest, Option.some(result.right))
        // Followers serve the cluster view from what the leader saw last.
        yield* repo.setMeta(snapshotKey, JSON.stringify({ snapshot: result.right, health: yield* Ref.get(health) })).pipe(Effect.ignore)
      }
      return Option.some(result.right)
    })

    const detectStateChanges = (snapshot: Snapshot) =>
      Effect.gen(function*() {
        const previous = yield* Ref.get(watch)
        if (previous === undefined) {
          const openNow = yield* incidents.openIncidents
          const seeded = diff(undefined, snapshot)
          const reconciled = reconcile(seeded.state, openNow)
          yield* Ref.set(watch, reconciled.state)
          return yield* record(reconciled.changes.map(fromStateChange))
        }
        const { changes, state } = diff(previous, snapshot)
        yield* Ref.set(watch, state)
        yield* record(changes.map(fromStateChange))
      })

    const detectThresholds = (
      snapshot: Snapshot,
      metrics: ReadonlySet<Metric>,
      thresholds: Ref.Ref<ThresholdStates | undefined>
    ) =>
      Effect.gen(function*() {
        let states = yield* Ref.get(thresholds)
        if (states === undefined) {
          const seeded = statesFromIncidents(config.thresholds, yield* incidents.openIncidents)
          states = new Map([...seeded].filter(([, v]) => metrics.has(v.measurement.metric)))
        }
        const result = evaluate(config.thresholds, states, measure(snapshot, metrics), metrics, Date.now())
        yield* Ref.set(thresholds, result.states)
        yield* record(result.transitions.map(fromThreshold))
      })

    const heartbeat = (snapshot: Snapshot) =>
      Effect.gen(function*() {
        const openNow = yield* incidents.openIncidents
        const nodesOnline = snapshot.nodes.filter((n) => n.status === "online").length
        const guestsRunning = snapshot.guests.filter((g) => g.status === "running").length
        const nominal = nodesOnline === snapshot.nodes.length && snapshot.quorate !== false
        const status = nominal ? "Systems Nominal" : "Cluster Degraded"
        yield* bus.publishOne(makeEvent({
          type: "health.heartbeat",
          severity: nominal ? "info" : "warning",
          source: monitorSource,
          data: {
            status,
            nodesOnline,
            nodesTotal: snapshot.nodes.length,
            guestsRunning,
            guestsTotal: snapshot.guests.length,
            quorate: snapshot.quorate ?? null,
            openIncidents: openNow.length,
            summary: `${status}: ${nodesOnline}/${snapshot.nodes.length} nodes online, ${guestsRunning}/${snapshot.guests.length} guests running`
          }
        }))
      })

    /** A tier: poll, detect, repeat; only on the leader. A defect in a round is logged and the tier goes on. */
    const tier = (name: string, interval: Duration.Duration, offset: Duration.Duration, detect: (s: Snapshot) => Effect.Effect<void, unknown>) =>
      Effect.flatMap(lead, (leading) => (leading ? poll : Effect.succeed(Option.none<Snapshot>()))).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.void, onSome: detect })),
        Effect.catchAllCause((cause) => Effect.logWarning(`monitor ${name} round failed`, cause)),
        Effect.withSpan(`Monitor.${name}`),
        Effect.repeat(Schedule.spaced(interval).pipe(Schedule.jittered)),
        Effect.delay(offset),
        Effect.forkScoped
      )

    // Offsets keep the tiers from calling the API at the same instant (seed 001's 12/32 s idea).
    const offset = (ms: number, interval: Duration.Duration) => Duration.millis(Math.min(ms, Duration.toMillis(interval) / 2))
    const { critical, important, routine, background } = config.tiers
    yield* tier("critical", critical, Duration.zero, detectStateChanges)
    yield* tier("important", important, offset(2_000, important), (s) => detectThresholds(s, guestAndNodeMetrics, nodeAndGuestThresholds))
    yield* tier("routine", routine, offset(4_000, routine), heartbeat)
    yield* tier("background", background, offset(6_000, background), (s) => detectThresholds(s, storageMetrics, storageThresholds))

    return {
      /** The latest snapshot: this instance's own when it leads, else the leader's. */
      latest: Effect.flatMap(leadership.isLeader, (leads) =>
        leads
          ? SubscriptionRef.get(latest)
          : Effect.map(fromLeader.pipe(Effect.orElseSucceed(() => undefined)), (s) => Option.fromNullable(s?.snapshot))),
      changes: latest.changes,
      sourceName: source.name,
      sourceHealth: Effect.flatMap(leadership.isLeader, (leads) =>
        leads
          ? Ref.get(health)
          : Effect.map(fromLeader.pipe(Effect.orElseSucceed(() => undefined)), (s) => s?.health ?? healthy))
    } as const
  })
}) {}
