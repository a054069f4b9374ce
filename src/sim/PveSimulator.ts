/**
 * A Proxmox VE API simulator: a real HTTP server with the real payload shapes (numbers that are
 * sometimes strings, 0/1 booleans, fields missing for offline nodes, 595 behind a dead node's
 * proxied path), holding a scriptable cluster. A control API under `/_sim` crashes guests, takes
 * nodes offline, fills disks and injects faults (500, 595, hangs, garbage, 401).
 *
 * Tests run vigil against it; a newcomer runs `npm run sim` to watch vigil react without owning
 * a cluster.
 */
import * as Http from "node:http"
import * as Https from "node:https"
import type { AddressInfo } from "node:net"

export interface SimNode {
  name: string
  status: "online" | "offline"
  cpu: number
  maxcpu: number
  mem: number
  maxmem: number
  disk: number
  maxdisk: number
  uptime: number
}

export interface SimGuest {
  kind: "qemu" | "lxc"
  vmid: number
  name: string
  node: string
  status: "running" | "stopped" | "paused" | "suspended"
  cpu: number
  mem: number
  maxmem: number
  disk: number
  maxdisk: number
  lock?: string | undefined
  hastate?: string | undefined
  tags?: string | undefined
  template?: boolean | undefined
  /** Starting it fails (the task ends with an error): a guest that keeps crashing. */
  startFails?: boolean | undefined
}

export interface SimStorage {
  node: string
  storage: string
  status: string
  used: number
  total: number
  shared: boolean
  type: string
}

export interface SimTask {
  upid: string
  node: string
  type: string
  id: string
  user: string
  status?: string | undefined
  starttime: number
  endtime?: number | undefined
}

export type FaultMode = "500" | "595" | "hang" | "garbage" | "401" | "nulldata"

export interface Fault {
  mode: FaultMode
  /** Faults left to inject; undefined means until cleared. */
  remaining?: number | undefined
  /** Only requests whose API path starts with this. */
  path?: string | undefined
}

export interface SimState {
  nodes: Array<SimNode>
  guests: Array<SimGuest>
  storage: Array<SimStorage>
  tasks: Array<SimTask>
  quorate: boolean
  fault: Fault | undefined
}

const GiB = 1024 ** 3

export const defaultCluster = (): SimState => {
  const node = (name: string, cpu: number, memGiB: number, diskGiB: number): SimNode => ({
    name, status: "online", cpu, maxcpu: 16, mem: memGiB * GiB, maxmem: 64 * GiB, disk: diskGiB * GiB, maxdisk: 100 * GiB, uptime: 864_000
  })
  const guest = (kind: "qemu" | "lxc", vmid: number, name: string, nodeName: string, extra: Partial<SimGuest> = {}): SimGuest => ({
    kind, vmid, name, node: nodeName, status: "running", cpu: 0.05, mem: 2 * GiB, maxmem: 4 * GiB, disk: 0, maxdisk: 32 * GiB, ...extra
  })
  const pools = (n: string): Array<SimStorage> => [
    { node: n, storage: "local", status: "available", used: 20 * GiB, total: 100 * GiB, shared: false, type: "dir" },
    { node: n, storage: "local-lvm", status: "available", used: 200 * GiB, total: 800 * GiB, shared: false, type: "lvmthin" },
    { node: n, storage: "ceph", status: "available", used: 3000 * GiB, total: 10000 * GiB, shared: true, type: "rbd" }
  ]
  return {
    nodes: [node("pve1", 0.12, 24, 30), node("pve2", 0.3, 40, 45), node("pve3", 0.05, 10, 20)],
    guests: [
      guest("qemu", 100, "web", "pve1", { tags: "web;prod" }),
      guest("qemu", 101, "db", "pve1", { tags: "db;prod", mem: 3 * GiB }),
      guest("lxc", 102, "cache", "pve2", { disk: 2 * GiB, maxdisk: 8 * GiB }),
      guest("qemu", 103, "worker", "pve2", { hastate: "started" }),
      guest("lxc", 104, "backup", "pve3", { status: "stopped", mem: 0, cpu: 0 }),
      guest("qemu", 9000, "debian-template", "pve3", { status: "stopped", template: true, mem: 0, cpu: 0 })
    ],
    storage: ["pve1", "pve2", "pve3"].flatMap(pools),
    tasks: [],
    quorate: true,
    fault: undefined
  }
}

const json = (res: Http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json;charset=UTF-8" })
  res.end(JSON.stringify(body))
}

