/**
 * Backups between two rounds (pure): what the new runs, the archives and the jobs' coverage say
 * about each guest, as events and incidents.
 *
 * - A guest whose latest backup failed (and no newer archive exists) is one `backup.failed` and a
 *   `BACKUP_FAILED` incident, however many runs keep failing; a successful backup is one
 *   `backup.succeeded` and resolves it. A run that failed as a whole, with no guest to blame, is
 *   the same on its node, resolved by the node's next run that gets as far as its guests.
 * - A guest a job covers whose last good backup is older than the job allows (`jobAllowance`) is one
 *   `backup.stale` and a `BACKUP_STALE` incident; a guest never backed up counts from when vigil
 *   first saw it covered.
 * - The running guests no enabled job covers are one `backup.uncovered` (info) whenever that set
 *   changes.
 *
 * The first round with no memory takes the runs it finds as history: it tells their failures (a
 * state), not their successes (events long past).
 */
import { type BackupJob, type BackupRun, type BackupVolume, includedGuests, jobAllowance } from "../domain/Backup.js"
import { guestKey, type Guest } from "../domain/Snapshot.js"
import { type Finding, finding, type IncidentOp } from "./Findings.js"

export interface GuestBackup {
  readonly vmid: number
  readonly target: string
  readonly name: string | undefined
  readonly node: string | undefined
  /** The enabled jobs that cover it, and how old its backup may get under them (ms). */
  readonly jobs: ReadonlyArray<string>
  readonly allowanceMs: number | undefined
  /** Epoch ms of its newest good backup, and where it is. */
  readonly lastSuccessAt?: number | undefined
  readonly archive?: string | undefined
  readonly storage?: string | undefined
  readonly size?: number | undefined
  readonly verification?: string | undefined
  readonly lastRun?: { readonly at: number; readonly ok: boolean; readonly error: string | undefined; readonly task: string; readonly node: string } | undefined
}

export interface BackupMemory {
  /** Runs already read (upid → end, epoch seconds), back to the lookback. */
  readonly runs: Readonly<Record<string, number>>
  readonly guests: Readonly<Record<string, GuestBackup>>
  /** Per node, its latest run's whole-job failure, if that is where it stands. */
  readonly nodeFailures: Readonly<Record<string, { readonly at: number; readonly error: string; readonly task: string }>>
  /** What was told: failing guests' and nodes' targets, stale guests' targets, uncovered vmids. */
  readonly failing: ReadonlyArray<string>
  readonly stale: ReadonlyArray<string>
  readonly uncovered: ReadonlyArray<number>
  /** When vigil first saw each covered guest covered (epoch ms): a guest never backed up counts from here. */
  readonly coveredSince: Readonly<Record<string, number>>
  readonly judgedAt: number
}

export interface BackupObservation {
  readonly now: number
  readonly maxAgeMs: number
  readonly guests: ReadonlyArray<Guest>
  /** Nodes whose runs were read this round: a guest elsewhere is not judged stale. */
  readonly readNodes: ReadonlySet<string>
  readonly jobs: ReadonlyArray<BackupJob>
  /** Finished runs not read before. */
  readonly newRuns: ReadonlyArray<BackupRun>
  readonly volumes: ReadonlyArray<BackupVolume>
  /** Epoch seconds: runs that ended before this are forgotten. */
  readonly since: number
}

const failedKey = (target: string) => `BACKUP_FAILED:${target}`
const staleKey = (target: string) => `BACKUP_STALE:${target}`
const hours = (ms: number) => `${Math.round(ms / 360_000) / 10} h`

/** Which enabled jobs cover each guest, and the smallest allowance among them. */
export const coverage = (jobs: ReadonlyArray<BackupJob>, guests: ReadonlyArray<Guest>, maxAgeMs: number) => {
  const covered = new Map<number, { jobs: Array<string>; allowanceMs: number }>()
  for (const job of jobs.filter((j) => j.enabled)) {
    const allowance = jobAllowance(job, maxAgeMs)
    for (const vmid of includedGuests(job, guests)) {
      const c = covered.get(vmid) ?? { jobs: [], allowanceMs: allowance }
      c.jobs.push(job.id)
      c.allowanceMs = Math.min(c.allowanceMs, allowance)
      covered.set(vmid, c)
    }
  }
  return covered
}

