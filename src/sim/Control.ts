/**
 * The simulator's control API under `/_sim`: scripts what happens in the cluster (crashes,
 * operators' actions, backups, migrations, node failures, storage, quorum, HA) for `npm run sim`
 * users and for tests that drive the simulator from another process.
 */
import type { SimCeph } from "./StorageHealth.js"
import { runBackupJob } from "./Backups.js"
import type { SimCluster } from "./Cluster.js"
import { failNode, setNodeOnline } from "./Nodes.js"
import type { Acl } from "./Permissions.js"

export interface ControlAnswer {
  readonly status: number
  readonly body: unknown
}

type Body = Record<string, unknown>

const text = (body: Body, key: string) => (typeof body[key] === "string" ? (body[key] as string) : undefined)
const number = (body: Body, key: string) => (typeof body[key] === "number" ? (body[key] as number) : undefined)

export const control = (cluster: SimCluster, method: string, path: string, body: Body): ControlAnswer | undefined => {
  const done = (result: unknown = { ok: true }): ControlAnswer => ({ status: 200, body: result })
  let m: RegExpMatchArray | null
  if (method === "GET" && path === "/_sim/state") return done({ ...cluster.state, tasks: cluster.tasks })
  if (method !== "POST") return undefined
  if (path === "/_sim/permissions") {
    // The token's ACL, path → privilege → propagate (1/0), as `pveum acl modify` would leave it.
    cluster.state.acl = body as Acl
    return done()
  }
  if (path === "/_sim/reset") {
    cluster.reset()
    return done()
  }
  if ((m = path.match(/^\/_sim\/guests\/(\d+)\/([a-z-]+)$/))) {
    const vmid = Number(m[1])
    const user = text(body, "user") ?? "root@pam"
    switch (m[2]) {
      case "crash":
        cluster.crash(vmid)
        break
      case "shutdown-inside":
        cluster.shutdownInside(vmid)
        break
      case "reboot-inside":
        cluster.rebootInside(vmid)
        break
      case "ha-restart":
        cluster.crashAndHaRestart(vmid)
        break
      case "stop":
      case "shutdown":
        cluster.operatorStop(vmid, m[2], user, number(body, "durationMs"))
        break
      case "reboot":
        cluster.operatorReboot(vmid, user)
        break
      case "start":
        cluster.startGuest(vmid, user)
        break
      case "backup":
        cluster.backup(vmid, (text(body, "mode") ?? "stop") as "stop", number(body, "durationMs"), user)
        break
      case "migrate":
        cluster.migrate(vmid, text(body, "target") ?? "", user)
        break
      case "backups": {
        // {"ageHours": 40}: its newest archive is that old (and older ones older still)
        const mine = (cluster.state.backups ?? []).filter((v) => v.vmid === vmid).sort((a, b) => b.ctime - a.ctime)
        const shift = mine.length === 0 ? 0 : mine[0]!.ctime - (Math.floor(cluster.now() / 1000) - Math.round((number(body, "ageHours") ?? 0) * 3600))
        for (const v of mine) v.ctime -= shift
        return done(mine)
      }
      default:
        return undefined
    }
    return done(cluster.guest(vmid))
  }
  if ((m = path.match(/^\/_sim\/backup-jobs\/([^/]+)(\/run)?$/))) {
    const jobs = (cluster.state.backupJobs ??= [])
    let job = jobs.find((j) => j.id === m![1])
    if (m[2] !== undefined) {
      if (job === undefined) return { status: 404, body: { error: `no backup job ${m[1]}` } }
      return done(runBackupJob(cluster, job).map((t) => t.upid))
    }
    // Creates or changes a job: {"all": true, "exclude": "103"}, {"vmid": "100,101"}, {"enabled": false}, ...
    if (job === undefined) jobs.push(job = { id: m[1]!, schedule: "21:00", enabled: true, storage: "local", mode: "snapshot" })
    Object.assign(job, body)
    return done(job)
  }
  if ((m = path.match(/^\/_sim\/guests\/(\d+)$/))) {
    Object.assign(cluster.guest(Number(m[1])), body)
    return done(cluster.guest(Number(m[1])))
  }
  if ((m = path.match(/^\/_sim\/nodes\/([^/]+)\/(offline|online|fail|maintenance|metrics)$/))) {
    const node = cluster.node(m[1]!)
    if (m[2] === "metrics") {
      const { cpu, diskPercent, memPercent } = body as { cpu?: number; memPercent?: number; diskPercent?: number }
      if (cpu !== undefined) node.cpu = cpu
      if (memPercent !== undefined) node.mem = (node.maxmem * memPercent) / 100
      if (diskPercent !== undefined) node.disk = (node.maxdisk * diskPercent) / 100
    } else if (m[2] === "maintenance") {
      node.maintenance = body.on !== false
    } else {
      if (m[2] === "fail") failNode(cluster, node.name)
      else setNodeOnline(cluster, node.name, m[2] === "online")
    }
    return done(node)
  }
  if ((m = path.match(/^\/_sim\/storage\/([^/]+)\/([^/]+)\/(fill|unavailable|available)$/))) {
    const pool = cluster.pool(m[1]!, m[2]!)
    if (m[3] === "fill") pool.used = (pool.total * Number(body.percent)) / 100
    else pool.status = m[3] === "available" ? "available" : "unknown"
    return done(pool)
  }
  if ((m = path.match(/^\/_sim\/nodes\/([^/]+)\/zfs\/([^/]+)$/))) {
    const pool = cluster.node(m[1]!).zfs?.find((p) => p.name === m![2])
    if (pool === undefined) return { status: 404, body: { error: `no ZFS pool ${m[2]} on ${m[1]}` } }
    pool.health = String(body.health ?? "ONLINE")
    return done(pool)
  }
  if ((m = path.match(/^\/_sim\/nodes\/([^/]+)\/disks\/([^/]+)$/))) {
    const disk = cluster.node(m[1]!).disks?.find((d) => d.devpath === `/dev/${m![2]}`)
    if (disk === undefined) return { status: 404, body: { error: `no disk /dev/${m[2]} on ${m[1]}` } }
    if (typeof body.health === "string") disk.health = body.health
    if (typeof body.wearout === "number" || body.wearout === "N/A") disk.wearout = body.wearout
    return done(disk)
  }
  if ((m = path.match(/^\/_sim\/nodes\/([^/]+)\/updates$/))) {
    // {"count": 3}: that many pending packages (0 once installed)
    const count = Number(body.count ?? 0)
    cluster.node(m[1]!).updates = Array.from({ length: count }, (_, i) => ({
      Package: i === 0 ? "pve-manager" : `libexample${i}`, Title: "an update", Version: `1.0.${i + 1}`, OldVersion: `1.0.${i}`,
      Origin: i === 0 ? "Proxmox" : "Debian", Priority: "optional", Section: "admin", Arch: "amd64"
    }))
    return done({ node: m[1], count })
  }
  if ((m = path.match(/^\/_sim\/replication\/([^/]+)$/))) {
    const job = cluster.state.replication?.find((j) => j.id === m![1])
    if (job === undefined) return { status: 404, body: { error: `no replication job ${m[1]}` } }
    job.failCount = Number(body.failCount ?? 0)
    job.error = typeof body.error === "string" ? body.error : undefined
    return done(job)
  }
  if (path === "/_sim/ceph") {
    // {"status":"HEALTH_WARN","checks":{"OSD_DOWN":{"severity":"HEALTH_WARN","message":"1 osds down"}}}, or {"installed":false}
    cluster.state.ceph = body.installed === false ? undefined : { status: (body.status ?? "HEALTH_OK") as SimCeph["status"], checks: (body.checks ?? {}) as SimCeph["checks"] }
    return done(cluster.state.ceph ?? { installed: false })
  }
  if (path === "/_sim/quorum") {
    cluster.state.quorumOverride = typeof body.quorate === "boolean" ? body.quorate : undefined
    return done({ quorate: cluster.state.quorumOverride ?? null })
  }
  return undefined
}
