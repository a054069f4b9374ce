/**
 * The remediation engine: reviews every open incident (on a tick, and at once when a new one is
 * reported), asks `decide` what to do, and does it: records the decision in the audit table,
 * publishes a `remediation.*` event, notifies, and for `Act` starts the guest through the PVE
 * API, follows the task (UPID) to its end, and verifies on a later snapshot that the guest runs.
 *
 * It is level-triggered: what to do is derived from the incidents and the audit table each time,
 * so a restart (or another instance taking over) neither repeats an action nor forgets one.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { EventBus } from "../bus/EventBus.js"
import { makeEvent } from "../domain/Event.js"
import { makeFilter } from "../domain/EventFilter.js"
import type { Snapshot } from "../domain/Snapshot.js"
import { type Incident, Incidents } from "../store/Incidents.js"
import { ClusterWatch } from "../monitor/Monitor.js"
import { Leadership } from "../scale/Leadership.js"
import { actingUser, SourceConfig } from "../sources/SourceConfig.js"
import { Proxmox } from "../sources/Sources.js"
import { EventRepo } from "../store/EventRepo.js"
import { AuditRepo } from "./AuditRepo.js"
import { type Context, decide, type Decision, type IncidentFacts, type PastAction } from "./Decide.js"
import { Notifier } from "./Notifier.js"
import type { AutonomyLevel } from "./Policy.js"
import { RemediationConfig } from "./RemediationConfig.js"

export const remediationSource = "vigil/remediation"

/** Blocks worth a person's attention; the others are transient or are the system working. */
const notifiedGuardrails = new Set(["protected", "ha-managed", "locked", "node-offline", "no-quorum", "task-log-unavailable"])

/** Start failures that no retry fixes. */
const permanentFailure = /does not exist|no such|not found|configuration file|permission|not allowed/i

