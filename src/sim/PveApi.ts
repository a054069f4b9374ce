/**
 * The simulator's Proxmox VE API: the payloads of the endpoints vigil reads, shaped the way
 * pve-manager builds them (`PVE/API2/Cluster.pm`, `Nodes.pm`, `Tasks.pm`, pve-ha-manager's
 * `HA/Status.pm`): booleans as 0/1, some numbers as strings, fields absent rather than null, a
 * node's last figures kept for a while after it goes offline and then `unknown`, storage
 * `available` or `unknown` and nothing else.
 */
import type { SimCluster } from "./Cluster.js"
import { haInUse, nodeHaState, quorate, sidOf, type SimGuest, type SimNode, uptimeOf } from "./Model.js"
import { aptUpdates, cephStatus, diskList, replicationStatus, zfsPools } from "./StorageHealth.js"
import { effectivePermissions, permissionsOn, rootAcl } from "./Permissions.js"
import { listTasks } from "./Tasks.js"
import { backupJobs, storageContent } from "./Backups.js"

export interface ApiAnswer {
  readonly status: number
  readonly body?: unknown
  /** A status line without a body (595, as pveproxy answers behind a dead node). */
  readonly reason?: string | undefined
}

const ok = (data: unknown, extra: Record<string, unknown> = {}): ApiAnswer => ({ status: 200, body: { data, ...extra } })
const fail = (status: number, errors: Record<string, string>): ApiAnswer => ({ status, body: { data: null, errors } })

/** Whether what a node reported is still in PVE's cache (figures), or too old (`unknown`). */
const fresh = (cluster: SimCluster, n: SimNode) =>
  n.status === "online" || cluster.now() - (n.offlineSince ?? 0) < cluster.timing.staleAfterMs

const nodeResource = (cluster: SimCluster, n: SimNode, ha: boolean) => {
  const hastate = ha ? { hastate: nodeHaState(n) } : {}
  if (n.status !== "online") return { id: `node/${n.name}`, type: "node", node: n.name, status: "offline", ...hastate }
  // Some figures arrive as strings, as they do from real clusters.
  return {
    id: `node/${n.name}`, type: "node", node: n.name, status: "online", level: "", ...hastate,
    cpu: n.cpu, maxcpu: String(n.maxcpu), mem: n.mem, maxmem: n.maxmem, disk: n.disk, maxdisk: n.maxdisk,
    uptime: String(Math.floor((cluster.now() - n.bootedAt) / 1000))
  }
}

/**
 * Bytes through the guest's network and disks since its process started, as QEMU and the
 * container's cgroup count them: counters that grow while it runs and start again from 0 at each
 * start (PVE reports 0 for a stopped guest). Each guest has its own steady rates.
 */
const ioCounters = (g: SimGuest, uptime: number) => {
  const rate = 1_000 + (g.vmid % 97) * 100
  return { netin: uptime * rate * 4, netout: uptime * rate, diskread: uptime * rate * 2, diskwrite: uptime * rate * 3 }
}

const guestResource = (cluster: SimCluster, g: SimGuest) => {
  const n = cluster.node(g.node)
  const config = {
    ...(g.lock ? { lock: g.lock } : {}),
    ...(g.tags ? { tags: g.tags } : {}),
    ...(g.ha ? { hastate: g.ha.state } : {}),
    ...(g.pool ? { pool: g.pool } : {})
  }
  const base = { id: `${g.kind}/${g.vmid}`, type: g.kind, vmid: g.vmid, node: g.node }
  if (!fresh(cluster, n)) return { ...base, status: "unknown", ...config }
  // A node that is down stopped reporting: its guests show what it said last.
  const at = n.status === "online" ? cluster.now() : n.offlineSince!
  const uptime = uptimeOf(g, at)
  return {
    ...base, name: g.name, status: g.status, uptime, template: g.template ? 1 : 0,
    cpu: g.cpu, maxcpu: 2, mem: g.mem, maxmem: g.maxmem, disk: g.disk, maxdisk: g.maxdisk,
    ...ioCounters(g, uptime), ...config
  }
}

/** What each kind of storage holds by default, in the unsorted order PVE's config keeps. */
const contentOf = (type: string) => ({ dir: "vztmpl,iso,backup", lvmthin: "rootdir,images", rbd: "images,rootdir" })[type] ?? "images"

