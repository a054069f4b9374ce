/**
 * The remediation engine: reviews every open incident (on a tick, and at once when a new one is
 * reported), gathers what `decide` needs (the latest snapshot, the audit history, the proposal,
 * the guest's node task log), asks it, and hands the decision on: to the Actor to act, to the
 * Dispatcher for everything else.
 *
 * It is level-triggered: what to do is derived from the incidents and the audit table each time,
 * so a restart (or another instance taking over) neither repeats an action nor forgets one.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { EventBus } from "../bus/EventBus.js"
import { makeFilter } from "../domain/EventFilter.js"
import { spanOf } from "../domain/TraceContext.js"
import type { AutonomyLevel } from "../domain/Remediation.js"
import type { Snapshot } from "../domain/Snapshot.js"
import { ClusterWatch } from "../monitor/Monitor.js"
import { Leadership } from "../scale/Leadership.js"
import { actingUser, SourceConfig } from "../sources/SourceConfig.js"
import { Proxmox } from "../sources/Sources.js"
import type { Silence } from "../domain/Silence.js"
import { type Incident, Incidents } from "../store/Incidents.js"
import { Silences } from "../store/Silences.js"
import { Actor } from "./Actor.js"
import { AuditRepo } from "./AuditRepo.js"
import { AutonomyCap } from "./AutonomyCap.js"
import { type Context, decide, type IncidentFacts } from "./Decide.js"
import { Dispatcher, isRepeat } from "./Dispatch.js"
import { Proposals } from "./Proposals.js"
import { RemediationConfig } from "./RemediationConfig.js"

/** Events after which a review is due at once rather than at the next tick. */
const reviewOn = "vm.crashed,ct.crashed,node.*,threshold.*,agent.lost,source.*,service.*,cluster.*,storage.*,ha.*,guest.*"

/** How long the audit trail is kept. */
const auditKeptMs = 30 * 24 * 3_600_000

const factsOf = (i: Incident): IncidentFacts => ({
  id: i.id,
  key: i.key,
  condition: i.condition,
  target: i.target,
  node: i.node,
  severity: i.severity,
  openedAt: Date.parse(i.openedAt)
})

