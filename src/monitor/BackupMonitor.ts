/**
 * Watches backups on the background tier: the leader reads the jobs, every online node's vzdump
 * runs since the lookback (only the ones it has not read: a log is read once) and the archives on
 * the backup storages, and BackupWatch tells what changed. What it concluded is kept in the store
 * with the events it told (`vigil_meta`), so a restart or a new leader goes on from there, and
 * every instance answers `GET /api/v1/backups` from it.
 *
 * A token that may not list the jobs is said once (`backup.unavailable`, naming Sys.Audit on `/`)
 * and the check stops asking.
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { type BackupVolume, jobAllowance } from "../domain/Backup.js"
import { EventRepo } from "../store/EventRepo.js"
import { type BackupMemory, judgeBackups } from "./BackupWatch.js"
import { unavailableEvent } from "./Findings.js"
import { leaderRounds } from "./LeaderRounds.js"
import { checkContext } from "./CheckContext.js"

export const backupMaxAgeConfig = Config.duration("VIGIL_BACKUP_MAX_AGE").pipe(Config.withDefault(Duration.hours(36)))

/** Where the conclusions are kept, beside the events that told them. */
export const backupStateKey = "monitor.backups"

/** The longest look back for runs: a monthly job's, with room. */
const maxLookbackMs = 40 * 86_400_000

/** What the last round concluded, as stored; undefined before the first round (or if unreadable). */
export const storedBackups = (repo: EventRepo) =>
  Effect.map(repo.getMeta(backupStateKey), (text): BackupMemory | undefined => {
    if (text === undefined) return undefined
    try {
      return JSON.parse(text) as BackupMemory
    } catch {
      return undefined
    }
  })

export class BackupMonitor extends Effect.Service<BackupMonitor>()("vigil/BackupMonitor", {
  scoped: Effect.gen(function*() {
    const maxAge = yield* backupMaxAgeConfig
    const repo = yield* EventRepo
    const view = { maxAge, stored: storedBackups(repo) }
    const context = yield* checkContext((s) => s.backups)
    if (Option.isNone(context)) return view
    const { ask: reader, watch, tiers, bus, record } = context.value
    const maxAgeMs = Duration.toMillis(maxAge)

    let memory: BackupMemory | undefined
    let off = false

    yield* leaderRounds("BackupMonitor", tiers.background, Duration.seconds(14), (newTerm) =>
      Effect.gen(function*() {
        if (newTerm) memory = yield* view.stored
        if (off) return
        const snapshot = yield* watch.latest
        if (Option.isNone(snapshot)) return
        const jobs = yield* reader.jobs
        if (Either.isLeft(jobs)) {
          off = true
          yield* bus.publishOne(unavailableEvent("backup.unavailable", "cluster/backups", jobs.left.reason, `Backups are not watched: ${jobs.left.reason}`))
          return
        }
        const now = yield* Clock.currentTimeMillis
        const lookback = Math.min(maxLookbackMs, Math.max(maxAgeMs, ...jobs.right.filter((j) => j.enabled).map((j) => jobAllowance(j, maxAgeMs))))
        const since = Math.floor((now - lookback) / 1000)
        const known = (upid: string) => memory?.runs[upid] !== undefined
        const online = snapshot.value.nodes.filter((n) => n.status === "online" && n.detail === undefined).map((n) => n.name)
        const answers = yield* Effect.forEach(online, (node) => Effect.either(reader.runs(node, since, known)), { concurrency: 4 })
        const readNodes = new Set(online.filter((_, i) => Either.isRight(answers[i]!)))
        const newRuns = answers.flatMap((a) => (Either.isRight(a) ? a.right : []))
        // Each backup storage once: a shared one through any node that has it.
        const storages = new Map<string, { readonly node: string; readonly storage: string }>()
        for (const p of snapshot.value.storage) {
          if (p.status === "available" && p.content?.includes("backup") && readNodes.has(p.node)) {
            storages.set(p.shared ? p.storage : `${p.node}/${p.storage}`, p)
          }
        }
        const listed = yield* Effect.forEach([...storages.values()], (p) => Effect.either(reader.volumes(p.node, p.storage)), { concurrency: 4 })
        const volumes: Array<BackupVolume> = listed.flatMap((l) => (Either.isRight(l) ? l.right : []))
        const judged = judgeBackups(memory, { now, maxAgeMs, guests: snapshot.value.guests, readNodes, jobs: jobs.right, newRuns, volumes, since })
        yield* record(judged.findings, [{ key: backupStateKey, value: JSON.stringify(judged.memory) }])
        memory = judged.memory
      }))
    return view
  })
}) {}
