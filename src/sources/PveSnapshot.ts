/**
 * A snapshot from what the Proxmox VE API answered (the decoded payloads of PveSchema): nodes,
 * guests and storage from `/cluster/resources`, quorum and membership from `/cluster/status`, HA
 * resources, the version. Fields PVE left out stay out (no `undefined` keys); unknown statuses
 * read as `unknown`.
 */
import type { ClusterInfo, ClusterNode, Guest, HaService, NodeStatus, PveVersion, Snapshot, StoragePool } from "../domain/Snapshot.js"
import type { ClusterStatusItem, HaStatusItem, Resource } from "./PveSchema.js"

const nodeStatuses: ReadonlySet<string> = new Set(["online", "offline"])
const guestStatuses: ReadonlySet<string> = new Set(["running", "stopped", "paused", "suspended", "prelaunch", "guest-panicked", "internal-error", "io-error"])

/** The object without its undefined fields (built by copying: deleting would slow every later read). */
const defined = <A extends object>(a: A): A => {
  const out: Record<string, unknown> = {}
  for (const key in a) {
    const value = a[key]
    if (value !== undefined) out[key] = value
  }
  return out as A
}

export const toNode = (r: Resource): ClusterNode =>
  defined({
    name: r.node ?? r.id.replace(/^node\//, ""),
    status: (r.status !== undefined && nodeStatuses.has(r.status) ? r.status : "unknown") as NodeStatus,
    cpu: r.cpu,
    maxcpu: r.maxcpu,
    mem: r.mem,
    maxmem: r.maxmem,
    disk: r.disk,
    maxdisk: r.maxdisk,
    uptime: r.uptime,
    hastate: r.hastate,
    level: r.level
  })

/** A guest's status as vigil knows them; anything else PVE may add reads as `unknown`. */
export const guestStatus = (status: string | undefined): Guest["status"] =>
  (status !== undefined && guestStatuses.has(status) ? status : "unknown") as Guest["status"]

const noTags: ReadonlyArray<string> = []
/** PVE's tag list (`;`-separated; older versions also used `,` and spaces). */
export const parseTags = (tags: string | undefined): ReadonlyArray<string> =>
  tags === undefined || tags === "" ? noTags : tags.split(/[;, ]+/).filter((t) => t.length > 0)

const guestFigures = ["cpu", "maxcpu", "mem", "maxmem", "disk", "maxdisk", "uptime", "netin", "netout", "diskread", "diskwrite"] as const
/** A guest, built field by field: copying a literal through `defined` was most of a 10,000-guest snapshot's cost (equal, by a property test). */
export const toGuest = (r: Resource): Guest | undefined => {
  if ((r.type !== "qemu" && r.type !== "lxc") || r.vmid === undefined || r.node === undefined) return undefined
  const g: Record<string, unknown> = {
    kind: r.type,
    vmid: r.vmid,
    name: r.name ?? `${r.type}-${r.vmid}`,
    node: r.node,
    status: guestStatus(r.status)
  }
  for (const key of guestFigures) if (r[key] !== undefined) g[key] = r[key]
  if (r.lock !== undefined && r.lock !== "") g.lock = r.lock
  if (r.hastate !== undefined) g.hastate = r.hastate
  if (r.pool !== undefined && r.pool !== "") g.pool = r.pool
  g.tags = parseTags(r.tags)
  g.template = r.template ?? false
  return g as Guest
}

/**
 * A storage pool as one node sees it. PVE reports `available` with figures while the node's
 * status daemon reports the storage active, and `unknown` without figures otherwise.
 */
export const toStorage = (r: Resource): StoragePool | undefined => {
  if (r.type !== "storage" || r.node === undefined || r.storage === undefined) return undefined
  return defined({
    node: r.node,
    storage: r.storage,
    status: r.status ?? "unknown",
    used: r.disk,
    total: r.maxdisk,
    shared: r.shared ?? false,
    type: r.plugintype,
    // PVE lists content types in no fixed order; sorted, the same pool reads the same every poll.
    content: r.content === undefined ? undefined : r.content.split(",").filter((c) => c.length > 0).sort()
  })
}

/** HA resources from `/cluster/ha/status/current` (its `service` entries; the manager's raw state). */
export const toHaServices = (items: ReadonlyArray<HaStatusItem>): Array<HaService> =>
  items.flatMap((i) => {
    const state = i.crm_state ?? i.state
    if (i.type !== "service" || i.sid === undefined || i.node === undefined || state === undefined) return []
    return [defined({ sid: i.sid, node: i.node, state, requestState: i.request_state })]
  })

/** The `cluster` entry of `/cluster/status`; absent on a node outside a cluster. */
export const toClusterInfo = (status: ReadonlyArray<ClusterStatusItem>): ClusterInfo | undefined => {
  const entry = status.find((item) => item.type === "cluster" && item.name !== undefined)
  return entry === undefined ? undefined : defined({ name: entry.name!, version: entry.version, nodes: entry.nodes })
}

/** Adds what only `/cluster/status` knows of each node: its corosync id (and its level, when resources lacked it). */
const withMembership = (nodes: ReadonlyArray<ClusterNode>, status: ReadonlyArray<ClusterStatusItem>): Array<ClusterNode> => {
  const members = new Map(status.filter((i) => i.type === "node" && i.name !== undefined).map((i) => [i.name!, i]))
  return nodes.map((n) => {
    const m = members.get(n.name)
    return m === undefined ? n : defined({ ...n, nodeid: m.nodeid, level: n.level ?? m.level })
  })
}

/** `/cluster/resources` as the snapshot uses it: the guests, and every other entry as it came (ResourceDecoder). */
export interface ClusterResources {
  readonly guests: ReadonlyArray<Guest>
  readonly others: ReadonlyArray<Resource>
}

/**
 * Builds a snapshot from `/cluster/resources`, and `/cluster/status`, the HA status and `/version`
 * when they answered.
 */
export const toSnapshot = (
  resources: ClusterResources,
  status: ReadonlyArray<ClusterStatusItem> | undefined,
  ha: ReadonlyArray<HaService> | undefined,
  pveVersion: PveVersion | undefined,
  takenAt: number
): Snapshot => {
  const nodes = resources.others.filter((r) => r.type === "node").map(toNode)
  const storage: Array<StoragePool> = []
  for (const r of resources.others) {
    const pool = toStorage(r)
    if (pool !== undefined) storage.push(pool)
  }
  const quorate = status?.find((item) => item.type === "cluster")?.quorate
  const cluster = status === undefined ? undefined : toClusterInfo(status)
  return {
    source: "proxmox",
    takenAt,
    nodes: status === undefined ? nodes : withMembership(nodes, status),
    guests: resources.guests,
    storage,
    ...(quorate === undefined ? {} : { quorate }),
    ...(ha === undefined ? {} : { ha }),
    ...(cluster === undefined ? {} : { cluster }),
    ...(pveVersion === undefined ? {} : { pveVersion: defined({ version: pveVersion.version, release: pveVersion.release, repoid: pveVersion.repoid }) }),
    portConflicts: [],
    services: []
  }
}