export class Engine extends Effect.Service<Engine>()("vigil/Remediation", {
  scoped: Effect.gen(function*() {
    const config = yield* RemediationConfig
    const audit = yield* AuditRepo
    const proposals = yield* Proposals
    const incidents = yield* Incidents
    const bus = yield* EventBus
    const watch = yield* ClusterWatch
    const proxmox = yield* Proxmox
    const leadership = yield* Leadership
    const cap = yield* AutonomyCap
    const actor = yield* Actor
    const dispatcher = yield* Dispatcher
    const silenceRepo = yield* Silences
    const acting = actingUser(yield* SourceConfig)
    const wake = yield* Queue.sliding<void>(1)

    /** The guest's node task log (running tasks included); undefined when it cannot be read. */
    const tasksOf = (guest: Snapshot["guests"][number] | undefined) =>
      guest === undefined || Option.isNone(proxmox)
        ? Effect.succeed(undefined)
        : proxmox.value.nodeTasks(guest.node, { vmid: guest.vmid }).pipe(
          Effect.map((ts) => ts.map((t) => ({ type: t.type, id: t.id ?? "", user: t.user ?? "", tokenid: t.tokenid, starttime: t.starttime }))),
          Effect.orElseSucceed(() => undefined)
        )

    /**
     * A decision that does something joins the trace that opened the incident (the poll that saw
     * the crash), linked to the review that made it; a review that changes nothing stays in the
     * engine's own round, or a long incident's trace would grow a span at every tick.
     */
    const inIncidentTrace = (incident: Incident, decision: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.flatMap(Effect.option(Effect.currentSpan), (review) =>
        Effect.withSpan(effect, "Remediation.decision", {
          parent: spanOf(incident.traceparent),
          links: Option.isSome(review) ? [{ _tag: "SpanLink", span: review.value, attributes: {} }] : [],
          attributes: { incident: incident.key, incidentId: incident.id, decision }
        }))

    const review = Effect.fn("Engine.review")(function*(
      incident: Incident,
      open: ReadonlyArray<Incident>,
      snapshot: Snapshot | undefined,
      silences: ReadonlyArray<Silence>
    ) {
      if (actor.isActing(incident.key)) return
      const f = factsOf(incident)
      const now = yield* Clock.currentTimeMillis
      const policy = { ...config.policy, cap: yield* cap.get }
      const history = yield* audit.history(incident.key, now - Math.max(policy.windowMs, 24 * 3_600_000))
      const proposal = yield* proposals.latestFor(incident.id)
      const [kind, vmid] = incident.target.split("/")
      const guest = snapshot?.guests.find((g) => g.kind === kind && String(g.vmid) === vmid)
      const ctx: Context = {
        snapshot,
        history,
        inFlight: actor.inFlight(),
        tasks: yield* tasksOf(guest),
        openIncidents: open.filter((o) => o.id !== incident.id),
        proposal: proposal === undefined ? "none" : proposal.status === "executed" ? "expired" : proposal.status,
        actingUser: acting,
        silences
      }
      const decision = decide(f, ctx, policy, now)
      yield* Effect.annotateCurrentSpan({ incident: incident.key, decision: decision._tag })
      if (decision._tag !== "Act") {
        return yield* dispatcher.dispatch(incident, f, decision, history, policy).pipe(
          isRepeat(decision, f, history) ? identity : inIncidentTrace(incident, decision._tag)
        )
      }
      if (Option.isNone(proxmox)) return
      const proposalId = ctx.proposal === "approved" ? proposal?.id : undefined
      yield* actor.start(proxmox.value, f, decision, proposalId, Queue.offer(wake, undefined)).pipe(inIncidentTrace(incident, "Act"))
    })

    const round = Effect.gen(function*() {
      // Only the leader acts; the others would only repeat it.
      if (!(yield* leadership.isLeader)) return
      const open = yield* incidents.openIncidents
      const snapshot = Option.isSome(watch) ? Option.getOrUndefined(yield* watch.value.latest) : undefined
      const current = yield* silenceRepo.current
      for (const incident of open) {
        yield* review(incident, open, snapshot, current).pipe(
          Effect.catchAllCause((cause) => Effect.logWarning(`review of ${incident.key} failed`, cause))
        )
      }
    }).pipe(Effect.catchAllCause((cause) => Effect.logWarning("remediation round failed", cause)), Effect.withSpan("Engine.round"))

    if (config.enabled) {
      // New incidents wake the engine at once; the tick catches everything else (expiries, cooldowns).
      yield* bus.subscribe(makeFilter({ type: reviewOn }), { transport: "internal" }).pipe(
        Stream.runForEach(() => Queue.offer(wake, undefined)),
        Effect.catchTag("ServerShuttingDown", () => Effect.never),
        Effect.retry(Schedule.spaced("1 second")),
        Effect.forkScoped
      )
      yield* Queue.take(wake).pipe(Effect.timeout(config.interval), Effect.ignore, Effect.zipRight(round), Effect.forever, Effect.forkScoped)
    }

    yield* audit.cleanup(auditKeptMs).pipe(
      Effect.tap((removed) => (removed > 0 ? Effect.logInfo(`audit cleanup removed ${removed} actions`) : Effect.void)),
      Effect.catchAllCause((cause) => Effect.logWarning("audit cleanup failed", cause)),
      Effect.repeat(Schedule.spaced("30 minutes")),
      Effect.forkScoped
    )

    return {
      cap: cap.get,
      /** Sets the global autonomy cap; the kill switch is `setCap(1)`. */
      setCap: (level: AutonomyLevel) => cap.set(level).pipe(Effect.zipRight(Queue.offer(wake, undefined))),
      wake: Queue.offer(wake, undefined),
      inFlight: Effect.sync(() => actor.inFlight().length)
    } as const
  }),
  dependencies: [Actor.Default, Dispatcher.Default, AutonomyCap.Default, Proposals.Default, AuditRepo.Default]
}) {}
