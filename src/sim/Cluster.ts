/**
 * The simulated cluster and what happens in it, the way Proxmox VE records it:
 * - an operator's stop, shutdown, reboot or migration is a task (`qmshutdown`, ...) by that user,
 *   running for as long as it takes; on an HA-managed guest it is an `hastop`/`hastart`/`hamigrate`
 *   by the user, then the real task by `root@pam` from HA's resource agent;
 * - a crash, and a shutdown or reboot from inside the guest, leave no task at all;
 * - HA restarts a guest that went down (a `qmstart` by `root@pam`), and after a node failure
 *   fences the node and recovers its guests on another node (the guest's node changes, and the
 *   start is a task on the new node); fencing and recovery themselves leave no task;
 * Node failures and boots are in Nodes.ts. Times come from the simulator's clock; delays are real timers, cleared on `dispose`.
 */
import { defaultCluster, type SimGuest, type SimNode, type SimState, type SimStorage } from "./Model.js"
import { encodeUpid, type SimTask } from "./Tasks.js"
import { vzdump } from "./Backups.js"

export interface ClusterTiming {
  /** How long a node's last figures stay visible after it went offline (PVE: 5 minutes). */
  readonly staleAfterMs: number
  /** After a node went offline, when HA fences it (PVE: about 60 s). */
  readonly fenceAfterMs: number
  /** After a node went offline, when HA recovers its guests elsewhere (PVE: about 2 minutes). */
  readonly recoverAfterMs: number
  /** How long a start, stop or shutdown task runs. */
  readonly taskMs: number
}

export const pveTiming: ClusterTiming = { staleAfterMs: 300_000, fenceAfterMs: 60_000, recoverAfterMs: 120_000, taskMs: 0 }

let pidCounter = 0x1000

export class SimCluster {
  state: SimState
  readonly tasks: Array<SimTask> = []
  /** Finished tasks per node, newest finished first (PVE's archive, read backwards). */
  readonly archive = new Map<string, Array<SimTask>>()
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()

  constructor(readonly now: () => number, readonly timing: ClusterTiming, initial?: SimState) {
    this.state = initial ?? defaultCluster(now())
  }

  dispose() {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  reset() {
    this.dispose()
    this.state = defaultCluster(this.now())
    this.tasks.length = 0
    this.archive.clear()
  }

  /** Runs `f` after `ms` (at once when 0), unless the simulator is reset or stopped first. */
  later(ms: number, f: () => void) {
    if (ms <= 0) return f()
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      f()
    }, ms)
    this.timers.add(timer)
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

  pool(node: string, storage: string): SimStorage {
    const p = this.state.storage.find((s) => s.node === node && s.storage === storage)
    if (p === undefined) throw new Error(`no storage ${node}/${storage}`)
    return p
  }

  // Tasks ---------------------------------------------------------------------------------------

  /** Starts a task; `finish` ends it (with its status, OK by default) and archives it. */
  begin(node: string, type: string, id: string, user: string, firstLine?: string) {
    const [name, tokenid] = user.split("!") as [string, string | undefined]
    const fields = { node, pid: ++pidCounter, pstart: 1_000_000 + pidCounter, starttime: Math.floor(this.now() / 1000), type, id, user: name, tokenid }
    const task: SimTask = { ...fields, upid: encodeUpid(fields), log: firstLine === undefined ? [] : [firstLine] }
    this.tasks.push(task)
    const finish = (status = "OK") => {
      if (task.endtime !== undefined) return
      task.endtime = Math.floor(this.now() / 1000)
      task.status = status
      task.log.push(status === "OK" ? "TASK OK" : /^WARNINGS/.test(status) ? `TASK ${status}` : `TASK ERROR: ${status}`)
      this.archiveTask(task)
    }
    return { task, finish }
  }

  archiveTask(task: SimTask) {
    const list = this.archive.get(task.node) ?? []
    list.unshift(task)
    this.archive.set(task.node, list)
  }

  /** The node's running tasks, oldest first. */
  active(node: string) {
    return this.tasks.filter((t) => t.node === node && t.endtime === undefined)
  }

  // Guests --------------------------------------------------------------------------------------

  /** The guest runs under a new process. */
  run(g: SimGuest) {
    g.status = "running"
    g.startedAt = this.now()
    g.cpu = 0.02
    g.mem = g.maxmem / 2
  }

  /** The guest stops. */
  halt(g: SimGuest) {
    g.status = "stopped"
    g.startedAt = undefined
    g.cpu = 0
    g.mem = 0
  }

  /** `qm` for VMs, `vz` for containers: the prefix of their task types. */
  prefix(g: SimGuest) {
    return g.kind === "qemu" ? "qm" : "vz"
  }

  /** The guest stops with no task behind it: what a crash looks like from the API. */
  crash(vmid: number) {
    const g = this.guest(vmid)
    this.halt(g)
    // HA notices within a round of its manager and starts it again (a task by root@pam).
    if (g.ha?.requestState === "started") this.later(this.timing.taskMs + 50, () => this.haStart(g))
  }

  /** `poweroff` inside the guest: PVE records no task, so the API shows what a crash shows. */
  shutdownInside(vmid: number) {
    const g = this.guest(vmid)
    this.halt(g)
  }

  /**
   * `reboot` inside the guest: no task. A container's init starts anew (its uptime resets); a
   * VM's QEMU process keeps running (PVE's default `reboot: 1`), so nothing changes in the API.
   */
  rebootInside(vmid: number) {
    const g = this.guest(vmid)
    if (g.kind === "lxc" && g.status === "running") g.startedAt = this.now()
  }