export const judgeBackups = (memory: BackupMemory | undefined, obs: BackupObservation): { findings: Array<Finding>; memory: BackupMemory } => {
  const first = memory === undefined
  const findings: Array<Finding> = []
  const byVmid = new Map(obs.guests.map((g) => [g.vmid, g]))
  const covered = coverage(obs.jobs, obs.guests, obs.maxAgeMs)
  const guests = new Map<number, GuestBackup>(Object.values(memory?.guests ?? {}).map((g) => [g.vmid, g]))
  const nodeFailures = { ...memory?.nodeFailures }
  const wasFailing = new Set(memory?.failing ?? [])
  const wasStale = new Set(memory?.stale ?? [])
  const update = (vmid: number, f: (g: GuestBackup) => GuestBackup) => {
    const g = byVmid.get(vmid)
    const c = covered.get(vmid)
    const base = guests.get(vmid) ?? { vmid, target: g ? guestKey(g) : `guest/${vmid}`, name: undefined, node: undefined, jobs: [], allowanceMs: undefined }
    guests.set(vmid, f({ ...base, ...(g ? { target: guestKey(g), name: g.name, node: g.node } : {}), jobs: c?.jobs ?? [], allowanceMs: c?.allowanceMs }))
  }
  for (const vmid of new Set([...guests.keys(), ...covered.keys(), ...byVmid.keys()])) update(vmid, (g) => g)

  // What the runs say, oldest first.
  const successes: Array<{ vmid: number; run: BackupRun; archive: string | undefined }> = []
  for (const run of [...obs.newRuns].sort((a, b) => a.endtime - b.endtime)) {
    const at = run.endtime * 1000
    if (run.jobError !== undefined) nodeFailures[run.node] = { at, error: run.jobError, task: run.upid }
    // A run that got as far as its guests clears the node: how each guest fared is theirs to tell.
    else if (run.guests.length > 0) delete nodeFailures[run.node]
    for (const o of run.guests) {
      update(o.vmid, (g) => ({
        ...g,
        lastRun: { at, ok: o.ok, error: o.error, task: run.upid, node: run.node },
        ...(o.ok ? { lastSuccessAt: Math.max(at, g.lastSuccessAt ?? 0), archive: o.archive ?? g.archive } : {})
      }))
      if (o.ok) successes.push({ vmid: o.vmid, run, archive: o.archive })
    }
  }
  // The archives: the newest of each guest, when newer than what the runs said.
  for (const v of obs.volumes) {
    const g = guests.get(v.vmid)
    if (g === undefined || v.ctime * 1000 < (g.lastSuccessAt ?? 0)) continue
    guests.set(v.vmid, { ...g, lastSuccessAt: v.ctime * 1000, archive: v.volid, storage: v.storage, size: v.size, verification: v.verification })
  }

  const failingNow = new Map<string, { node: string | undefined; error: string; task: string; vmid: number | undefined }>()
  for (const g of guests.values()) {
    // A guest that is gone and that no job names again has nothing left to fail.
    if (!byVmid.has(g.vmid) && !covered.has(g.vmid)) continue
    const r = g.lastRun
    if (r !== undefined && !r.ok && !((g.lastSuccessAt ?? 0) > r.at)) failingNow.set(g.target, { node: r.node, error: r.error ?? "failed", task: r.task, vmid: g.vmid })
  }
  for (const [node, f] of Object.entries(nodeFailures)) failingNow.set(`node/${node}`, { node, error: f.error, task: f.task, vmid: undefined })

  // Stale: judged for the guests that exist, are covered and whose node's runs were read.
  const coveredSince: Record<string, number> = {}
  const staleNow = new Set<string>()
  for (const [vmid, c] of covered) {
    coveredSince[vmid] = memory?.coveredSince[vmid] ?? obs.now
    const g = byVmid.get(vmid)
    const b = guests.get(vmid)!
    if (g === undefined) continue
    if (!obs.readNodes.has(g.node)) {
      if (wasStale.has(b.target)) staleNow.add(b.target)
      continue
    }
    if (obs.now - (b.lastSuccessAt ?? coveredSince[vmid]!) > c.allowanceMs) staleNow.add(b.target)
  }

  const resolutions = new Map<string, Array<IncidentOp>>()
  const resolve = (target: string, op: IncidentOp) => resolutions.set(target, [...(resolutions.get(target) ?? []), op])
  for (const t of wasFailing) if (!failingNow.has(t)) resolve(t, { _tag: "Resolve", key: failedKey(t), summary: `Backups of ${t} succeed again` })
  for (const t of wasStale) if (!staleNow.has(t)) resolve(t, { _tag: "Resolve", key: staleKey(t), summary: `${t} has a recent backup again, or no job covers it any more` })

  if (!first) {
    for (const s of successes) {
      const g = guests.get(s.vmid)!
      const ops = resolutions.get(g.target) ?? []
      resolutions.delete(g.target)
      const summary = `Backup of ${g.name ?? g.target} (${g.target}) on ${s.run.node} succeeded`
      findings.push(finding(
        { type: "backup.succeeded", severity: "info", subject: g.target, node: s.run.node, data: { vmid: s.vmid, task: s.run.upid, archive: s.archive ?? null, summary } },
        ops[0]
      ))
      for (const op of ops.slice(1)) findings.push(cleared(g.target, s.run.node, op))
    }
  }
  for (const [target, ops] of resolutions) for (const op of ops) findings.push(cleared(target, undefined, op))

  for (const [target, f] of failingNow) {
    if (wasFailing.has(target)) continue
    const what = f.vmid === undefined ? `The backup job on ${f.node}` : `Backup of ${guests.get(f.vmid)?.name ?? target} (${target})`
    const summary = `${what} failed: ${f.error}`
    findings.push(finding(
      { type: "backup.failed", severity: "error", subject: target, node: f.node, data: { vmid: f.vmid ?? null, task: f.task, error: f.error, summary } },
      { _tag: "Open", key: failedKey(target), condition: "BACKUP_FAILED", target, node: f.node, severity: "error", summary }
    ))
  }
  const byTarget = new Map([...guests.values()].map((g) => [g.target, g]))
  for (const target of staleNow) {
    if (wasStale.has(target)) continue
    const g = byTarget.get(target)!
    const last = g.lastSuccessAt
    const summary = last === undefined
      ? `${g.name ?? target} (${target}) has no backup, ${hours(obs.now - coveredSince[g.vmid]!)} after a job first covered it (allowed: ${hours(g.allowanceMs!)})`
      : `The last backup of ${g.name ?? target} (${target}) is ${hours(obs.now - last)} old (allowed: ${hours(g.allowanceMs!)})`
    findings.push(finding(
      {
        type: "backup.stale",
        severity: "warning",
        subject: target,
        node: g.node,
        data: { vmid: g.vmid, lastBackup: last === undefined ? null : new Date(last).toISOString(), allowanceSeconds: g.allowanceMs! / 1000, jobs: g.jobs, summary }
      },
      { _tag: "Open", key: staleKey(target), condition: "BACKUP_STALE", target, node: g.node, severity: "warning", summary }
    ))
  }

  const uncovered = obs.guests.filter((g) => g.status === "running" && !g.template && !covered.has(g.vmid)).map((g) => g.vmid).sort((a, b) => a - b)
  const before = memory?.uncovered ?? []
  if (uncovered.join() !== before.join() && (uncovered.length > 0 || !first)) {
    const had = new Set(before)
    const has = new Set(uncovered)
    const added = uncovered.filter((v) => !had.has(v))
    const summary = uncovered.length === 0 ? "Every running guest is covered by a backup job" : `${uncovered.length} running guest${uncovered.length === 1 ? " is" : "s are"} covered by no backup job`
    findings.push(finding({
      type: "backup.uncovered",
      severity: "info",
      subject: "cluster/backups",
      data: {
        // At most 500 named (a cluster without any job has thousands); `count` is all of them.
        count: uncovered.length,
        guests: uncovered.slice(0, 500).map((v) => ({ vmid: v, guest: guestKey(byVmid.get(v)!), name: byVmid.get(v)!.name, node: byVmid.get(v)!.node })),
        added: added.slice(0, 500),
        removed: before.filter((v) => !has.has(v)).slice(0, 500),
        summary
      }
    }))
  }

  // Forget guests that are gone and that nothing names or remembers as failing.
  for (const [vmid, g] of guests) if (!byVmid.has(vmid) && !covered.has(vmid) && !failingNow.has(g.target)) guests.delete(vmid)
  const runs: Record<string, number> = {}
  for (const [upid, end] of Object.entries(memory?.runs ?? {})) if (end >= obs.since) runs[upid] = end
  for (const r of obs.newRuns) runs[r.upid] = r.endtime
  return {
    findings,
    memory: {
      runs,
      guests: Object.fromEntries([...guests].map(([vmid, g]) => [String(vmid), g])),
      nodeFailures,
      failing: [...failingNow.keys()],
      stale: [...staleNow],
      uncovered,
      coveredSince,
      judgedAt: obs.now
    }
  }
}

const cleared = (target: string, node: string | undefined, op: IncidentOp): Finding =>
  finding(
    {
      type: op._tag === "Resolve" && op.key.startsWith("BACKUP_STALE") ? "backup.stale.cleared" : "backup.failed.cleared",
      severity: "info",
      subject: target,
      node,
      data: { summary: op._tag === "Resolve" ? op.summary : target }
    },
    op
  )