export const resources = (cluster: SimCluster) => {
  const ha = haInUse(cluster.state)
  const out: Array<Record<string, unknown>> = []
  for (const g of [...cluster.state.guests].sort((a, b) => String(a.vmid).localeCompare(String(b.vmid)))) out.push(guestResource(cluster, g))
  for (const n of cluster.state.nodes) out.push(nodeResource(cluster, n, ha))
  for (const s of cluster.state.storage) {
    const base = { id: `storage/${s.node}/${s.storage}`, type: "storage", storage: s.storage, node: s.node, shared: s.shared ? 1 : 0, plugintype: s.type, content: contentOf(s.type) }
    const reported = s.status === "available" && fresh(cluster, cluster.node(s.node))
    out.push(reported ? { ...base, status: "available", disk: s.used, maxdisk: s.total } : { ...base, status: "unknown" })
  }
  return out
}

const clusterStatus = (cluster: SimCluster) => [
  { type: "cluster", id: "cluster", name: "sim", quorate: quorate(cluster.state) ? 1 : 0, nodes: cluster.state.nodes.length, version: 3 },
  ...cluster.state.nodes.map((n, i) => ({
    type: "node", id: `node/${n.name}`, name: n.name, online: n.status === "online" ? 1 : 0, nodeid: i + 1, local: i === 0 ? 1 : 0, ip: `10.0.0.${i + 1}`, level: ""
  }))
]

const stamp = (cluster: SimCluster) => new Date(cluster.now()).toUTCString()

