/**
 * Reads backups from the Proxmox VE API: the jobs (`/cluster/backup`, Sys.Audit on `/`), each
 * node's finished vzdump tasks with their logs (the per-guest outcome is only in the log), and
 * the archives on a backup storage (`content=backup`).
 *
 * What the token may see matters more here than anywhere: without Sys.Audit on a node, PVE lists
 * only the token's own tasks, and a storage lists a backup only to a token with Datastore.Allocate
 * on it or Datastore.AllocateSpace there and VM.Backup on the guest. Neither says so: the list is
 * just shorter. The jobs' 403 is the one loud signal, so the source switches off on it.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { type BackupRun, type BackupVolume, readVzdumpLog } from "../domain/Backup.js"
import type { BackupReader, SourceError } from "./ClusterSource.js"
import { toBackupJob, toBackupVolume } from "./PveBackupSchema.js"
import type { ProxmoxApi } from "./ProxmoxApi.js"
import { unavailable } from "./Unavailable.js"

/** Lines read per request: a job over a hundred guests logs a few thousand. */
const logPage = 1_000

export const backupReader = (api: ProxmoxApi): BackupReader => {
  const jobs = api.backupJobs.pipe(
    Effect.map((items) => Either.right(items.filter((j) => (j.type ?? "vzdump") === "vzdump").map(toBackupJob))),
    unavailable(undefined, "Sys.Audit on /")
  )

  /** A task's whole log, page by page (PVE answers `no content` for an empty one). */
  const log = (node: string, upid: string): Effect.Effect<ReadonlyArray<string>, SourceError> =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      for (;;) {
        const page = yield* api.taskLogPage(node, upid, lines.length, logPage)
        for (const l of page) lines.push(l.t)
        if (page.length < logPage) return lines
      }
    })

  /** The node's backup runs that ended since `since` (epoch seconds), but for those `known` already. */
  const runs = (node: string, since: number, known: (upid: string) => boolean): Effect.Effect<ReadonlyArray<BackupRun>, SourceError> =>
    Effect.gen(function*() {
      const tasks = yield* api.vzdumpTasks(node, since)
      const finished = tasks.filter((t) => t.type === "vzdump" && t.endtime !== undefined && t.status !== undefined && !known(t.upid))
      return yield* Effect.forEach(finished, (t) =>
        Effect.map(log(node, t.upid), (lines) =>
          readVzdumpLog({ upid: t.upid, node: t.node, id: t.id ?? "", starttime: t.starttime, endtime: t.endtime!, status: t.status! }, lines)))
    })

  const volumes = (node: string, storage: string): Effect.Effect<ReadonlyArray<BackupVolume>, SourceError> =>
    Effect.map(api.backupContent(node, storage), (items) => items.flatMap((i) => toBackupVolume(storage, i) ?? []))

  return { jobs, runs, volumes }
}
