/**
 * `npm run sim`: runs the Proxmox VE API simulator on 127.0.0.1:8006 (or SIM_PORT) and prints
 * how to point vigil at it and how to script the cluster.
 */
import { PveSimulator } from "./PveSimulator.js"

const port = Number(process.env.SIM_PORT ?? 8006)
const token = process.env.SIM_TOKEN ?? "root@pam!vigil=00000000-0000-0000-0000-000000000000"
const sim = new PveSimulator({ token, startDelayMs: 1500 })

sim.start(port).then((url) => {
  console.log(`PVE simulator on ${url} (3 nodes, 6 guests)

Point vigil at it:
  VIGIL_SOURCE=proxmox VIGIL_PROXMOX_URL=${url} VIGIL_PROXMOX_TOKEN='${token}' VIGIL_POLL_CRITICAL='3 seconds' npm start

Script it:
  curl -X POST ${url}/_sim/guests/100/crash                 # VM 100 stops with no task: a crash
  curl -X POST ${url}/_sim/guests/101/stop                  # an operator shutdown (in the task log)
  curl -X POST ${url}/_sim/nodes/pve3/offline               # node down (and /online)
  curl -X POST ${url}/_sim/storage/pve1/local/fill -d '{"percent":97}'
  curl -X POST ${url}/_sim/nodes/pve2/metrics -d '{"memPercent":96,"cpu":0.99}'
  curl -X POST ${url}/_sim/fault -d '{"mode":"500","remaining":5}'   # or 595, hang, garbage, 401
  curl ${url}/_sim/state`)
})

const stop = () => void sim.stop().then(() => process.exit(0))
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
