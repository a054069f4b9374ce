/**
 * The simulated cluster's state: nodes, guests, storage, HA resources, as plain data, and the
 * default three-node cluster. Times are epoch milliseconds from the simulator's clock.
 */
import { healthyCeph, type SimCeph } from "./StorageHealth.js"
import type { Acl } from "./Permissions.js"
import type { SimBackupJob, SimBackupVolume } from "./Backups.js"

export interface SimNode {
  name: string
  status: "online" | "offline"
  cpu: number
  maxcpu: number
  mem: number
  maxmem: number
  disk: number
  maxdisk: number
  bootedAt: number
  /** When it went offline; what it reported before stays visible for a while (PVE's stale cache). */
  offlineSince?: number | undefined
  /** An operator put it in HA maintenance mode. */
  maintenance?: boolean | undefined
  /** HA fenced it (set by the fencing timeline). */
  fenced?: boolean | undefined
  /** Package updates `apt` would install (pve-manager's APT.pm fields). */
  updates?: Array<{ Package: string; Title: string; Version: string; OldVersion: string; Origin: string; Priority: string; Section: string; Arch: string }> | undefined
  /** Its physical disks and what SMART says of them. */
  disks?: Array<SimDisk> | undefined
  /** Its ZFS pools as `zpool list` reports them; undefined: zfsutils not installed. */
  zfs?: Array<SimZfsPool> | undefined
}

export interface SimReplicationJob {
  /** `<vmid>-<jobnum>` */
  id: string
  guest: number
  target: string
  lastSync: number
  failCount: number
  error?: string | undefined
  disable?: boolean | undefined
}

export interface SimDisk {
  devpath: string
  model: string
  serial: string
  type: "ssd" | "hdd" | "nvme"
  size: number
  /** PASSED, OK, UNKNOWN, FAILED! */
  health: string
  /** Life left, percent, or "N/A" (spinning disks). */
  wearout: number | "N/A"
}

export interface SimZfsPool {
  name: string
  /** ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED, SUSPENDED. */
  health: string
  size: number
  alloc: number
}

export interface SimHa {
  /** What the resource is asked to be. */
  requestState: "started" | "stopped" | "disabled" | "ignored"
  /** The HA manager's state: started, stopped, request_stop, fence, recovery, migrate, error, ... */
  state: string
}

export interface SimGuest {
  kind: "qemu" | "lxc"
  vmid: number
  name: string
  node: string
  status: "running" | "stopped" | "paused" | "suspended" | "prelaunch" | "guest-panicked"
  cpu: number
  mem: number
  maxmem: number
  disk: number
  maxdisk: number
  /** When its current process started (uptime counts from here); undefined when stopped. */
  startedAt?: number | undefined
  lock?: string | undefined
  tags?: string | undefined
  template?: boolean | undefined
  /** Started again when its node boots (PVE's `onboot`). */
  onboot?: boolean | undefined
  /** HA-managed when set. */
  ha?: SimHa | undefined
  /** Starting it fails (the task ends with an error): a guest that keeps crashing. */
  startFails?: boolean | undefined
  /** Its backups fail with this error (vzdump logs `ERROR: Backup of VM … failed - <this>`). */
  backupFails?: string | undefined
  /** The resource pool it belongs to. */
  pool?: string | undefined
}

export interface SimStorage {
  node: string
  storage: string
  /** PVE says `available` while the node reports the storage active, `unknown` otherwise. */
  status: "available" | "unknown"
  used: number
  total: number
  shared: boolean
  type: string
}

export interface SimState {
  nodes: Array<SimNode>
  guests: Array<SimGuest>
  storage: Array<SimStorage>
  /** Forced quorum (a scripted loss); undefined: a majority of nodes online. */
  quorumOverride?: boolean | undefined
  /** What the API token may do; undefined: everything, as a root@pam token. */
  acl?: Acl | undefined
  /** Storage replication jobs (listed by the node their guest runs on). */
  replication?: Array<SimReplicationJob> | undefined
  /** Ceph's health; undefined: Ceph is not installed. */
  ceph?: SimCeph | undefined
  /** vzdump jobs (`jobs.cfg`), and the archives on backup storages. */
  backupJobs?: Array<SimBackupJob> | undefined
  backups?: Array<SimBackupVolume> | undefined
}

const GiB = 1024 ** 3

