/**
 * Picking up where a previous run (or another instance) left off (pure): given the state seeded
 * from the first snapshot and the incidents still open, conditions that still hold are carried
 * over (a guest still stopped stays "crashed", so its start resolves the incident) and those that
 * no longer hold are reported as recovered. Nothing already open is reported again.
 */
import type { GuestKind, HaService } from "../domain/Snapshot.js"
import type { NodeMemory, StateChange, WatchState } from "./Diff.js"
import type { GuestMemory } from "./GuestWatch.js"

/** An open incident as reconciliation needs it. */
export interface OpenCondition {
  readonly condition: string
  readonly target: string
}

/** `qemu/100` → `vm:100`. */
const sidOfTarget = (target: string) => target.replace(/^qemu\//, "vm:").replace(/^lxc\//, "ct:")

const missingGuest = (target: string): GuestMemory => {
  const [kind, vmid] = target.split("/")
  return {
    kind: (kind === "lxc" ? "lxc" : "qemu") as GuestKind,
    vmid: Number(vmid),
    name: target,
    node: "",
    status: "unknown",
    uptime: undefined,
    lock: undefined,
    lockSince: undefined,
    lockStuck: false,
    hastate: undefined,
    crashed: true,
    outage: undefined,
    cause: undefined
  }
}

export const reconcile = (
  state: WatchState,
  open: ReadonlyArray<OpenCondition>
): { readonly state: WatchState; readonly changes: ReadonlyArray<StateChange> } => {
  const guests = new Map(state.guests)
  const nodes = new Map(state.nodes)
  const storage = new Map(state.storage)
  let quorate = state.quorate
  const changes: Array<StateChange> = []
  for (const incident of open) {
    const rest = incident.target.split("/").slice(1)
    switch (incident.condition) {
      case "NODE_UNREACHABLE": {
        const node = rest.join("/")
        const known = nodes.get(node)
        if (known?.status !== "offline") {
          changes.push({ _tag: "NodeOnline", node, from: "offline", downForMs: 0 })
          break
        }
        // Guests still shown running on it (PVE's cache keeps them a while) are followed.
        for (const [key, g] of guests) {
          if (g.node === node && g.status === "running") guests.set(key, { ...g, outage: { node, since: known.since, nodeBackAt: undefined } })
        }
        break
      }
      case "NODE_FENCED": {
        const node = rest.join("/")
        const known: NodeMemory | undefined = nodes.get(node)
        if (known?.hastate !== "fence") changes.push({ _tag: "NodeHaChanged", node, from: "fence", to: known?.hastate ?? "unknown" })
        break
      }
      case "VM_CRASHED":
      case "CT_CRASHED": {
        const guest = guests.get(incident.target)
        if (guest !== undefined && guest.status !== "running") guests.set(incident.target, { ...guest, crashed: true })
        else if (guest !== undefined) changes.push({ _tag: "GuestStarted", guest, wasCrashed: true, cause: undefined })
        else changes.push({ _tag: "GuestRemoved", guest: missingGuest(incident.target) })
        break
      }
      case "GUEST_LOCK_STUCK": {
        const guest = guests.get(incident.target)
        if (guest?.lock !== undefined) guests.set(incident.target, { ...guest, lockStuck: true })
        else changes.push({ _tag: "GuestLockReleased", guest: guest ?? missingGuest(incident.target), lock: "" })
        break
      }
      case "HA_ERROR":
      case "HA_FENCED": {
        const sid = sidOfTarget(incident.target)
        const was = incident.condition === "HA_ERROR" ? "error" : "fence"
        const now: HaService | undefined = state.ha.get(sid)
        if (now?.state !== was) {
          const [node] = rest
          changes.push({ _tag: "HaServiceChanged", service: now ?? { sid, node: node ?? "", state: "unknown" }, from: was })
        }
        break
      }
      case "QUORUM_LOST":
        if (quorate === true) changes.push({ _tag: "QuorumRegained" })
        else quorate = false
        break
      case "STORAGE_UNAVAILABLE": {
        const [node, ...name] = rest
        const pool = storage.get(incident.target)
        if (pool?.available === false) storage.set(incident.target, { ...pool, reported: true })
        else changes.push({ _tag: "StorageAvailable", node: node!, storage: name.join("/") })
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
  return { state: { ...state, guests, nodes, storage, quorate }, changes }
}
