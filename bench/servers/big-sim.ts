// The simulator with a large cluster (BENCH_GUESTS guests over 20 nodes), for watching at scale.
// Reports its URL over IPC; the guests' figures drift a little at every answer, as real ones do.
import { defaultCluster } from "../../src/sim/Model.js"
import { PveSimulator } from "../../src/sim/PveSimulator.js"

const guests = Number(process.env.BENCH_GUESTS ?? 10_000)
const token = "root@pam!bench=00000000-0000-0000-0000-000000000000"
const now = Date.now()
const base = defaultCluster(now)
const GiB = 1024 ** 3
const nodes = Array.from({ length: 20 }, (_, i) => ({ ...base.nodes[0]!, name: `pve${i + 1}`, maxmem: 1024 * GiB, mem: 400 * GiB }))
const state = {
  ...base,
  nodes,
  guests: Array.from({ length: guests }, (_, i) => ({
    kind: i % 4 === 0 ? "lxc" as const : "qemu" as const, vmid: 1000 + i, name: `guest-${i}`, node: `pve${(i % 20) + 1}`,
    status: i % 10 === 0 ? "stopped" as const : "running" as const, cpu: (i % 50) / 100, mem: ((i % 60) + 10) * 0.01 * 4 * GiB, maxmem: 4 * GiB,
    disk: 0, maxdisk: 32 * GiB, startedAt: i % 10 === 0 ? undefined : now - 3_600_000, tags: i % 3 === 0 ? "web;prod" : undefined
  })),
  storage: nodes.map((n) => ({ node: n.name, storage: "local", status: "available" as const, used: 20 * GiB, total: 100 * GiB, shared: false, type: "dir" }))
}
const sim = new PveSimulator({ token }, state)
setInterval(() => {
  for (const g of sim.state.guests) if (g.status === "running") g.cpu = Math.min(1, Math.max(0, g.cpu + (Math.random() - 0.5) * 0.02))
}, 5_000).unref()
sim.start(0).then((url) => process.send?.({ url, token }))
