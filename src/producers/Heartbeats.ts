/**
 * Heartbeats, event-driven: a producer's beat is forwarded at once to every stream as
 * an ephemeral `heartbeat` signal and never stored (beats are frequent). The hub beats too, every
 * 2.5 s, with who is online per kind. A producer silent past its kind's TTL raises `agent.lost`
 * (a durable event and an incident, through the same path as cluster conditions), and its next
 * beat `agent.recovered`. Transitions are durable; beats are not.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Config from "effect/Config"
import { DurationString, jsonConfig } from "../domain/ConfigFormats.js"
import { EventBus } from "../bus/EventBus.js"
import { Signal } from "../bus/Hub.js"
import { makeEvent } from "../domain/Event.js"
import type { IncidentOp } from "../domain/Incident.js"
import { Incidents } from "../store/Incidents.js"
import { SharedStore } from "../store/Shared.js"
import { Leadership } from "../scale/Leadership.js"

export interface Producer {
  readonly kind: string
  readonly id: string
  readonly status: string
  readonly details: Record<string, unknown> | undefined
  readonly lastBeatAt: number
  readonly lost: boolean
}

export const producerSource = "vigil/heartbeats"

/** With several instances, beats travel between them on this channel. */
const beatsChannel = "vigil_beats"

const decodeRelayedBeat = Schema.decodeUnknown(Schema.parseJson(Schema.Struct({
  from: Schema.String,
  kind: Schema.String,
  id: Schema.String,
  status: Schema.String,
  details: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  at: Schema.Number
})))

const key = (kind: string, id: string) => `${kind}/${id}`
const incidentKey = (kind: string, id: string) => `AGENT_LOST:${key(kind, id)}`

