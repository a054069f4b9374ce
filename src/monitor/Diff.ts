/**
 * State changes between two snapshots (pure): nodes going offline and back, guests crashing
 * (running → stopped) and starting, appearing, disappearing and moving, services stopping,
 * port conflicts appearing. The first snapshot only seeds the state: what was already down when
 * vigil started watching is not news.
 */
import type { Guest, GuestStatus, NodeStatus, Snapshot } from "../domain/Snapshot.js"
import { guestKey } from "../domain/Snapshot.js"

export interface GuestMemory {
  readonly status: GuestStatus
  readonly node: string
  readonly name: string
  readonly kind: Guest["kind"]
  readonly vmid: number
  /** Seen running, then stopped, and not running since. */
  readonly crashed: boolean
}

export interface WatchState {
  readonly nodes: ReadonlyMap<string, NodeStatus>
  readonly guests: ReadonlyMap<string, GuestMemory>
  /** `node/service` → running. */
  readonly services: ReadonlyMap<string, boolean>
  /** Ports in conflict, with the process names involved. */
  readonly portConflicts: ReadonlyMap<number, string>
}

export type StateChange =
  | { readonly _tag: "NodeOffline"; readonly node: string; readonly from: NodeStatus }
  | { readonly _tag: "NodeOnline"; readonly node: string; readonly from: NodeStatus }
  | { readonly _tag: "GuestCrashed"; readonly guest: GuestMemory }
  | { readonly _tag: "GuestStarted"; readonly guest: GuestMemory; readonly wasCrashed: boolean }
  | { readonly _tag: "GuestAdded"; readonly guest: GuestMemory }
  | { readonly _tag: "GuestRemoved"; readonly guest: GuestMemory }
  | { readonly _tag: "GuestMoved"; readonly guest: GuestMemory; readonly from: string }
  | { readonly _tag: "ServiceDown"; readonly node: string; readonly service: string }
  | { readonly _tag: "ServiceUp"; readonly node: string; readonly service: string }
  | { readonly _tag: "PortConflict"; readonly port: number; readonly processes: string }
  | { readonly _tag: "PortConflictResolved"; readonly port: number; readonly processes: string }

const remember = (g: Guest, crashed: boolean): GuestMemory => ({
  status: g.status,
  node: g.node,
  name: g.name,
  kind: g.kind,
  vmid: g.vmid,
  crashed
})

const serviceKey = (node: string, name: string) => `${node}/${name}`

/** The state a snapshot implies when there is nothing before it. */
export const seed = (snapshot: Snapshot): WatchState => ({
  nodes: new Map(snapshot.nodes.map((n) => [n.name, n.status])),
  guests: new Map(snapshot.guests.map((g) => [guestKey(g), remember(g, false)])),
  services: new Map(snapshot.services.map((s) => [serviceKey(s.node, s.name), s.running])),
  portConflicts: new Map(snapshot.portConflicts.map((c) => [c.port, c.processes.map((p) => p.name).join(", ")]))
})

/**
 * Compares a snapshot with what was known. With no previous state it seeds and reports nothing.
 * Identical snapshots report nothing; a guest that moved node is a move, never a crash.
 */
