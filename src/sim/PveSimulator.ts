/**
 * A Proxmox VE API simulator: a real HTTP (or HTTPS) server with the real payload shapes and
 * behaviour (see PveApi, Cluster, Tasks), holding a scriptable cluster, plus faults to inject
 * (500, 595, hangs, garbage, 401) and the `/_sim` control API.
 *
 * Over HTTPS it behaves like pveproxy where vigil's TLS handling is concerned: it issues session
 * tickets (TLS 1.2 and 1.3), so a client that caches sessions resumes them, and it can close
 * idle connections quickly so that every poll opens a new one.
 *
 * Tests run vigil against it; a newcomer runs `npm run sim` to watch vigil react without owning
 * a cluster.
 */
import * as Http from "node:http"
import * as Https from "node:https"
import type { AddressInfo } from "node:net"
import { wallClock } from "../domain/WallClock.js"
import type { SecureVersion, TLSSocket } from "node:tls"
import { type ClusterTiming, pveTiming, SimCluster } from "./Cluster.js"
import { control } from "./Control.js"
import type { SimGuest, SimNode, SimState } from "./Model.js"
import { failNode, setNodeOnline } from "./Nodes.js"
import { answer } from "./PveApi.js"
import type { SimTask } from "./Tasks.js"

export type FaultMode = "500" | "595" | "hang" | "garbage" | "401" | "nulldata"

export interface Fault {
  mode: FaultMode
  /** Faults left to inject; undefined means until cleared. */
  remaining?: number | undefined
  /** Only requests whose API path starts with this. */
  path?: string | undefined
}

export interface SimulatorOptions {
  readonly token?: string | undefined
  /** Serve HTTPS with this key and certificate, as a real PVE node does on 8006. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer; readonly maxVersion?: SecureVersion } | undefined
  /** Close idle keep-alive connections after this long (Node's default otherwise). */
  readonly keepAliveTimeoutMs?: number | undefined
  /** Delays of the cluster's own clockwork; PVE's by default. */
  readonly timing?: Partial<ClusterTiming> | undefined
  /** Milliseconds since the epoch: the simulator's clock. */
  readonly now?: (() => number) | undefined
}

const json = (res: Http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json;charset=UTF-8" })
  res.end(JSON.stringify(body))
}

const readBody = (req: Http.IncomingMessage) =>
  new Promise<Record<string, unknown>>((resolve) => {
    let text = ""
    req.on("data", (c) => (text += c))
    req.on("end", () => {
      try {
        const value: unknown = text === "" ? {} : JSON.parse(text)
        resolve(typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {})
      } catch {
        resolve({})
      }
    })
  })

export class PveSimulator {
  readonly cluster: SimCluster
  fault: Fault | undefined
  private server: Http.Server | undefined
  /** Requests served per API path, for tests that count polls. */
  readonly hits = new Map<string, number>()
  /** TLS handshakes seen: full ones, and resumed sessions (tickets). */
  readonly tlsSessions = { full: 0, resumed: 0 }
  /** TCP connections accepted, including ones a client dropped during the TLS handshake. */
  connections = 0

  constructor(readonly options: SimulatorOptions = {}, initial?: SimState) {
    const now = options.now ?? wallClock
    this.cluster = new SimCluster(now, { ...pveTiming, ...options.timing }, initial)
  }

  get state(): SimState {
    return this.cluster.state
  }

