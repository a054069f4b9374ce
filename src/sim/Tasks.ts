/**
 * The simulator's task log, as a Proxmox VE node keeps it (pve-manager `PVE/API2/Tasks.pm`,
 * pve-common `PVE/UPID.pm`): UPIDs in PVE's format, running tasks in an "active" list and
 * finished ones in an archive ordered by when they finished, and `/nodes/{node}/tasks` with PVE's
 * parameters and defaults: `source=archive` lists finished tasks only, running ones need
 * `source=active` or `all`; `since`/`until` compare the start time; `limit` defaults to 50.
 */

export interface SimTask {
  readonly upid: string
  readonly node: string
  readonly pid: number
  readonly pstart: number
  /** Epoch seconds. */
  readonly starttime: number
  readonly type: string
  /** The vmid as a string, or empty. */
  readonly id: string
  /** `root@pam`, `alice@pve`; a token's user without its name. */
  readonly user: string
  readonly tokenid?: string | undefined
  /** Set when the task ends. */
  endtime?: number | undefined
  /** `OK`, `WARNINGS: n`, an error message, `unexpected status`; set when the task ends. */
  status?: string | undefined
  /** The task's log, first line first. */
  readonly log: Array<string>
}

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, "0")

/** `UPID:node:PID:PSTART:STARTTIME:type:id:user:`, hex upper-case and zero-padded, as pve-common writes it. */
export const encodeUpid = (t: Pick<SimTask, "node" | "pid" | "pstart" | "starttime" | "type" | "id" | "user" | "tokenid">) =>
  `UPID:${t.node}:${hex8(t.pid)}:${hex8(t.pstart)}:${hex8(t.starttime)}:${t.type}:${t.id}:${t.tokenid ? `${t.user}!${t.tokenid}` : t.user}:`

/** `ok`, `warning`, `error` or `unknown`, as PVE classifies an end status (`normalize_status_type`). */
export const statusType = (status: string | undefined): "ok" | "warning" | "error" | "unknown" => {
  if (status === undefined || status === "" || status === "unexpected status") return "unknown"
  if (status === "OK") return "ok"
  if (/^WARNINGS: \d+$/.test(status)) return "warning"
  return "error"
}

export interface TaskQuery {
  readonly source?: string | null
  readonly since?: number | undefined
  readonly until?: number | undefined
  readonly vmid?: string | null
  readonly typefilter?: string | null
  readonly userfilter?: string | null
  readonly statusfilter?: string | null
  readonly errors?: boolean
  readonly start?: number | undefined
  readonly limit?: number | undefined
}

/** The JSON item PVE sends for a task: running ones say `RUNNING` and have no end time. */
const render = (t: SimTask, running: boolean) => ({
  upid: t.upid,
  node: t.node,
  pid: t.pid,
  pstart: t.pstart,
  starttime: t.starttime,
  type: t.type,
  id: t.id,
  user: t.user,
  ...(t.tokenid ? { tokenid: t.tokenid } : {}),
  ...(running ? { status: "RUNNING" } : { endtime: t.endtime, status: t.status })
})

/**
 * `/nodes/{node}/tasks`: `active` are the node's running tasks in start order, `archive` its
 * finished ones newest-finished first. Answers the page and the number of matches (`total`).
 */
export const listTasks = (
  active: ReadonlyArray<SimTask>,
  archive: ReadonlyArray<SimTask>,
  q: TaskQuery
): { readonly data: Array<Record<string, unknown>>; readonly total: number } => {
  const source = q.source ?? "archive"
  const statuses = q.errors
    ? new Set(["warning", "error", "unknown"])
    : q.statusfilter
    ? new Set(q.statusfilter.toLowerCase().split(/[,\s]+/).filter((s) => s !== ""))
    : undefined
  const start = q.start ?? 0
  let limit = q.limit ?? 50
  let count = 0
  const data: Array<Record<string, unknown>> = []
  const consider = (t: SimTask, running: boolean) => {
    if (q.since !== undefined && t.starttime < q.since) return
    if (q.until !== undefined && t.starttime > q.until) return
    if (q.vmid && t.id !== q.vmid) return
    if (q.typefilter && t.type !== q.typefilter) return
    if (q.userfilter && !t.user.toLowerCase().includes(q.userfilter.toLowerCase())) return
    // A running task has no status yet: filters see it as "unknown".
    if (statuses !== undefined && !statuses.has(running ? "unknown" : statusType(t.status))) return
    if (count++ < start) return
    if (limit <= 0) return
    limit--
    data.push(render(t, running))
  }
  if (source === "active" || source === "all") for (const t of active) consider(t, true)
  if (source === "archive" || source === "all") for (const t of archive) consider(t, false)
  return { data, total: count }
}
