import { noEvidence } from "../src/monitor/Causes.js"
import { diff } from "../src/monitor/Diff.js"
import { defaultPolicy, type Metric } from "../src/monitor/ThresholdPolicy.js"
import { evaluate, measure } from "../src/monitor/Thresholds.js"
import { fastResources } from "../src/sources/ResourceDecoder.js"
import { toSnapshot } from "../src/sources/PveSnapshot.js"
const nodes = Array.from({ length: 20 }, (_, i) => ({ id: `node/pve${i}`, type: "node", node: `pve${i}`, status: "online", cpu: 0.2, maxcpu: "64", mem: 40e9, maxmem: 256e9, disk: 30e9, maxdisk: 100e9, uptime: "86400" }))
const guests = Array.from({ length: 10_000 }, (_, i) => ({
  id: `qemu/${1000 + i}`, type: i % 4 === 0 ? "lxc" : "qemu", vmid: 1000 + i, name: `guest-${i}`, node: `pve${i % 20}`, status: i % 10 === 0 ? "stopped" : "running",
  cpu: (i % 100) / 100, maxcpu: 4, mem: (i % 97) * 1e8, maxmem: 100e8, disk: 0, maxdisk: 64e9, uptime: 3600, template: 0, tags: "a;b"
}))
const storage = Array.from({ length: 60 }, (_, i) => ({ id: `storage/pve${i % 20}/s${i}`, type: "storage", storage: `s${i}`, node: `pve${i % 20}`, status: "available", disk: (i % 90) * 1e10, maxdisk: 100e10, shared: 0, plugintype: "dir" }))
const payload = JSON.stringify({ data: [...nodes, ...guests, ...storage] })
const status = [{ type: "cluster", name: "bench", quorate: true }]
const parsed = JSON.parse(payload)
const a = toSnapshot(fastResources(parsed)!, status as any, undefined, undefined, 0)
const b = { ...a, guests: a.guests.map((g, i) => (i % 50 === 0 ? { ...g, status: "stopped" as const } : g)) }
const metrics = new Set<Metric>(["cpu", "mem", "disk", "storage"])
const state = diff(undefined, a, noEvidence).state
let thresholds = evaluate(defaultPolicy, new Map(), measure(a, metrics), metrics, 0).states
const res = fastResources(parsed)!
const parts: Record<string, () => unknown> = {
  parse: () => JSON.parse(payload),
  fast: () => fastResources(parsed),
  snap: () => toSnapshot(res, status as any, undefined, undefined, 0),
  diff: () => diff(state, b, noEvidence),
  measure: () => measure(b, metrics),
  thresholds: () => { thresholds = evaluate(defaultPolicy, thresholds, measure(b, metrics), metrics, 1).states }
}
const times: Record<string, number[]> = {}
for (let r = 0; r < 40; r++) for (const [k, f] of Object.entries(parts)) { const t = performance.now(); f(); (times[k] ??= []).push(performance.now() - t) }
for (const [k, v] of Object.entries(times)) { v.sort((x, y) => x - y); console.log(k.padEnd(12), v[Math.floor(v.length / 2)]!.toFixed(1), "ms  min", v[0]!.toFixed(1)) }
