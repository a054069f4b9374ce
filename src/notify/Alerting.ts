/**
 * Notifications, run: on every tick the leader reads the incidents (open, lately changed, and
 * those the lifecycle still tracks), the silences and remediation's new notes, asks the pure
 * lifecycle what to send, and commits the new state together with a `pending` delivery row per
 * message, before anything is sent. Then each channel's worker sends its messages in order (a
 * channel that is down delays only itself). A leader that dies mid-delivery leaves pending rows
 * its successor sends again under the same idempotency key.
 *
 * Also here: acknowledging an incident (an event, and no more repeats), test messages per
 * channel, and an admin's retry of a dead delivery.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { randomUUID } from "node:crypto"
import { EventBus } from "../bus/EventBus.js"
import { makeEvent } from "../domain/Event.js"
import { makeFilter } from "../domain/EventFilter.js"
import type { Incident } from "../domain/Incident.js"
import { isActive, resolvedAway } from "../domain/Silence.js"
import type { Snapshot } from "../domain/Snapshot.js"
import { ClusterWatch } from "../monitor/Monitor.js"
import { Leadership } from "../scale/Leadership.js"
import { EventRepo } from "../store/EventRepo.js"
import { Incidents } from "../store/Incidents.js"
import { Silences } from "../store/Silences.js"
import { type Alert, alertSource, type Message } from "./Alerts.js"
import { Deliveries } from "./Deliveries.js"
import type { FlapChange } from "./Flapping.js"
import { emptyState, LifecycleState, step } from "./Lifecycle.js"
import { noteOf, remediationSource } from "./Notes.js"
import { NotifyConfig } from "./NotifyConfig.js"
import { channelsFor } from "./Routes.js"
import { Sender } from "./Sender.js"

/** Where the lifecycle's state is kept between steps, leaders and restarts. */
const stateKey = "notify_state"

const Stored = Schema.parseJson(Schema.Struct({ lifecycle: LifecycleState, notesThrough: Schema.Number }))

const tagsOf = (snapshot: Snapshot | undefined, target: string): ReadonlyArray<string> => {
  const [kind, vmid] = target.split("/")
  return snapshot?.guests.find((g) => g.kind === kind && String(g.vmid) === vmid)?.tags ?? []
}

export const toAlert = (i: Incident, tags: ReadonlyArray<string>): Alert => ({
  id: i.id,
  key: i.key,
  condition: i.condition,
  target: i.target,
  node: i.node,
  severity: i.severity,
  summary: i.summary,
  tags,
  openedAt: Date.parse(i.openedAt),
  resolvedAt: i.resolvedAt === null ? null : Date.parse(i.resolvedAt),
  acknowledged: i.acknowledged !== null,
  ...(i.traceparent === null ? {} : { traceparent: i.traceparent })
})

