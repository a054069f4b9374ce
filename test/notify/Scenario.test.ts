/**
 * A bad morning, on TestClock, with the defaults (group_wait 30 s, group_interval 5 min,
 * repeat_interval 4 h, budget 20 per hour, flapping past 5 firings in 30 min): 50 guests crash
 * within a minute on one node, the node then goes offline, a disk flaps for an hour, an
 * operator acknowledges one incident and silences another. Two real receivers on loopback count
 * what reaches each channel: `chat` takes every warning and worse, `pager` only critical.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import type { IncidentOp } from "../../src/domain/Incident.js"
import { ClusterWatch } from "../../src/monitor/Monitor.js"
import { Acknowledgements } from "../../src/notify/Acknowledgements.js"
import { Alerting } from "../../src/notify/Alerting.js"
import { NotifyConfig } from "../../src/notify/NotifyConfig.js"
import { Leadership } from "../../src/scale/Leadership.js"
import { Incidents } from "../../src/store/Incidents.js"
import { Silences } from "../../src/store/Silences.js"
import { TestBackbone } from "../support/Backbone.js"
import { startWebhook } from "../support/Receivers.js"

const notifying = (env: Record<string, string>) =>
  Layer.mergeAll(Alerting.Default, Acknowledgements.Default).pipe(
    Layer.provideMerge(Layer.mergeAll(Incidents.Default, Silences.Default, Leadership.Default, Layer.succeed(ClusterWatch, Option.none()), NotifyConfig.layer)),
    Layer.provideMerge(TestBackbone(env)),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
  )

const crash = (vmid: number): IncidentOp => ({
  _tag: "Open",
  key: `VM_CRASHED:qemu/${vmid}`,
  condition: "VM_CRASHED",
  target: `qemu/${vmid}`,
  node: "pve2",
  severity: "error",
  summary: `VM ${vmid} on pve2 crashed`
})

describe("notifications on a bad morning (TestClock)", () => {
  it.scoped("50 crashes, a node outage, a flapping disk, an acknowledgement and a silence: a handful of messages", () =>
    Effect.gen(function*() {
      const chat = yield* startWebhook()
      const pager = yield* startWebhook()
      const env = {
        VIGIL_NOTIFY_WEBHOOKS: `chat:slack=${chat.url},pager:generic=${pager.url}`,
        VIGIL_NOTIFY_ROUTES: JSON.stringify([{ channels: ["chat"], severity: "warning" }, { channels: ["pager"], severity: "critical" }]),
        // The test runs the rounds itself, as the one-second tick would.
        VIGIL_NOTIFY_TICK: "1000 days"
      }
      yield* Effect.gen(function*() {
        const incidents = yield* Incidents
        const alerting = yield* Alerting
        const acks = yield* Acknowledgements
        const silences = yield* Silences
        const apply = (op: IncidentOp) => incidents.apply(op)

        /** Lets time pass in rounds (5 seconds unless said), each delivered before the next. */
        const pass = (duration: Duration.DurationInput, roundMs = 5_000) =>
          Effect.gen(function*() {
            for (let left = Duration.toMillis(duration); left > 0; left -= roundMs) {
              yield* TestClock.adjust(Math.min(left, roundMs))
              yield* alerting.evaluate
              yield* alerting.idle
            }
          })
        const idOf = (key: string) => Effect.map(incidents.openIncidents, (open) => open.find((i) => i.key === key)!.id)

        // 07:00 — 50 guests on pve2 crash within a minute.
        for (let vmid = 100; vmid < 150; vmid++) {
          yield* apply(crash(vmid))
          yield* pass("1200 millis")
        }
        // The operator takes VM 100 on, and silences VM 149 (it crashed last; it is being rebuilt).
        yield* acks.acknowledge(yield* idOf("VM_CRASHED:qemu/100"), "alice", "on it")
        yield* silences.create({ matchers: { target: "qemu/149" }, untilResolved: true, comment: "being rebuilt" }, "bob")
        yield* pass("9 minutes")

        // 07:10 — pve2 goes offline; a disk on pve1 flaps for an hour.
        yield* apply({ _tag: "Open", key: "NODE_UNREACHABLE:node/pve2", condition: "NODE_UNREACHABLE", target: "node/pve2", node: "pve2", severity: "critical", summary: "Node pve2 is unreachable" })
        const disk = { key: "DISK:node/pve1", condition: "DISK_HIGH", target: "node/pve1", node: "pve1", severity: "warning" as const }
        for (let flap = 0; flap < 20; flap++) {
          yield* apply({ _tag: "Open", ...disk, summary: "Disk on pve1 is 91% full" })
          yield* pass("90 seconds")
          yield* apply({ _tag: "Resolve", key: disk.key, summary: "Disk on pve1 is back under 86%" })
          yield* pass("90 seconds")
        }

        // 08:20 — pve2 is back; its guests are started again, all but VMs 100 and 101.
        yield* apply({ _tag: "Resolve", key: "NODE_UNREACHABLE:node/pve2", summary: "Node pve2 is back" })
        yield* pass("2 minutes")
        for (let vmid = 102; vmid < 150; vmid++) yield* apply({ _tag: "Resolve", key: `VM_CRASHED:qemu/${vmid}`, summary: `VM ${vmid} is running` })
        yield* pass("5 hours", 60_000)
        // The silence until resolved ended with the incident it silenced.
        expect((yield* silences.list).map((s) => s.endedAt !== null)).toEqual([true])
      }).pipe(Effect.provide(notifying(env)))

      const bodies = (hook: typeof chat) => hook.received.map((h) => JSON.parse(h.body))
      const titles = bodies(chat).map((b) => (b.text as string).split("\n")[0])
      const pages = bodies(pager).map((b) => `${b.kind} ${b.status}: ${b.incidents.map((i: any) => i.key).join(", ")}`)
      // What each channel got, against what naive per-event notification would have sent
      // (50 crashes and 48 resolves, the outage and its end, 20 disk firings and 20 resolves).
      console.log(`chat: ${titles.length} messages (naive: 140)\n  ${titles.join("\n  ")}\npager: ${pages.length} messages (naive: 2)\n  ${pages.join("\n  ")}`)

      expect(titles).toEqual([
        // The crashes, in two grouped messages: after group_wait, then the rest after group_interval.
        // VM 149 is not among them: it was silenced before its group was due.
        "*26 firing: VM_CRASHED on pve2*",
        "*23 firing: VM_CRASHED on pve2*",
        // The outage; while it lasts, its guests are not repeated.
        "*Node pve2 is unreachable*",
        // The disk, every group_interval, until it has fired more than 5 times in 30 minutes ...
        "*Disk on pve1 is 91% full*",
        "*Resolved: Disk on pve1 is 91% full*",
        "*Disk on pve1 is 91% full*",
        "*Resolved: Disk on pve1 is 91% full*",
        "*Disk on pve1 is 91% full*",
        // ... then one notice that it flaps, and quiet.
        "*Flapping: Disk on pve1 is 91% full*",
        "*Resolved: Node pve2 is unreachable*",
        // Every crash that was told and is over is resolved in one message.
        "*47 resolved: VM_CRASHED on pve2*",
        // 30 minutes after the disk's last change: stable, with the resolve it owed.
        "*Stable again, resolved: Disk on pve1 is 91% full*",
        // Four hours after it was told, VM 101 is told again; VM 100, acknowledged, is not.
        "*Still firing: VM 101 on pve2 crashed*"
      ])
      expect(pages).toEqual([
        "alert firing: NODE_UNREACHABLE:node/pve2",
        "alert resolved: NODE_UNREACHABLE:node/pve2"
      ])
      expect(bodies(chat).some((b) => JSON.stringify(b).includes("qemu/149"))).toBe(false)
    }))
})