export const diff = (previous: WatchState | undefined, snapshot: Snapshot): {
  readonly state: WatchState
  readonly changes: ReadonlyArray<StateChange>
} => {
  if (previous === undefined) return { state: seed(snapshot), changes: [] }
  const changes: Array<StateChange> = []

  const nodes = new Map<string, NodeStatus>()
  for (const n of snapshot.nodes) {
    nodes.set(n.name, n.status)
    const before = previous.nodes.get(n.name)
    if (before === undefined || before === n.status) continue
    if (n.status === "offline") changes.push({ _tag: "NodeOffline", node: n.name, from: before })
    else if (n.status === "online" && before === "offline") changes.push({ _tag: "NodeOnline", node: n.name, from: before })
  }
  // A node the cluster no longer lists is forgotten, not reported offline: removal from the
  // cluster is an administrative act, not an outage.

  const guests = new Map<string, GuestMemory>()
  for (const g of snapshot.guests) {
    const key = guestKey(g)
    const before = previous.guests.get(key)
    if (before === undefined) {
      const now = remember(g, false)
      guests.set(key, now)
      changes.push({ _tag: "GuestAdded", guest: now })
      continue
    }
    let crashed = before.crashed
    if (before.node !== g.node) {
      changes.push({ _tag: "GuestMoved", guest: remember(g, crashed), from: before.node })
    }
    if (before.status === "running" && g.status === "stopped") {
      crashed = true
      changes.push({ _tag: "GuestCrashed", guest: remember(g, true) })
    } else if (g.status === "running" && before.status !== "running") {
      changes.push({ _tag: "GuestStarted", guest: remember(g, false), wasCrashed: before.crashed })
      crashed = false
    }
    const unchanged = before.status === g.status && before.node === g.node && before.name === g.name && before.crashed === crashed
    guests.set(key, unchanged ? before : remember(g, crashed))
  }
  for (const [key, before] of previous.guests) {
    if (!guests.has(key)) changes.push({ _tag: "GuestRemoved", guest: before })
  }

  const services = new Map<string, boolean>()
  for (const s of snapshot.services) {
    const key = serviceKey(s.node, s.name)
    services.set(key, s.running)
    const before = previous.services.get(key)
    if (before === true && !s.running) changes.push({ _tag: "ServiceDown", node: s.node, service: s.name })
    else if (before === false && s.running) changes.push({ _tag: "ServiceUp", node: s.node, service: s.name })
  }

  const portConflicts = new Map<number, string>()
  for (const c of snapshot.portConflicts) {
    const processes = c.processes.map((p) => p.name).join(", ")
    portConflicts.set(c.port, processes)
    if (!previous.portConflicts.has(c.port)) changes.push({ _tag: "PortConflict", port: c.port, processes })
  }
  for (const [port, processes] of previous.portConflicts) {
    if (!portConflicts.has(port)) changes.push({ _tag: "PortConflictResolved", port, processes })
  }

  return { state: { nodes, guests, services, portConflicts }, changes }
}

/** An open incident as reconciliation needs it. */
export interface OpenCondition {
  readonly condition: string
  readonly target: string
}

/**
 * Picks up where a previous run (or another instance) left off: given the state seeded from the
 * first snapshot and the incidents still open, conditions that still hold are carried over (a
 * guest still stopped stays "crashed", so its start resolves the incident) and those that no
 * longer hold are reported as recovered. Nothing already open is reported again.
 */
export const reconcile = (
  state: WatchState,
  open: ReadonlyArray<OpenCondition>
): { readonly state: WatchState; readonly changes: ReadonlyArray<StateChange> } => {
  const guests = new Map(state.guests)
  const changes: Array<StateChange> = []
  for (const incident of open) {
    const [kindOrScope, ...rest] = incident.target.split("/")
    switch (incident.condition) {
      case "NODE_UNREACHABLE": {
        const node = rest.join("/")
        const status = state.nodes.get(node)
        if (status !== "offline") changes.push({ _tag: "NodeOnline", node, from: "offline" })
        break
      }
      case "VM_CRASHED":
      case "CT_CRASHED": {
        const guest = guests.get(incident.target)
        if (guest !== undefined && guest.status === "stopped") {
          guests.set(incident.target, { ...guest, crashed: true })
        } else if (guest !== undefined) {
          changes.push({ _tag: "GuestStarted", guest, wasCrashed: true })
        } else {
          const vmid = Number(rest[0])
          changes.push({
            _tag: "GuestRemoved",
            guest: { kind: kindOrScope === "lxc" ? "lxc" : "qemu", vmid, name: `${kindOrScope}-${vmid}`, node: "", status: "unknown", crashed: true }
          })
        }
        break
      }
      case "SERVICE_DOWN": {
        const [node, ...name] = rest
        if (state.services.get(`${node}/${name.join("/")}`) !== false) {
          changes.push({ _tag: "ServiceUp", node: node!, service: name.join("/") })
        }
        break
      }
      case "PORT_CONFLICT": {
        const port = Number(rest[0])
        if (!state.portConflicts.has(port)) changes.push({ _tag: "PortConflictResolved", port, processes: "" })
        break
      }
    }
  }
  return { state: { ...state, guests }, changes }
}