  /** Every task any node ran, oldest first. */
  get tasks(): ReadonlyArray<SimTask> {
    return this.cluster.tasks
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
    const tls = this.options.tls
    const server = tls ? Https.createServer({ key: tls.key, cert: tls.cert, maxVersion: tls.maxVersion ?? "TLSv1.3" }, handler) : Http.createServer(handler)
    if (tls) {
      server.on("secureConnection", (socket: TLSSocket) => {
        if (socket.isSessionReused()) this.tlsSessions.resumed++
        else this.tlsSessions.full++
      })
    }
    server.on("connection", () => this.connections++)
    if (this.options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = this.options.keepAliveTimeoutMs
    this.server = server
    return new Promise((resolve) => server.listen(port, host, () => resolve(this.url)))
  }

  stop(): Promise<void> {
    this.cluster.dispose()
    return new Promise((resolve) => {
      if (this.server === undefined) return resolve()
      this.server.closeAllConnections()
      this.server.close(() => resolve())
    })
  }

  // The cluster, for scripts and tests -----------------------------------------------------------

  guest(vmid: number): SimGuest {
    return this.cluster.guest(vmid)
  }

  node(name: string): SimNode {
    return this.cluster.node(name)
  }

  /** A guest stopping with no task behind it: what a crash looks like from the API. */
  crash(vmid: number) {
    this.cluster.crash(vmid)
  }

  /** An operator's shutdown (or stop) as `user`: the task is in the node's log while it runs. */
  operatorStop(vmid: number, type: "stop" | "shutdown" = "shutdown", user = "root@pam", durationMs?: number) {
    return this.cluster.operatorStop(vmid, type, user, durationMs)
  }

  startGuest(vmid: number, user = "root@pam") {
    return this.cluster.startGuest(vmid, user)
  }

  /** Takes a node offline (it fails: HA fences it and recovers its guests), or brings it back (it boots). */
  setNodeOnline(name: string, online: boolean) {
    setNodeOnline(this.cluster, name, online)
  }

  failNode(name: string) {
    failNode(this.cluster, name)
  }

  setNodeMetrics(name: string, metrics: { cpu?: number; memPercent?: number; diskPercent?: number }) {
    control(this.cluster, "POST", `/_sim/nodes/${name}/metrics`, metrics)
  }

  fillStorage(node: string, storage: string, percent: number) {
    this.cluster.pool(node, storage).used = (this.cluster.pool(node, storage).total * percent) / 100
  }

  setFault(fault: Fault | undefined) {
    this.fault = fault
  }

  // -------------------------------------------------------------------------------------------

  /** The user a token authenticates as, `USER@REALM!TOKENID`, from `PVEAPIToken=USER@REALM!TOKENID=SECRET`. */
  private userOf(req: Http.IncomingMessage) {
    return /^PVEAPIToken=([^=]+)=/.exec(req.headers.authorization ?? "")?.[1] ?? "root@pam"
  }

  private async handle(req: Http.IncomingMessage, res: Http.ServerResponse) {
    const url = new URL(req.url ?? "/", "http://sim")
    const path = url.pathname
    if (path.startsWith("/_sim")) {
      const body = req.method === "POST" ? await readBody(req) : {}
      if (path === "/_sim/fault") {
        this.setFault(req.method === "DELETE" ? undefined : (body as unknown as Fault))
        return json(res, 200, { fault: this.fault ?? null })
      }
      try {
        const result = control(this.cluster, req.method ?? "GET", path, body)
        return result === undefined ? json(res, 404, { error: `unknown control ${req.method} ${path}` }) : json(res, result.status, result.body)
      } catch (e) {
        return json(res, 400, { error: (e as Error).message })
      }
    }
    if (!path.startsWith("/api2/json/")) return json(res, 404, { data: null })
    const api = path.slice("/api2/json".length)
    this.hits.set(api, (this.hits.get(api) ?? 0) + 1)

    const fault = this.fault
    if (fault !== undefined && (fault.path === undefined || api.startsWith(fault.path))) {
      if (fault.remaining !== undefined && --fault.remaining <= 0) this.fault = undefined
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
    const result = answer(this.cluster, req.method ?? "GET", api, url, this.userOf(req))
    if (result === undefined) return json(res, 501, { data: null, errors: { path: `the simulator has no ${req.method} ${api}` } })
    if (result.reason !== undefined) {
      res.writeHead(result.status, result.reason)
      return res.end()
    }
    return json(res, result.status, result.body)
  }
}