/** `/cluster/ha/status/current`: quorum, master, one `lrm:` per node, one `service:` per resource. */
const haStatus = (cluster: SimCluster) => {
  const { guests, nodes } = cluster.state
  const master = nodes.find((n) => n.status === "online")
  const out: Array<Record<string, unknown>> = [
    { id: "quorum", type: "quorum", node: master?.name ?? nodes[0]!.name, status: quorate(cluster.state) ? "OK" : `No quorum on node '${nodes[0]!.name}'!`, quorate: quorate(cluster.state) ? 1 : 0 }
  ]
  if (!haInUse(cluster.state)) return out
  if (master !== undefined) {
    out.push({ id: "master", type: "master", node: master.name, status: `${master.name} (active, ${stamp(cluster)})`, timestamp: Math.floor(cluster.now() / 1000) })
  }
  for (const n of [...nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    const state = n.status !== "online" ? "old timestamp - dead?" : n.maintenance ? "maintenance mode" : "active"
    out.push({ id: `lrm:${n.name}`, type: "lrm", node: n.name, status: `${n.name} (${state}, ${stamp(cluster)})`, timestamp: Math.floor(cluster.now() / 1000) })
  }
  for (const g of guests.filter((x) => x.ha !== undefined).sort((a, b) => sidOf(a).localeCompare(sidOf(b)))) {
    const sid = sidOf(g)
    out.push({
      id: `service:${sid}`, type: "service", sid, node: g.node, crm_state: g.ha!.state, state: g.ha!.state, request_state: g.ha!.requestState,
      status: `${sid} (${g.node}, ${g.ha!.state})`, max_restart: 1, max_relocate: 1, failback: 1
    })
  }
  return out
}

const numberParam = (url: URL, name: string) => {
  const v = url.searchParams.get(name)
  return v === null || v === "" ? undefined : Number(v)
}

/** Answers one API request (the path after `/api2/json`); undefined when the simulator has no such endpoint. */
export const answer = (cluster: SimCluster, method: string, api: string, url: URL, user: string): ApiAnswer | undefined => {
  if (method === "GET" && api === "/cluster/resources") return ok(resources(cluster))
  if (method === "GET" && api === "/cluster/status") return ok(clusterStatus(cluster))
  if (method === "GET" && api === "/cluster/ha/status/current") return ok(haStatus(cluster))
  if (method === "GET" && api === "/cluster/ceph/status") return cephStatus(cluster.state.ceph, cluster.state.acl ?? rootAcl, cluster.state.nodes.map((n) => n.name))
  if (method === "GET" && api === "/cluster/backup") return backupJobs(cluster, cluster.state.acl ?? rootAcl)
  if (method === "GET" && api === "/version") return ok({ version: "8.4.1", release: "8.4", repoid: "2a5fa54a8503f96d" })
  if (method === "GET" && api === "/access/permissions") return ok(effectivePermissions(cluster.state.acl ?? rootAcl, url.searchParams.get("path")))
  const m = api.match(/^\/nodes\/([^/]+)\/(.*)$/)
  if (m === null) return undefined
  const n = cluster.state.nodes.find((x) => x.name === decodeURIComponent(m[1]!))
  if (n === undefined) return fail(500, { node: `no such node '${decodeURIComponent(m[1]!)}'` })
  // Anything proxied to a dead node fails the way pveproxy does.
  if (n.status === "offline") return { status: 595, reason: "Errors during connection establishment, proxy handshake failed" }
  const rest = m[2]!
  let t: RegExpMatchArray | null
  if (method === "GET" && rest === "status") {
    return ok({
      uptime: Math.floor((cluster.now() - n.bootedAt) / 1000), cpu: n.cpu, loadavg: ["0.10", "0.20", "0.30"],
      memory: { used: n.mem, total: n.maxmem, free: n.maxmem - n.mem }, rootfs: { used: n.disk, total: n.maxdisk, avail: n.maxdisk - n.disk }
    })
  }
  if (method === "GET" && rest === "disks/zfs") return zfsPools(n, cluster.state.acl ?? rootAcl)
  if (method === "GET" && rest === "apt/update") return aptUpdates(n, cluster.state.acl ?? rootAcl)
  if (method === "GET" && rest === "disks/list") return diskList(n, cluster.state.acl ?? rootAcl)
  if (method === "GET" && rest === "replication") return replicationStatus(n, cluster.state.replication ?? [], cluster.state.guests)
  if ((t = rest.match(/^storage\/([^/]+)\/content$/)) && method === "GET") {
    return storageContent(cluster, n.name, decodeURIComponent(t[1]!), url.searchParams.get("content"), cluster.state.acl ?? rootAcl)
  }
  if (method === "GET" && rest === "tasks") {
    // Without Sys.Audit on the node, PVE lists only the caller's own tasks.
    const auditor = permissionsOn(cluster.state.acl ?? rootAcl, `/nodes/${n.name}`)["Sys.Audit"] === 1
    const own = (x: { user: string; tokenid?: string | undefined }) => auditor || user === x.user || user === `${x.user}!${x.tokenid}`
    const { data, total } = listTasks(cluster.active(n.name).filter(own), (cluster.archive.get(n.name) ?? []).filter(own), {
      source: url.searchParams.get("source"),
      since: numberParam(url, "since"),
      until: numberParam(url, "until"),
      vmid: url.searchParams.get("vmid"),
      typefilter: url.searchParams.get("typefilter"),
      userfilter: url.searchParams.get("userfilter"),
      statusfilter: url.searchParams.get("statusfilter"),
      errors: url.searchParams.get("errors") === "1",
      start: numberParam(url, "start"),
      limit: numberParam(url, "limit")
    })
    return ok(data, { total })
  }
  if ((t = rest.match(/^tasks\/([^/]+)\/(status|log)$/)) && method === "GET") {
    const task = cluster.tasks.find((x) => x.upid === decodeURIComponent(t![1]!))
    if (task === undefined) return fail(500, { upid: "unable to parse worker upid" })
    if (t[2] === "log") {
      // pve-common's dump_logfile: 50 lines unless asked, 0 for all; an empty log says "no content".
      const lines = task.log.length === 0 ? ["no content"] : task.log
      const start = numberParam(url, "start") ?? 0
      const limit = numberParam(url, "limit") ?? 50
      const page = lines.slice(start, limit === 0 ? undefined : start + limit)
      return ok(page.map((line, i) => ({ n: start + i + 1, t: line })), { total: lines.length })
    }
    const running = task.endtime === undefined
    return ok({
      upid: task.upid, node: task.node, pid: task.pid, pstart: task.pstart, starttime: task.starttime, type: task.type, id: task.id, user: task.user,
      ...(task.tokenid ? { tokenid: task.tokenid } : {}),
      status: running ? "running" : "stopped", ...(running ? {} : { exitstatus: task.status })
    })
  }
  if ((t = rest.match(/^(qemu|lxc)\/(\d+)\/status\/(start|stop|shutdown|reboot)$/)) && method === "POST") {
    const g = cluster.state.guests.find((x) => x.vmid === Number(t![2]) && x.kind === t![1] && x.node === n.name)
    if (g === undefined) return fail(500, { vmid: `Configuration file 'nodes/${n.name}/${t[1]}/${t[2]}.conf' does not exist` })
    switch (t[3]) {
      case "start":
        return ok(cluster.startGuest(g.vmid, user).upid)
      case "reboot":
        return ok(cluster.operatorReboot(g.vmid, user).upid)
      default:
        return ok(cluster.operatorStop(g.vmid, t[3] as "stop" | "shutdown", user).upid)
    }
  }
  return undefined
}
