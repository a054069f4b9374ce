/**
 * `npm run sim`: runs the Proxmox VE API simulator on 127.0.0.1:8006 (or SIM_PORT) and prints
 * how to point vigil at it and how to script the cluster.
 */
import { PveSimulator } from "./PveSimulator.js"

const port = Number(process.env.SIM_PORT ?? 8006)
const token = process.env.SIM_TOKEN ?? "root@pam!vigil=00000000-0000-0000-0000-000000000000"
// Tasks take a moment, as on a real node; HA fences after 20 s and recovers after 40 s, quicker
// than PVE's minute or two so a demo does not drag.
const sim = new PveSimulator({ token, timing: { taskMs: 1500, fenceAfterMs: 20_000, recoverAfterMs: 40_000, staleAfterMs: 60_000 } })

sim.start(port).then((url) => {
  const post = (path: string, body?: string) => `curl -X POST ${url}/_sim/${path}${body ? ` -d '${body}'` : ""}`
  console.log(`PVE simulator on ${url} (3 nodes, 6 guests, VM 103 is HA-managed)

Point vigil at it:
  VIGIL_SOURCE=proxmox VIGIL_PROXMOX_URL=${url} VIGIL_PROXMOX_TOKEN='${token}' VIGIL_POLL_CRITICAL='3 seconds' npm start

Script it:
  ${post("guests/100/crash")}                     # stops with no task: a crash
  ${post("guests/101/shutdown", '{"user":"alice@pve","durationMs":5000}')}   # an operator's shutdown
  ${post("guests/100/backup", '{"mode":"stop","durationMs":8000}')}          # a stop-mode backup
  ${post("guests/100/migrate", '{"target":"pve2"}')}                          # a migration
  ${post("guests/103/ha-restart")}                # crashed and restarted by HA between two polls
  ${post("guests/102/reboot-inside")}             # a container rebooted from inside (no task)
  ${post("nodes/pve2/fail")}                      # node failure: HA fences it and recovers VM 103
  ${post("nodes/pve2/online")}                    # the node boots again
  ${post("storage/pve1/local/unavailable")}       # storage goes unknown (and /available)
  ${post("storage/pve1/local/fill", '{"percent":97}')}
  ${post("nodes/pve2/metrics", '{"memPercent":96,"cpu":0.99}')}
  ${post("guests/101", '{"lock":"backup"}')}       # a lock (stuck if it stays)
  ${post("quorum", '{"quorate":false}')}          # quorum lost ({"quorate":null}: back to the majority rule)
  ${post("ceph", '{"status":"HEALTH_WARN","checks":{"OSD_DOWN":{"severity":"HEALTH_WARN","message":"1 osds down"}}}')}
  ${post("nodes/pve2/zfs/rpool", '{"health":"DEGRADED"}')}
  ${post("nodes/pve1/disks/sda", '{"health":"FAILED!"}')}           # or {"wearout":5} on nvme0n1
  ${post("replication/101-0", '{"failCount":1,"error":"no space left"}')}  # {"failCount":0}: it succeeds again
  ${post("nodes/pve1/updates", '{"count":3}')}
  ${post("guests/101", '{"backupFails":"vma_queue_write: write error"}')}  # its backups fail ({"backupFails":null}: they work)
  ${post("backup-jobs/backup-5f8e2c1a-9b3d/run")}   # the nightly job runs now (a vzdump task per node)
  ${post("guests/102/backups", '{"ageHours":40}')}   # its last backup is 40 h old: stale
  ${post("backup-jobs/backup-5f8e2c1a-9b3d", '{"exclude":"103"}')}  # change the job: VM 103 is in none
  ${post("fault", '{"mode":"500","remaining":5}')}    # or 595, hang, garbage, 401
  curl ${url}/_sim/state`)
})

const stop = () => void sim.stop().then(() => process.exit(0))
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
