/**
 * Handlers for backups: the backup watch's last conclusions, read from the store (so any instance
 * answers, not only the leader that reads PVE), with ages as of now.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { VigilApi } from "../api/Api.js"
import { NotFound, storeUnavailable } from "../api/ApiErrors.js"
import type { BackupsView } from "../api/BackupsApi.js"
import { BackupMonitor } from "../monitor/BackupMonitor.js"
import type { BackupMemory } from "../monitor/BackupWatch.js"
import { ClusterWatch } from "../monitor/Monitor.js"

const iso = (ms: number) => new Date(ms).toISOString()

/** The view of what was concluded (pure): each guest's state, worst first, then by vmid. */
export const backupsView = (memory: BackupMemory | undefined, now: number, maxAgeMs: number): typeof BackupsView.Type => {
  const failing = new Set(memory?.failing ?? [])
  const stale = new Set(memory?.stale ?? [])
  const rank = { failed: 0, stale: 1, uncovered: 2, none: 3, ok: 4 } as const
  const guests = Object.values(memory?.guests ?? {}).map((g) => {
    const state = failing.has(g.target) ? "failed" as const
      : stale.has(g.target) ? "stale" as const
      : g.jobs.length === 0 ? "uncovered" as const
      : g.lastSuccessAt === undefined ? "none" as const
      : "ok" as const
    return {
      guest: g.target,
      vmid: g.vmid,
      name: g.name ?? null,
      node: g.node ?? null,
      state,
      jobs: g.jobs,
      allowanceSeconds: g.allowanceMs === undefined ? null : g.allowanceMs / 1000,
      lastBackup: g.lastSuccessAt === undefined ? null : {
        at: iso(g.lastSuccessAt),
        ageSeconds: Math.max(0, Math.round((now - g.lastSuccessAt) / 1000)),
        archive: g.archive ?? null,
        storage: g.storage ?? null,
        size: g.size ?? null,
        verification: g.verification ?? null
      },
      lastRun: g.lastRun === undefined ? null : { at: iso(g.lastRun.at), ok: g.lastRun.ok, error: g.lastRun.error ?? null, task: g.lastRun.task, node: g.lastRun.node }
    }
  }).sort((a, b) => rank[a.state] - rank[b.state] || a.vmid - b.vmid)
  const count = (s: keyof typeof rank) => guests.filter((g) => g.state === s).length
  return {
    judgedAt: memory === undefined ? null : iso(memory.judgedAt),
    maxAgeSeconds: maxAgeMs / 1000,
    summary: { ok: count("ok"), failed: count("failed"), stale: count("stale"), uncovered: count("uncovered"), none: count("none") },
    guests
  }
}

export const BackupsHttp = HttpApiBuilder.group(VigilApi, "backups", (handlers) =>
  Effect.gen(function*() {
    const monitor = yield* BackupMonitor
    const watch = yield* ClusterWatch
    return handlers.handle("backups", () =>
      Effect.gen(function*() {
        if (Option.isNone(watch)) return yield* new NotFound({ message: "no cluster is watched (VIGIL_SOURCE=none)" })
        const memory = yield* monitor.stored.pipe(Effect.mapError(storeUnavailable))
        return backupsView(memory, yield* Clock.currentTimeMillis, Duration.toMillis(monitor.maxAge))
      }))
  }))