  /** HA starts the guest: a `qmstart`/`vzstart` by root@pam on its node, marked as HA's. */
  haStart(g: SimGuest) {
    if (g.status === "running") return
    const { finish } = this.begin(g.node, `${this.prefix(g)}start`, String(g.vmid), "root@pam", "task started by HA resource agent")
    this.run(g)
    if (g.ha !== undefined) g.ha.state = "started"
    finish()
  }

  /** A crash and HA's restart between two polls: only the uptime (and HA's start task) show it. */
  crashAndHaRestart(vmid: number) {
    const g = this.guest(vmid)
    this.halt(g)
    this.haStart(g)
  }

  /** Starts a guest through the API as `user`; on an HA-managed guest, HA does it (`hastart`). */
  startGuest(vmid: number, user = "root@pam", delayMs = this.timing.taskMs): SimTask {
    const g = this.guest(vmid)
    if (g.ha !== undefined) {
      const request = this.begin(g.node, "hastart", String(vmid), user)
      g.ha.requestState = "started"
      request.finish()
      this.later(delayMs, () => this.haStart(g))
      return request.task
    }
    const { finish, task } = this.begin(g.node, `${this.prefix(g)}start`, String(vmid), user)
    this.later(delayMs, () => {
      if (g.startFails) return finish("start failed: QEMU exited with code 1")
      this.run(g)
      finish()
    })
    return task
  }

  /**
   * An operator's stop or shutdown through the API, as `user`: the task runs for `durationMs`, and
   * the guest stops when it ends. On an HA-managed guest the user's task is `hastop`, and HA's
   * resource agent runs the shutdown as root@pam.
   */
  operatorStop(vmid: number, type: "stop" | "shutdown" = "shutdown", user = "root@pam", durationMs = this.timing.taskMs): SimTask {
    const g = this.guest(vmid)
    let runner = user
    let firstLine: string | undefined
    let requested: SimTask | undefined
    if (g.ha !== undefined) {
      const request = this.begin(g.node, "hastop", String(vmid), user)
      g.ha.requestState = "stopped"
      g.ha.state = "request_stop"
      request.finish()
      requested = request.task
      runner = "root@pam"
      firstLine = "task started by HA resource agent"
    }
    const { finish, task } = this.begin(g.node, `${this.prefix(g)}${type}`, String(vmid), runner, firstLine)
    this.later(durationMs, () => {
      this.halt(g)
      if (g.ha !== undefined) g.ha.state = "stopped"
      finish()
    })
    return requested ?? task
  }

  /** A reboot through the API: `qmreboot` by the user, then the start by root@pam; a container's is one `vzreboot`. */
  operatorReboot(vmid: number, user = "root@pam"): SimTask {
    const g = this.guest(vmid)
    const { finish, task } = this.begin(g.node, `${this.prefix(g)}reboot`, String(vmid), user)
    this.halt(g)
    finish()
    if (g.kind === "qemu") {
      const start = this.begin(g.node, "qmstart", String(vmid), "root@pam")
      this.run(g)
      start.finish()
    } else {
      this.run(g)
    }
    return task
  }

  /**
   * A migration to `target` by `user`: the task runs on the source node; a live one leaves the
   * guest running under a new QEMU process on the target (with PVE's `qmstart`/`qmresume` there).
   */
  migrate(vmid: number, target: string, user = "root@pam") {
    const g = this.guest(vmid)
    const running = g.status === "running"
    if (g.ha !== undefined) {
      const request = this.begin(g.node, "hamigrate", String(vmid), user)
      request.finish()
      user = "root@pam"
    }
    const { finish } = this.begin(g.node, `${this.prefix(g)}${g.kind === "qemu" ? "igrate" : "migrate"}`, String(vmid), user)
    g.node = target
    if (running && g.kind === "qemu") {
      this.begin(target, "qmstart", String(vmid), "root@pam").finish()
      this.begin(target, "qmresume", String(vmid), "root@pam").finish()
      g.startedAt = this.now()
    } else if (running) {
      // Containers migrate offline: stopped on the source, started on the target.
      g.startedAt = this.now()
    }
    finish()
  }

  /**
   * A backup of one guest (a `vzdump` task whose id is the vmid): the guest is locked while it
   * runs; `stop` mode stops it and starts it again at the end, `suspend` mode pauses it.
   */
  backup(vmid: number, mode: "snapshot" | "suspend" | "stop" = "stop", durationMs = this.timing.taskMs, user = "root@pam") {
    const g = this.guest(vmid)
    const wasRunning = g.status === "running"
    g.lock = "backup"
    if (wasRunning && mode === "stop") this.halt(g)
    if (wasRunning && mode === "suspend") g.status = "paused"
    // The task runs for durationMs; what it logs and writes is vzdump's (Backups.vzdump).
    const { finish, task } = this.begin(g.node, "vzdump", String(vmid), user)
    this.later(durationMs, () => {
      g.lock = undefined
      if (wasRunning && mode === "stop") this.run(g)
      if (wasRunning && mode === "suspend") g.status = "running"
      const run = vzdump(this, g.node, [vmid], "local", mode, `vzdump ${vmid} --mode ${mode} --storage local`)
      task.log.push(...run.log)
      finish(run.status)
    })
    return task
  }
}