export class Heartbeats extends Effect.Service<Heartbeats>()("vigil/Heartbeats", {
  scoped: Effect.gen(function*() {
    const bus = yield* EventBus
    const incidents = yield* Incidents
    const leadership = yield* Leadership
    const store = yield* SharedStore
    const { byKind, fallbackTtl, heartbeatInterval } = yield* Config.all({
      /** How often the hub sends its own heartbeat (and checks producers' TTLs). */
      heartbeatInterval: Config.duration("VIGIL_HEARTBEAT_INTERVAL").pipe(Config.withDefault(Duration.millis(2500))),
      /** How long a producer may stay silent before it is lost ... */
      fallbackTtl: Config.duration("VIGIL_HEARTBEAT_TTL").pipe(Config.withDefault(Duration.seconds(30))),
      /** ... and per kind: `{"worker": "10 seconds"}`. */
      byKind: jsonConfig("VIGIL_HEARTBEAT_TTLS", Schema.Record({ key: Schema.String, value: DurationString })).pipe(
        Config.withDefault<Readonly<Record<string, Duration.Duration>>>({})
      )
    })
    const producers = new Map<string, Producer>()
    const ttlOf = (kind: string) => Duration.toMillis(byKind[kind] ?? fallbackTtl)

    // Producers that were lost when vigil stopped are still lost until they beat again.
    for (const incident of yield* incidents.list({ status: "open", condition: "AGENT_LOST", limit: 10_000 })) {
      const [kind, ...id] = incident.target.split("/")
      producers.set(incident.target, {
        kind: kind!,
        id: id.join("/"),
        status: "lost",
        details: undefined,
        lastBeatAt: Date.parse(incident.lastSeenAt),
        lost: true
      })
    }

    const transition = (p: Producer, lost: boolean, now: number) => {
      const summary = lost
        ? `${p.kind} ${p.id} sent no heartbeat for ${Duration.format(Duration.seconds(Math.round((now - p.lastBeatAt) / 1000)))} (TTL ${Duration.format(Duration.millis(ttlOf(p.kind)))})`
        : `${p.kind} ${p.id} is beating again`
      const op: IncidentOp = lost
        ? { _tag: "Open", key: incidentKey(p.kind, p.id), condition: "AGENT_LOST", target: key(p.kind, p.id), node: undefined, severity: "warning", summary }
        : { _tag: "Resolve", key: incidentKey(p.kind, p.id), summary }
      return Effect.zipRight(
        incidents.apply(op),
        bus.publishOne(makeEvent({
          type: lost ? "agent.lost" : "agent.recovered",
          severity: lost ? "warning" : "info",
          source: producerSource,
          subject: key(p.kind, p.id),
          data: { kind: p.kind, id: p.id, lastBeatAt: new Date(p.lastBeatAt).toISOString(), incident: incidentKey(p.kind, p.id), summary }
        }))
      )
    }

    /**
     * Applies a beat (received here or, with several instances, by another one): updates the
     * registry, forwards it to this instance's streams, and, on the leader, recovers a producer
     * that was lost. Only the leader decides lost and recovered, so each happens once.
     */
    const apply = (kind: string, id: string, status: string, details: Record<string, unknown> | undefined, now: number) =>
      Effect.gen(function*() {
        const before = producers.get(key(kind, id))
        const producer: Producer = { kind, id, status, details, lastBeatAt: now, lost: false }
        producers.set(key(kind, id), producer)
        yield* bus.signal("heartbeat", { type: kind, id, status, details: details ?? null, timestamp: new Date(now).toISOString() })
        const recovered = before?.lost === true && (yield* leadership.isLeader)
        if (recovered) yield* transition(producer, false, now)
        return { producer, recovered }
      })

    /** Records a beat, forwards it live everywhere, and recovers a producer that was lost. */
    const beat = Effect.fn("Heartbeats.beat")(function*(kind: string, id: string, status: string, details: Record<string, unknown> | undefined) {
      const now = yield* Clock.currentTimeMillis
      const result = yield* apply(kind, id, status, details, now)
      if (store.shared) {
        // NOTIFY payloads are limited (8000 bytes): details that do not fit stay on this instance.
        let payload = JSON.stringify({ from: leadership.instance, kind, id, status, details: details ?? null, at: now })
        if (payload.length > 7000) payload = JSON.stringify({ from: leadership.instance, kind, id, status, details: null, at: now })
        yield* store.notify(beatsChannel, payload)
      }
      return result
    })

    // Beats other instances received (none on SQLite).
    yield* store.listen(beatsChannel).pipe(
      Stream.runForEach((text) =>
        decodeRelayedBeat(text).pipe(
          Effect.flatMap((b) => (b.from === leadership.instance ? Effect.void : apply(b.kind, b.id, b.status, b.details ?? undefined, b.at))),
          // A payload that is not a beat (another program on the channel) is dropped, never fatal.
          Effect.catchAllCause((cause) => Effect.logWarning("dropped a relayed heartbeat", cause))
        )
      ),
      Effect.forkScoped
    )

    const hubPayload = (now: number) => {
      const online: Record<string, number> = {}
      const ids: Record<string, Array<string>> = {}
      const lost: Record<string, Array<string>> = {}
      for (const p of producers.values()) {
        if (p.lost) (lost[p.kind] ??= []).push(p.id)
        else {
          online[p.kind] = (online[p.kind] ?? 0) + 1
          ;(ids[p.kind] ??= []).push(p.id)
        }
      }
      return { type: "hub", online, ids, lost, timestamp: new Date(now).toISOString() }
    }

    /** The hub's own heartbeat as a signal, also sent to each client when it connects. */
    const hubSignal = Effect.map(Clock.currentTimeMillis, (now) => new Signal("heartbeat", hubPayload(now)))

    /** Marks producers silent past their TTL as lost (on the leader only: once, cluster-wide). */
    const sweep = Effect.gen(function*() {
      if (!(yield* leadership.isLeader)) return
      const now = yield* Clock.currentTimeMillis
      for (const p of [...producers.values()]) {
        if (p.lost || now - p.lastBeatAt <= ttlOf(p.kind)) continue
        const lost = { ...p, lost: true, status: "lost" }
        producers.set(key(p.kind, p.id), lost)
        yield* transition(p, true, now)
      }
    })

    yield* Effect.gen(function*() {
      yield* sweep
      yield* bus.signal("heartbeat", hubPayload(yield* Clock.currentTimeMillis))
    }).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("heartbeat round failed", cause)),
      Effect.repeat(Schedule.spaced(heartbeatInterval)),
      Effect.forkScoped
    )

    const list = Effect.sync(() =>
      [...producers.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id))
    )

    return { beat, list, hubSignal, sweep } as const
  })
}) {}
