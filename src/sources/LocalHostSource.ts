/**
 * The local host as a one-node cluster, so `npm start` with no configuration watches something
 * real: CPU from /proc/stat deltas, memory from /proc/meminfo, the root filesystem as the node's
 * disk, every real mounted filesystem as a storage pool (statfs), listening TCP ports held by more
 * than one process (port conflicts), and configured processes that should be running.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Duration from "effect/Duration"
import * as Ref from "effect/Ref"
import * as Fs from "node:fs"
import * as Os from "node:os"
import type { ClusterNode, PortConflict, ServiceCheck, Snapshot, StoragePool } from "../domain/Snapshot.js"
import { type ClusterSourceShape, SourceError } from "./ClusterSource.js"

interface CpuSample {
  readonly busy: number
  readonly total: number
}

const readCpu = (): CpuSample => {
  const line = Fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!
  const fields = line.trim().split(/\s+/).slice(1).map(Number)
  const total = fields.reduce((a, b) => a + b, 0)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  return { busy: total - idle, total }
}

const readMemory = () => {
  const info = Fs.readFileSync("/proc/meminfo", "utf8")
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(info)?.[1] ?? 0) * 1024
  const total = kb("MemTotal")
  return { total, used: total - kb("MemAvailable") }
}

/** Filesystems that hold data, as opposed to kernel and memory-backed ones. */
const realFilesystems = new Set([
  "ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "vfat", "exfat", "ntfs", "ntfs3", "f2fs", "jfs", "reiserfs",
  "nfs", "nfs4", "cifs", "fuse.sshfs", "ceph", "fuseblk"
])

const statfs = (path: string) => {
  const s = Fs.statfsSync(path)
  const total = s.blocks * s.bsize
  return { total, used: total - s.bfree * s.bsize }
}

const readStorage = (node: string): Array<StoragePool> => {
  const seen = new Set<string>()
  const pools: Array<StoragePool> = []
  for (const line of Fs.readFileSync("/proc/mounts", "utf8").split("\n")) {
    const [device, mountPoint, type] = line.split(" ")
    if (device === undefined || mountPoint === undefined || type === undefined) continue
    // The root of a container is an overlay: it is still the disk the host's users fill.
    if (!realFilesystems.has(type) && !(type === "overlay" && mountPoint === "/")) continue
    if (seen.has(device)) continue
    seen.add(device)
    try {
      const { total, used } = statfs(mountPoint.replace(/\\040/g, " "))
      if (total > 0) pools.push({ node, storage: mountPoint, status: "available", used, total, shared: type.startsWith("nfs") || type === "cifs", type })
    } catch {
      // A mount that vanished or is not readable is simply not a pool this time.
    }
  }
  return pools
}

const processName = (pid: string) => {
  try {
    return Fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim()
  } catch {
    return undefined
  }
}

const pids = () => Fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))

/** Listening TCP sockets by inode → port, from /proc/net/tcp and tcp6. */
const listeningSockets = (): Map<string, number> => {
  const sockets = new Map<string, number>()
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string
    try {
      text = Fs.readFileSync(file, "utf8")
    } catch {
      continue
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f[3] !== "0A") continue // LISTEN
      const port = parseInt(f[1]!.split(":")[1]!, 16)
      sockets.set(f[9]!, port)
    }
  }
  return sockets
}

/**
 * Ports with more than one listening socket owned by different processes (SO_REUSEPORT, or one
 * on 127.0.0.1 and another on [::]). Workers sharing one socket (nginx, node cluster) are one
 * socket, not a conflict.
 */
const readPortConflicts = (): Array<PortConflict> => {
  const sockets = listeningSockets()
  if (sockets.size === 0) return []
  const owners = new Map<string, Set<string>>()
  for (const pid of pids()) {
    let fds: Array<string>
    try {
      fds = Fs.readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      let link: string
      try {
        link = Fs.readlinkSync(`/proc/${pid}/fd/${fd}`)
      } catch {
        continue
      }
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1]
      if (inode === undefined || !sockets.has(inode)) continue
      if (!owners.has(inode)) owners.set(inode, new Set())
      owners.get(inode)!.add(pid)
    }
  }
  const byPort = new Map<number, Array<Set<string>>>()
  for (const [inode, port] of sockets) {
    const o = owners.get(inode)
    if (o === undefined) continue
    byPort.set(port, [...(byPort.get(port) ?? []), o])
  }
  const conflicts: Array<PortConflict> = []
  for (const [port, socketOwners] of byPort) {
    if (socketOwners.length < 2) continue
    const all = new Set(socketOwners.flatMap((s) => [...s]))
    const disjoint = socketOwners.some((a, i) => socketOwners.some((b, j) => i !== j && ![...a].some((p) => b.has(p))))
    if (!disjoint) continue
    conflicts.push({
      port,
      processes: [...all].sort().map((pid) => ({ pid: Number(pid), name: processName(pid) ?? "?" }))
    })
  }
  return conflicts.sort((a, b) => a.port - b.port)
}

const readServices = (node: string, names: ReadonlyArray<string>): Array<ServiceCheck> => {
  if (names.length === 0) return []
  const running = new Set(pids().map(processName))
  return names.map((name) => ({ node, name, running: running.has(name) }))
}

export const makeLocalHostSource = (localServices: ReadonlyArray<string>, sourceTimeout: Duration.Duration) =>
  Effect.gen(function*() {
    const lastCpu = yield* Ref.make<CpuSample | undefined>(undefined)
    const fail = (reason: string) => new SourceError({ source: "localhost", reason })
    const read = <A>(what: string, f: () => A) =>
      Effect.try({ try: f, catch: (e) => fail(`cannot read ${what}: ${(e as Error).message}`) })

    const cpuFraction = Effect.gen(function*() {
      let previous = yield* Ref.get(lastCpu)
      if (previous === undefined) {
        // First poll: two samples a moment apart, so the first snapshot already has a figure.
        previous = yield* read("/proc/stat", readCpu)
        yield* Effect.sleep("100 millis")
      }
      const now = yield* read("/proc/stat", readCpu)
      yield* Ref.set(lastCpu, now)
      const total = now.total - previous.total
      return total > 0 ? Math.min(1, Math.max(0, (now.busy - previous.busy) / total)) : 0
    })

    const snapshot = Effect.gen(function*() {
      const name = Os.hostname()
      const cpu = yield* cpuFraction
      const mem = yield* read("/proc/meminfo", readMemory)
      const root = yield* read("the root filesystem", () => statfs("/"))
      const uptime = yield* read("/proc/uptime", () => Number(Fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]))
      const node: ClusterNode = {
        name,
        status: "online",
        cpu,
        mem: mem.used,
        maxmem: mem.total,
        disk: root.used,
        maxdisk: root.total,
        uptime: Math.round(uptime)
      }
      const storage = yield* read("/proc/mounts", () => readStorage(name))
      const portConflicts = yield* read("listening sockets", readPortConflicts)
      const services = yield* read("processes", () => readServices(name, localServices))
      return {
        source: "localhost",
        takenAt: yield* Clock.currentTimeMillis,
        nodes: [node],
        guests: [],
        storage,
        portConflicts,
        services
      } satisfies Snapshot
    }).pipe(
      Effect.timeoutFail({ duration: sourceTimeout, onTimeout: () => fail("reading the host took too long") }),
      Effect.withSpan("LocalHostSource.snapshot")
    )
    return { name: "localhost", snapshot, taskLog: undefined } satisfies ClusterSourceShape
  })