export class Alerting extends Effect.Service<Alerting>()("vigil/Alerting", {
  scoped: Effect.gen(function*() {
    const config = yield* NotifyConfig
    const sql = yield* SqlClient.SqlClient
    const repo = yield* EventRepo
    const bus = yield* EventBus
    const incidents = yield* Incidents
    const silences = yield* Silences
    const deliveries = yield* Deliveries
    const sender = yield* Sender
    const leadership = yield* Leadership
    const watch = yield* ClusterWatch
    const flapWindowMs = Duration.toMillis(config.flapWindow)
    const settings = {
      groupBy: config.groupBy,
      groupWaitMs: Duration.toMillis(config.groupWait),
      groupIntervalMs: Duration.toMillis(config.groupInterval),
      repeatIntervalMs: Duration.toMillis(config.repeatInterval),
      budget: config.budget,
      flap: { count: config.flapCount, windowMs: flapWindowMs },
      channels: config.channels.map((c) => c.name),
      route: channelsFor(config.routes)
    }
    const notesFilter = makeFilter({ type: "remediation.*", source: remediationSource })

    // One worker per channel: messages go out in the order decided, and a slow channel waits alone.
    const queues = new Map<string, Queue.Queue<{ readonly id: string; readonly message: Message }>>()
    const inFlight = yield* SubscriptionRef.make(0)
    for (const channel of config.channels) {
      const queue = yield* Queue.unbounded<{ readonly id: string; readonly message: Message }>()
      queues.set(channel.name, queue)
      yield* Queue.take(queue).pipe(
        Effect.flatMap(({ id, message }) => Effect.ensuring(sender.attempt(id, message), SubscriptionRef.update(inFlight, (n) => n - 1))),
        Effect.forever,
        Effect.forkScoped
      )
    }
    const enqueue = (id: string, message: Message) =>
      Effect.suspend(() => {
        const queue = queues.get(message.channel)
        return queue === undefined ? Effect.void : Effect.zipRight(SubscriptionRef.update(inFlight, (n) => n + 1), Queue.offer(queue, { id, message }))
      })

    let leading = false
    let saved: { lifecycle: LifecycleState; notesThrough: number } = { lifecycle: emptyState, notesThrough: 0 }
    let savedText = ""

    const load = Effect.gen(function*() {
      const text = yield* repo.getMeta(stateKey)
      const decoded = text === undefined ? Option.none() : Schema.decodeUnknownOption(Stored)(text)
      if (Option.isSome(decoded)) return decoded.value
      // Nothing stored (or from an older shape): start with what happens from now on.
      return { lifecycle: emptyState, notesThrough: yield* repo.maxSequence() }
    })

    const publishChanges = (flaps: ReadonlyArray<FlapChange>, sent: ReadonlyArray<Message>) =>
      bus.publish([
        ...flaps.map((f) =>
          makeEvent({
            type: "incident.flapping",
            severity: f._tag === "Started" ? "warning" : "info",
            source: alertSource,
            subject: f.latest.target,
            node: f.latest.node ?? undefined,
            data: {
              incident: f.key,
              incidentId: f.latest.id,
              condition: f.latest.condition,
              state: f._tag === "Started" ? "flapping" : "stable",
              openings: f.openings,
              windowSeconds: flapWindowMs / 1000,
              summary: `${f.latest.summary}: ${f._tag === "Started" ? `flapping (fired ${f.openings} times)` : "stable again"}`
            }
          })
        ),
        ...sent.filter((m) => m.kind === "digest").map((m) =>
          makeEvent({
            type: "notification.digest",
            severity: "warning",
            source: alertSource,
            data: {
              channel: m.channel,
              held: m.digest?.held.length ?? 0,
              hourStart: new Date(m.digest?.hourStart ?? 0).toISOString(),
              summary: `${m.digest?.held.length ?? 0} notifications to ${m.channel} held back by the storm budget`
            }
          })
        )
      ])

    /** A silence "until resolved" ends once what it silenced has resolved and nothing it matches is open. */
    const endResolvedSilences = (alerts: ReadonlyArray<Alert>, now: number) =>
      Effect.gen(function*() {
        for (const s of yield* silences.current) {
          if (s.origin === "api" && isActive(s, now) && resolvedAway(s, alerts)) yield* silences.end(s.id)
        }
      })

    // One round at a time: a round reads and replaces `saved`, and the tick's rounds and a round
    // asked for (`evaluate`) must not interleave across the store's answers.
    const oneAtATime = yield* Effect.makeSemaphore(1)
    const round = Effect.gen(function*() {
      if (!(yield* leadership.isLeader)) {
        leading = false
        return
      }
      if (!leading) {
        saved = yield* load
        savedText = ""
        leading = true
        // What a previous leader decided but could not finish sending.
        for (const d of yield* deliveries.stalled(Duration.toMillis(config.timeout) * config.attempts)) yield* enqueue(d.id, d.message)
      }
      const now = yield* Clock.currentTimeMillis
      const events = yield* repo.after(notesFilter, saved.notesThrough, 500)
      const notes = events.flatMap((e) => noteOf(e) ?? [])
      const open = yield* incidents.openIncidents
      const recent = yield* incidents.changedSince(now - 2 * flapWindowMs)
      const known = new Set([...open, ...recent].map((i) => i.id))
      const missing = [...new Set([...Object.keys(saved.lifecycle.incidents), ...notes.map((n) => n.incidentId)])].filter((id) => !known.has(id))
      const snapshot = Option.isSome(watch) ? Option.getOrUndefined(yield* watch.value.latest) : undefined
      const alerts = [...open, ...recent.filter((i) => i.status === "resolved"), ...(yield* incidents.byIds(missing))]
        .map((i) => toAlert(i, tagsOf(snapshot, i.target)))
      const outcome = step(saved.lifecycle, { now, alerts, notes, silences: yield* silences.current }, settings)
      yield* endResolvedSilences(alerts, now)

      const next = { lifecycle: outcome.state, notesThrough: events.at(-1)?.sequence ?? saved.notesThrough }
      const text = Schema.encodeSync(Stored)(next)
      const planned = outcome.messages.map((message) => ({ id: randomUUID(), message }))
      if (text !== savedText || planned.length > 0) {
        yield* sql.withTransaction(Effect.zipRight(
          repo.setMeta(stateKey, text),
          Effect.forEach(planned, (p) => deliveries.begin(p.id, p.message, sender.title(p.message)), { discard: true })
        ))
        saved = next
        savedText = text
      }
      if (outcome.flaps.length > 0 || planned.some((p) => p.message.kind === "digest")) {
        yield* publishChanges(outcome.flaps, outcome.messages)
      }
      for (const p of planned) yield* enqueue(p.id, p.message)
    }).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("notification round failed", cause)),
      oneAtATime.withPermits(1),
      Effect.withSpan("Alerting.round")
    )

    if (config.channels.length > 0) {
      // From one tick after start: a round asked for before then (a test's) is never raced by it.
      yield* round.pipe(Effect.repeat(Schedule.spaced(config.tick)), Effect.delay(config.tick), Effect.forkScoped)
      yield* deliveries.cleanup.pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("delivery log cleanup failed", cause)),
        Effect.repeat(Schedule.spaced("1 hour")),
        Effect.forkScoped
      )
    }

    /** Sends a test message on the channel now, and answers with its delivery. */
    const test = Effect.fn("Alerting.test")(function*(channel: string) {
      const message: Message = { channel, kind: "test", items: [] }
      const id = randomUUID()
      yield* deliveries.begin(id, message, sender.title(message))
      yield* sender.attempt(id, message)
      return yield* deliveries.byId(id)
    })

    /** Sends a dead delivery again under its id; undefined if there is none, or it is not dead. */
    const retry = Effect.fn("Alerting.retry")(function*(id: string) {
      const found = yield* deliveries.byId(id)
      if (found === undefined || !(yield* deliveries.reopen(id))) return found === undefined ? undefined : "not-dead" as const
      yield* enqueue(id, found.message)
      return (yield* deliveries.byId(id))!.delivery
    })

    return {
      test,
      retry,
      channels: config.channels,
      /** One round now, as the tick would run it. */
      evaluate: round,
      /** Waits until every message decided so far is sent or dead. */
      idle: inFlight.changes.pipe(Stream.takeUntil((n) => n === 0), Stream.runDrain)
    } as const
  }),
  dependencies: [Deliveries.Default, Sender.Default]
}) {}