const readBody = (req: Http.IncomingMessage) =>
  new Promise<any>((resolve) => {
    let text = ""
    req.on("data", (c) => (text += c))
    req.on("end", () => {
      try {
        resolve(text === "" ? {} : JSON.parse(text))
      } catch {
        resolve({})
      }
    })
  })

let upidCounter = 0
const upid = (node: string, type: string, id: string) =>
  `UPID:${node}:${(process.pid).toString(16).toUpperCase().padStart(8, "0")}:${(++upidCounter).toString(16).toUpperCase().padStart(8, "0")}:${Math.floor(Date.now() / 1000).toString(16).toUpperCase()}:${type}:${id}:root@pam:`

export class PveSimulator {
  state: SimState
  private server: Http.Server | undefined
  /** Requests served per API path, for tests that count polls. */
  readonly hits = new Map<string, number>()

  constructor(
    readonly options: {
      readonly token?: string | undefined
      readonly startDelayMs?: number | undefined
      /** Serve HTTPS with this key and certificate, as a real PVE node does on 8006. */
      readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer } | undefined
    } = {},
    initial: SimState = defaultCluster()
  ) {
    this.state = initial
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined
    if (address === undefined) throw new Error("simulator not started")
    return `${this.options.tls ? "https" : "http"}://127.0.0.1:${address.port}`
  }

  start(port = 0, host = "127.0.0.1"): Promise<string> {
    const handler = (req: Http.IncomingMessage, res: Http.ServerResponse) => {
      this.handle(req, res).catch((e) => json(res, 500, { data: null, errors: { sim: String(e) } }))
    }
    this.server = this.options.tls ? Https.createServer(this.options.tls, handler) : Http.createServer(handler)
    return new Promise((resolve) => this.server!.listen(port, host, () => resolve(this.url)))
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.server === undefined) return resolve()
      this.server.closeAllConnections()
      this.server.close(() => resolve())
    })
  }

  guest(vmid: number): SimGuest {
    const g = this.state.guests.find((x) => x.vmid === vmid)
    if (g === undefined) throw new Error(`no guest ${vmid}`)
    return g
  }

  node(name: string): SimNode {
    const n = this.state.nodes.find((x) => x.name === name)
    if (n === undefined) throw new Error(`no node ${name}`)
    return n
  }

  /** A guest stopping with no task behind it: what a crash looks like from the API. */
  crash(vmid: number) {
    const g = this.guest(vmid)
    g.status = "stopped"
    g.cpu = 0
    g.mem = 0
  }

  /** An operator stopping a guest: the stop is in the node's task log. */
  operatorStop(vmid: number, type: "qmstop" | "qmshutdown" | "vzstop" | "vzshutdown" = "qmshutdown") {
    const g = this.guest(vmid)
    const now = Math.floor(Date.now() / 1000)
    this.state.tasks.push({ upid: upid(g.node, type, String(vmid)), node: g.node, type, id: String(vmid), user: "root@pam", status: "OK", starttime: now, endtime: now })
    g.status = "stopped"
    g.cpu = 0
    g.mem = 0
  }

  startGuest(vmid: number): SimTask {
    const g = this.guest(vmid)
    const type = g.kind === "qemu" ? "qmstart" : "vzstart"
    const now = Math.floor(Date.now() / 1000)
    const task: SimTask = { upid: upid(g.node, type, String(vmid)), node: g.node, type, id: String(vmid), user: "root@pam", starttime: now }
    this.state.tasks.push(task)
    const finish = () => {
      task.endtime = Math.floor(Date.now() / 1000)
      if (g.startFails) {
        task.status = "start failed: QEMU exited with code 1"
      } else {
        task.status = "OK"
        g.status = "running"
        g.cpu = 0.02
        g.mem = g.maxmem / 2
      }
    }
    const delay = this.options.startDelayMs ?? 0
    if (delay > 0) setTimeout(finish, delay)
    else finish()
    return task
  }

  setNodeOnline(name: string, online: boolean) {
    this.node(name).status = online ? "online" : "offline"
  }

  setNodeMetrics(name: string, metrics: { cpu?: number; memPercent?: number; diskPercent?: number }) {
    const n = this.node(name)
    if (metrics.cpu !== undefined) n.cpu = metrics.cpu
    if (metrics.memPercent !== undefined) n.mem = (n.maxmem * metrics.memPercent) / 100
    if (metrics.diskPercent !== undefined) n.disk = (n.maxdisk * metrics.diskPercent) / 100
  }

  fillStorage(node: string, storage: string, percent: number) {
    const pool = this.state.storage.find((s) => s.node === node && s.storage === storage)
    if (pool === undefined) throw new Error(`no storage ${node}/${storage}`)
    pool.used = (pool.total * percent) / 100
  }

  setFault(fault: Fault | undefined) {
    this.state.fault = fault
  }

  // -------------------------------------------------------------------------------------------

  private resources(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = []
    for (const n of this.state.nodes) {
      if (n.status === "offline") {
        // What PVE sends for a node it cannot reach: no figures at all.
        out.push({ id: `node/${n.name}`, type: "node", node: n.name, status: "offline" })
        continue
      }
      // Some figures arrive as strings, as they do from real clusters.
      out.push({
        id: `node/${n.name}`, type: "node", node: n.name, status: "online", level: "",
        cpu: n.cpu, maxcpu: String(n.maxcpu), mem: n.mem, maxmem: n.maxmem, disk: n.disk, maxdisk: n.maxdisk, uptime: String(n.uptime)
      })
    }
    for (const g of this.state.guests) {
      const nodeUp = this.node(g.node).status === "online"
      out.push({
        id: `${g.kind}/${g.vmid}`, type: g.kind, vmid: g.vmid, name: g.name, node: g.node,
        status: nodeUp ? g.status : "unknown",
        cpu: g.cpu, maxcpu: 2, mem: g.mem, maxmem: g.maxmem, disk: g.disk, maxdisk: g.maxdisk,
        uptime: g.status === "running" ? 3600 : 0, template: g.template ? 1 : 0,
        ...(g.lock ? { lock: g.lock } : {}), ...(g.hastate ? { hastate: g.hastate } : {}), ...(g.tags ? { tags: g.tags } : {})
      })
    }
    for (const s of this.state.storage) {
      if (this.node(s.node).status !== "online") continue
      out.push({
        id: `storage/${s.node}/${s.storage}`, type: "storage", storage: s.storage, node: s.node, status: s.status,
        disk: s.used, maxdisk: s.total, shared: s.shared ? 1 : 0, plugintype: s.type, content: "images,rootdir"
      })
    }
    return out
  }

  private async handle(req: Http.IncomingMessage, res: Http.ServerResponse) {
    const url = new URL(req.url ?? "/", "http://sim")
    const path = url.pathname
    if (path.startsWith("/_sim")) return this.control(req, res, path)
    if (!path.startsWith("/api2/json/")) return json(res, 404, { data: null })
    const api = path.slice("/api2/json".length)
    this.hits.set(api, (this.hits.get(api) ?? 0) + 1)

    const fault = this.state.fault
    if (fault !== undefined && (fault.path === undefined || api.startsWith(fault.path))) {
      if (fault.remaining !== undefined && --fault.remaining <= 0) this.state.fault = undefined
      switch (fault.mode) {
        case "500":
          return json(res, 500, { data: null, errors: { reason: "simulated internal error" } })
        case "595":
          res.writeHead(595, "Errors during connection establishment, proxy handshake failed")
          return res.end()
        case "401":
          return json(res, 401, { data: null })
        case "nulldata":
          return json(res, 200, { data: null, errors: { simulated: "no data" } })
        case "garbage":
          res.writeHead(200, { "content-type": "application/json" })
          return res.end("<html>502 Bad Gateway</html>")
        case "hang":
          return // never answers; the client's timeout must fire
      }
    }

    if (this.options.token !== undefined && req.headers.authorization !== `PVEAPIToken=${this.options.token}`) {
      return json(res, 401, { data: null })
    }

    let m: RegExpMatchArray | null
    if (req.method === "GET" && api === "/cluster/resources") return json(res, 200, { data: this.resources() })
    if (req.method === "GET" && api === "/cluster/status") {
      return json(res, 200, {
        data: [
          { type: "cluster", id: "cluster", name: "sim", quorate: this.state.quorate ? 1 : 0, nodes: this.state.nodes.length, version: 3 },
          ...this.state.nodes.map((n, i) => ({ type: "node", id: `node/${n.name}`, name: n.name, online: n.status === "online" ? 1 : 0, nodeid: i + 1, local: i === 0 ? 1 : 0, ip: `10.0.0.${i + 1}` }))
        ]
      })
    }
    if ((m = api.match(/^\/nodes\/([^/]+)\/(.*)$/))) {
      const nodeName = decodeURIComponent(m[1]!)
      const rest = m[2]!
      const n = this.state.nodes.find((x) => x.name === nodeName)
      if (n === undefined) return json(res, 500, { data: null, errors: { node: `no such node '${nodeName}'` } })
      // Anything proxied to a dead node fails the way pveproxy does.
      if (n.status === "offline") {
        res.writeHead(595, "No route to host")
        return res.end()
      }
      if (req.method === "GET" && rest === "status") {
        return json(res, 200, {
          data: { uptime: n.uptime, cpu: n.cpu, memory: { used: n.mem, total: n.maxmem, free: n.maxmem - n.mem }, rootfs: { used: n.disk, total: n.maxdisk, avail: n.maxdisk - n.disk }, loadavg: ["0.10", "0.20", "0.30"] }
        })
      }
      if (req.method === "GET" && rest === "tasks") {
        const vmid = url.searchParams.get("vmid")
        const since = Number(url.searchParams.get("since") ?? 0)
        const tasks = this.state.tasks
          .filter((t) => t.node === nodeName && (vmid === null || t.id === vmid) && t.starttime >= since)
          .slice()
          .reverse()
        return json(res, 200, { data: tasks })
      }
      if ((m = rest.match(/^tasks\/([^/]+)\/status$/)) && req.method === "GET") {
        const task = this.state.tasks.find((t) => t.upid === decodeURIComponent(m![1]!))
        if (task === undefined) return json(res, 500, { data: null, errors: { upid: "no such task" } })
        return json(res, 200, {
          data: { upid: task.upid, node: task.node, type: task.type, id: task.id, status: task.endtime === undefined ? "running" : "stopped", ...(task.endtime === undefined ? {} : { exitstatus: task.status }) }
        })
      }
      if ((m = rest.match(/^(qemu|lxc)\/(\d+)\/status\/(start|stop|shutdown)$/)) && req.method === "POST") {
        const g = this.state.guests.find((x) => x.vmid === Number(m![2]) && x.kind === m![1] && x.node === nodeName)
        if (g === undefined) return json(res, 500, { data: null, errors: { vmid: "no such guest on this node" } })
        if (m[3] === "start") return json(res, 200, { data: this.startGuest(g.vmid).upid })
        const type = `${g.kind === "qemu" ? "qm" : "vz"}${m[3]}` as "qmstop"
        this.operatorStop(g.vmid, type)
        return json(res, 200, { data: this.state.tasks.at(-1)!.upid })
      }
    }
    return json(res, 501, { data: null, errors: { path: `the simulator has no ${req.method} ${api}` } })
  }

  private async control(req: Http.IncomingMessage, res: Http.ServerResponse, path: string) {
    const body = req.method === "POST" ? await readBody(req) : {}
    let m: RegExpMatchArray | null
    try {
      if (req.method === "GET" && path === "/_sim/state") return json(res, 200, this.state)
      if (req.method === "POST" && path === "/_sim/reset") {
        this.state = defaultCluster()
        return json(res, 200, { ok: true })
      }
      if ((m = path.match(/^\/_sim\/guests\/(\d+)\/(crash|stop|start)$/)) && req.method === "POST") {
        const vmid = Number(m[1])
        if (m[2] === "crash") this.crash(vmid)
        else if (m[2] === "stop") this.operatorStop(vmid, this.guest(vmid).kind === "qemu" ? "qmshutdown" : "vzshutdown")
        else this.startGuest(vmid)
        return json(res, 200, this.guest(vmid))
      }
      if ((m = path.match(/^\/_sim\/guests\/(\d+)$/)) && req.method === "POST") {
        Object.assign(this.guest(Number(m[1])), body)
        return json(res, 200, this.guest(Number(m[1])))
      }
      if ((m = path.match(/^\/_sim\/nodes\/([^/]+)\/(offline|online)$/)) && req.method === "POST") {
        this.setNodeOnline(m[1]!, m[2] === "online")
        return json(res, 200, this.node(m[1]!))
      }
      if ((m = path.match(/^\/_sim\/nodes\/([^/]+)\/metrics$/)) && req.method === "POST") {
        this.setNodeMetrics(m[1]!, body)
        return json(res, 200, this.node(m[1]!))
      }
      if ((m = path.match(/^\/_sim\/storage\/([^/]+)\/([^/]+)\/fill$/)) && req.method === "POST") {
        this.fillStorage(m[1]!, m[2]!, Number(body.percent))
        return json(res, 200, { ok: true })
      }
      if (path === "/_sim/quorum" && req.method === "POST") {
        this.state.quorate = Boolean(body.quorate)
        return json(res, 200, { quorate: this.state.quorate })
      }
      if (path === "/_sim/fault") {
        if (req.method === "DELETE") this.setFault(undefined)
        else this.setFault(body as Fault)
        return json(res, 200, { fault: this.state.fault ?? null })
      }
    } catch (e) {
      return json(res, 400, { error: (e as Error).message })
    }
    return json(res, 404, { error: `unknown control ${req.method} ${path}` })
  }
}