export const defaultCluster = (now: number): SimState => {
  const node = (name: string, cpu: number, memGiB: number, diskGiB: number): SimNode => ({
    name, status: "online", cpu, maxcpu: 16, mem: memGiB * GiB, maxmem: 64 * GiB, disk: diskGiB * GiB, maxdisk: 100 * GiB,
    bootedAt: now - 864_000_000,
    disks: [
      { devpath: "/dev/nvme0n1", model: "Samsung SSD 980 PRO 1TB", serial: `S5GXNX0W${name.toUpperCase()}01`, type: "nvme", size: 1000 * GiB, health: "PASSED", wearout: 97 },
      { devpath: "/dev/sda", model: "ST4000NM000A-2HZ100", serial: `WJG0${name.toUpperCase()}A`, type: "hdd", size: 4000 * GiB, health: "PASSED", wearout: "N/A" }
    ],
    // A root pool, as the installer makes on ZFS.
    zfs: [{ name: "rpool", health: "ONLINE", size: 480 * GiB, alloc: diskGiB * GiB }]
  })
  const guest = (kind: "qemu" | "lxc", vmid: number, name: string, nodeName: string, extra: Partial<SimGuest> = {}): SimGuest => ({
    kind, vmid, name, node: nodeName, status: "running", cpu: 0.05, mem: 2 * GiB, maxmem: 4 * GiB, disk: 0, maxdisk: 32 * GiB,
    startedAt: now - 3_600_000, onboot: true, ...extra
  })
  const pools = (n: string): Array<SimStorage> => [
    { node: n, storage: "local", status: "available", used: 20 * GiB, total: 100 * GiB, shared: false, type: "dir" },
    { node: n, storage: "local-lvm", status: "available", used: 200 * GiB, total: 800 * GiB, shared: false, type: "lvmthin" },
    { node: n, storage: "ceph", status: "available", used: 3000 * GiB, total: 10000 * GiB, shared: true, type: "rbd" }
  ]
  const guests = [
    guest("qemu", 100, "web", "pve1", { tags: "web;prod" }),
    guest("qemu", 101, "db", "pve1", { tags: "db;prod", mem: 3 * GiB }),
    guest("lxc", 102, "cache", "pve2", { disk: 2 * GiB, maxdisk: 8 * GiB }),
    guest("qemu", 103, "worker", "pve2", { ha: { requestState: "started", state: "started" } }),
    guest("lxc", 104, "backup", "pve3", { status: "stopped", mem: 0, cpu: 0, startedAt: undefined, onboot: false }),
    guest("qemu", 9000, "debian-template", "pve3", { status: "stopped", template: true, mem: 0, cpu: 0, startedAt: undefined, onboot: false })
  ]
  return {
    nodes: [node("pve1", 0.12, 24, 30), node("pve2", 0.3, 40, 45), node("pve3", 0.05, 10, 20)],
    guests,
    storage: ["pve1", "pve2", "pve3"].flatMap(pools),
    replication: [{ id: "101-0", guest: 101, target: "pve2", lastSync: Math.floor(now / 1000) - 300, failCount: 0 }],
    // The pools include an RBD storage: this cluster runs Ceph.
    ceph: healthyCeph(),
    // A nightly job over every guest to each node's local storage, which ran last night.
    backupJobs: [{ id: "backup-5f8e2c1a-9b3d", schedule: "21:00", enabled: true, all: true, storage: "local", mode: "snapshot" }],
    backups: guests.map((g) => ({ storage: "local", node: g.node, vmid: g.vmid, kind: g.kind, ctime: Math.floor(now / 1000) - 4 * 3600 - g.vmid % 60, size: g.maxdisk / 8 }))
  }
}

/** Seconds since the guest's process started, 0 when it does not run. */
export const uptimeOf = (g: SimGuest, at: number) => (g.startedAt === undefined ? 0 : Math.max(0, Math.floor((at - g.startedAt) / 1000)))

/** `vm:100` / `ct:102`. */
export const sidOf = (g: SimGuest) => `${g.kind === "qemu" ? "vm" : "ct"}:${g.vmid}`

/** HA is in use when any resource is HA-managed; only then do nodes have an HA state. */
export const haInUse = (state: SimState) => state.guests.some((g) => g.ha !== undefined)

export const quorate = (state: SimState) =>
  state.quorumOverride ?? state.nodes.filter((n) => n.status === "online").length * 2 > state.nodes.length

/** The HA manager's view of a node (pve-ha-manager NodeStatus): online, maintenance, unknown, fence. */
export const nodeHaState = (n: SimNode) =>
  n.status === "online" ? (n.maintenance ? "maintenance" : "online") : n.fenced ? "fence" : "unknown"