export class Engine extends Effect.Service<Engine>()("vigil/Remediation", {
  scoped: Effect.gen(function*() {
    const config = yield* RemediationConfig
    const audit = yield* AuditRepo
    const notifier = yield* Notifier
    const incidents = yield* Incidents
    const bus = yield* EventBus
    const monitor = yield* ClusterWatch
    const proxmox = yield* Proxmox
    const acting = actingUser(yield* SourceConfig)

    const leadership = yield* Leadership
    const repo = yield* EventRepo
    // The cap lives in the store, so the kill switch pulled on any instance stops the leader.
    const capKey = "autonomy_cap"
    const cap = {
      get: Effect.map(repo.getMeta(capKey).pipe(Effect.orElseSucceed(() => undefined)), (v) =>
        (v === undefined ? config.policy.cap : Number(v)) as AutonomyLevel),
      set: (level: AutonomyLevel) => repo.setMeta(capKey, String(level)).pipe(Effect.orDie)
    }
    const inFlight = new Map<string, { readonly node: string }>()
    const actions = yield* FiberMap.make<string>()
    const wake = yield* Queue.sliding<void>(1)

    const facts = (i: Incident): IncidentFacts => ({
      id: i.id,
      key: i.key,
      condition: i.condition,
      target: i.target,
      node: i.node,
      openedAt: Date.parse(i.openedAt)
    })

    const publish = (incident: IncidentFacts, outcome: string, severity: "info" | "warning" | "error" | "critical", data: Record<string, unknown>) =>
      bus.publishOne(makeEvent({
        type: `remediation.${outcome}`,
        severity,
        source: remediationSource,
        subject: incident.target,
        node: incident.node ?? undefined,
        data: { incident: incident.key, incidentId: incident.id, condition: incident.condition, ...data }
      }))

    const notify = (incident: IncidentFacts, auditId: number | undefined, notice: Omit<Parameters<typeof notifier.notify>[0], "incidentKey" | "incidentId">) =>
      Effect.gen(function*() {
        if (notifier.channels === 0) return
        const { emailSent } = yield* notifier.notify({ ...notice, incidentKey: incident.key, incidentId: incident.id })
        yield* audit.markNotified(incident.id, incident.key)
        if (emailSent && auditId !== undefined) yield* audit.markEmailSent(auditId)
      })

    /** The same decision is recorded once, not at every review. */
    const alreadyRecorded = (history: ReadonlyArray<PastAction>, incident: IncidentFacts, result: string) =>
      history.filter((a) => a.incidentId === incident.id).at(-1)?.result === result

    /** Waits for a snapshot taken after `since` in which the guest runs. */
    const verify = (vmid: number, since: number) =>
      Option.match(monitor, {
        onNone: () => Effect.succeed("not verified: no snapshots"),
        onSome: (m) =>
          m.changes.pipe(
            Stream.filterMap((s) => s),
            Stream.filter((s: Snapshot) => s.takenAt > since),
            Stream.map((s) => s.guests.find((g) => g.vmid === vmid)?.status),
            Stream.takeUntil((status) => status === "running"),
            Stream.runLast,
            Effect.map((last) =>
              Option.getOrUndefined(last) === "running" ? "verified: running on the next snapshot" : "not running after the start"
            ),
            Effect.timeoutTo({
              duration: config.verifyTimeout,
              onSuccess: (s) => s,
              onTimeout: () => `not verified: still not running after ${Duration.format(config.verifyTimeout)}`
            })
          )
      })

    /** Starts the guest, follows its task to the end, records and reports the outcome. */
    const act = (incident: IncidentFacts, decision: Extract<Decision, { _tag: "Act" }>, proposalId: string | undefined) =>
      Effect.gen(function*() {
        const { guest } = decision
        const args = JSON.stringify({ node: guest.node, kind: guest.kind, vmid: guest.vmid })
        yield* publish(incident, "started", "info", { runbook: decision.runbook.id, action: "start_guest", attempt: decision.attempt, vmid: guest.vmid, level: decision.level })
        const api = Option.getOrThrow(proxmox)
        const outcome = yield* Effect.gen(function*() {
          const upid = yield* api.startGuest(guest.node, guest.kind, guest.vmid)
          // Follow the task until PVE says it stopped; its exit status says how it went.
          const poll = api.taskStatus(guest.node, upid)
          const status = yield* Effect.iterate(yield* poll, {
            while: (s) => s.status !== "stopped",
            body: () => Effect.zipRight(Effect.sleep("500 millis"), poll)
          }).pipe(
            Effect.timeoutFail({ duration: Duration.seconds(120), onTimeout: () => ({ reason: `task ${upid} did not finish` }) })
          )
          return { upid, exit: status.exitstatus ?? "unknown" }
        }).pipe(Effect.either)
        const ok = outcome._tag === "Right" && outcome.right.exit === "OK"
        const detail = outcome._tag === "Left" ? outcome.left.reason : `task ${outcome.right.upid} exited ${outcome.right.exit}`
        const permanent = !ok && permanentFailure.test(detail)
        const finished = Date.now()
        const row = yield* audit.save({
          incidentKey: incident.key,
          incidentId: incident.id,
          runbookId: decision.runbook.id,
          condition: incident.condition,
          action: "start_guest",
          actionArgs: args,
          result: ok ? "success" : "failure",
          resultDetails: permanent ? `permanent: ${detail}` : detail,
          autonomyLevel: decision.level,
          node: guest.node,
          attemptNumber: decision.attempt
        })
        if (proposalId !== undefined) yield* audit.decideProposal(proposalId, "executed", "vigil")
        yield* publish(incident, ok ? "succeeded" : "failed", ok ? "info" : "error", {
          runbook: decision.runbook.id, action: "start_guest", attempt: decision.attempt, vmid: guest.vmid, detail
        })
        if (!decision.silent) {
          yield* notify(incident, row.id, {
            kind: "action",
            severity: ok ? "info" : "error",
            title: `${ok ? "Started" : "Could not start"} ${guest.kind === "qemu" ? "VM" : "CT"} ${guest.vmid} (${guest.name}) on ${guest.node}`,
            text: `${incident.condition} on ${incident.target}: attempt ${decision.attempt} of ${config.policy.maxAttempts}. ${detail}.`
          })
        }
        if (ok) yield* audit.setVerification(row.id, yield* verify(guest.vmid, finished))
      }).pipe(
        Effect.catchAllCause((cause) => Effect.logError(`remediation of ${incident.key} failed`, cause)),
        Effect.ensuring(Effect.sync(() => inFlight.delete(incident.key))),
        Effect.ensuring(Queue.offer(wake, undefined))
      )

    const review = (incident: Incident, open: ReadonlyArray<Incident>, snapshot: Snapshot | undefined) =>
      Effect.gen(function*() {
        if (inFlight.has(incident.key)) return
        const f = facts(incident)
        const now = Date.now()
        const policy = { ...config.policy, cap: yield* cap.get }
        const history = yield* audit.history(incident.key, now - Math.max(policy.windowMs, 24 * 3_600_000))
        const proposal = yield* audit.proposalFor(incident.id)
        const [kind, vmid] = incident.target.split("/")
        const guest = snapshot?.guests.find((g) => g.kind === kind && String(g.vmid) === vmid)
        const tasks = guest === undefined || Option.isNone(proxmox)
          ? undefined
          : yield* proxmox.value.nodeTasks(guest.node, { vmid: guest.vmid }).pipe(
            Effect.map((ts) => ts.map((t) => ({ type: t.type, id: t.id ?? "", user: t.user ?? "", tokenid: t.tokenid, starttime: t.starttime }))),
            Effect.orElseSucceed(() => undefined)
          )
        const ctx: Context = {
          snapshot,
          history,
          inFlight: [...inFlight.values()],
          tasks,
          openIncidents: open.filter((o) => o.id !== incident.id),
          proposal: proposal === undefined ? "none" : proposal.status === "executed" ? "expired" : proposal.status,
          actingUser: acting
        }
        const decision = decide(f, ctx, policy, now)
        const level = decision._tag === "Act" ? decision.level : "runbook" in decision ? Math.min(decision.runbook.level, policy.cap) : 0
        const record = (result: Parameters<typeof audit.save>[0]["result"], details: string, extra: { escalated?: boolean; action?: string } = {}) =>
          audit.save({
            incidentKey: f.key,
            incidentId: f.id,
            runbookId: "runbook" in decision ? decision.runbook.id : "none",
            condition: f.condition,
            action: extra.action ?? ("runbook" in decision ? decision.runbook.action : "observe"),
            result,
            resultDetails: details,
            autonomyLevel: level,
            node: f.node,
            escalated: extra.escalated
          })

        switch (decision._tag) {
          case "Observe":
          case "Suppress":
          case "Inhibit": {
            const result = decision._tag === "Observe" ? "observed" : decision._tag === "Suppress" ? "suppressed" : "inhibited"
            if (alreadyRecorded(history, f, result)) return
            const details = decision._tag === "Observe" ? decision.reason : decision._tag === "Suppress"
              ? `silenced by ${decision.silence.id}${decision.silence.reason ? `: ${decision.silence.reason}` : ""}`
              : `grouped under ${decision.by}`
            yield* record(result, details)
            return
          }
          case "Alert": {
            if (alreadyRecorded(history, f, "alerted")) return
            const row = yield* record("alerted", `level ${decision.level}: notify`)
            yield* notify(f, row.id, {
              kind: "alert",
              severity: incident.severity === "debug" ? "info" : incident.severity,
              title: incident.summary,
              text: `${incident.condition} on ${incident.target} since ${incident.openedAt}.`
            })
            return
          }
          case "Recommend": {
            const g = decision.guest
            const proposalId = yield* audit.propose({
              incidentId: f.id,
              incidentKey: f.key,
              runbookId: decision.runbook.id,
              action: "start_guest",
              actionArgs: JSON.stringify({ node: g.node, kind: g.kind, vmid: g.vmid }),
              ttlMs: policy.proposalTtlMs
            })
            const row = yield* record("proposed", `proposal ${proposalId}: start ${g.kind}/${g.vmid}`)
            yield* publish(f, "proposed", "warning", { runbook: decision.runbook.id, action: "start_guest", proposal: proposalId, vmid: g.vmid })
            yield* notify(f, row.id, {
              kind: "proposal",
              severity: "warning",
              title: `Approve starting ${g.kind === "qemu" ? "VM" : "CT"} ${g.vmid} (${g.name})?`,
              text: `${incident.summary}. Approve: POST /api/v1/proposals/${proposalId}/approve, reject: /reject.`
            })
            return
          }
          case "Block": {
            if (alreadyRecorded(history, f, "blocked") && history.at(-1)?.result === "blocked") return
            const row = yield* record("blocked", `${decision.guardrail}: ${decision.reason}`)
            yield* publish(f, "blocked", "warning", { runbook: decision.runbook.id, guardrail: decision.guardrail, reason: decision.reason })
            if (notifiedGuardrails.has(decision.guardrail)) {
              yield* notify(f, row.id, {
                kind: "blocked",
                severity: "warning",
                title: `Not acting on ${incident.target}: ${decision.guardrail}`,
                text: `${incident.summary}. ${decision.reason}.`
              })
            }
            return
          }
          case "Escalate": {
            const row = yield* record("escalated", decision.reason, { escalated: true, action: "escalate" })
            yield* publish(f, "escalated", "critical", { runbook: decision.runbook.id, reason: decision.reason })
            yield* notify(f, row.id, {
              kind: "escalation",
              severity: "critical",
              title: `Needs a person: ${incident.summary}`,
              text: `${decision.reason}. Incident ${incident.key}, open since ${incident.openedAt}.`
            })
            return
          }
          case "Act": {
            if (Option.isNone(proxmox)) return
            inFlight.set(f.key, { node: decision.guest.node })
            const proposalId = ctx.proposal === "approved" ? proposal?.id : undefined
            yield* FiberMap.run(actions, f.key, act(f, decision, proposalId))
            return
          }
        }
      })

    /** Each incident that was notified gets one recovery notice once it is resolved. */
    const recoveries = Effect.gen(function*() {
      for (const n of yield* audit.awaitingRecovery) {
        const incident = yield* incidents.byId(n.incident_id)
        if (incident === undefined || incident.status !== "resolved") continue
        yield* notifier.notify({
          kind: "recovery",
          severity: "info",
          title: `Recovered: ${incident.summary}`,
          text: `${incident.condition} on ${incident.target} resolved at ${incident.resolvedAt} after ${incident.durationSeconds} s.`,
          incidentKey: incident.key,
          incidentId: incident.id
        })
        yield* audit.markRecoverySent(incident.id)
      }
    })

    const round = Effect.gen(function*() {
      // Only the leader acts; the others would only repeat it.
      if (!(yield* leadership.isLeader)) return
      const open = yield* incidents.openIncidents
      const snapshot = Option.isSome(monitor) ? Option.getOrUndefined(yield* monitor.value.latest) : undefined
      for (const incident of open) {
        yield* review(incident, open, snapshot).pipe(
          Effect.catchAllCause((cause) => Effect.logWarning(`review of ${incident.key} failed`, cause))
        )
      }
      yield* recoveries
    }).pipe(Effect.catchAllCause((cause) => Effect.logWarning("remediation round failed", cause)))

    if (config.enabled) {
      // New incidents wake the engine at once; the tick catches everything else (expiries, cooldowns).
      yield* bus.subscribe(makeFilter({ type: "vm.crashed,ct.crashed,node.*,threshold.*,agent.lost,source.*,service.*,cluster.*,storage.*,ha.*,guest.*" }), { transport: "internal" }).pipe(
        Stream.runForEach(() => Queue.offer(wake, undefined)),
        Effect.catchTag("ServerShuttingDown", () => Effect.never),
        Effect.retry(Schedule.spaced("1 second")),
        Effect.forkScoped
      )
      yield* Queue.take(wake).pipe(
        Effect.timeout(config.interval),
        Effect.ignore,
        Effect.zipRight(round),
        Effect.forever,
        Effect.forkScoped
      )
    }

    // The audit trail keeps 30 days (seed 001's cleanupOldActions), pruned with the background tier's rhythm.
    yield* audit.cleanup(30 * 24 * 3_600_000).pipe(
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
      inFlight: Effect.sync(() => inFlight.size)
    } as const
  }),
  dependencies: [AuditRepo.Default, Notifier.Default]
}) {}
