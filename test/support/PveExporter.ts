/**
 * What prometheus-pve-exporter serves for a cluster, computed from the same API answers the way
 * its collectors do (`src/pve_exporter/collector/cluster.py`: StatusCollector,
 * ClusterResourcesCollector, ClusterNodeCollector, ClusterInfoCollector, VersionCollector),
 * transliterated line by line so a test can hold vigil's series against the exporter's. Its
 * package is Python and not installable here; this is its logic, not vigil's.
 */
export type Series = Map<string, number>

/** `name{a="x",b="y"}` (or `name` alone) with labels sorted: one key per series, whatever order they came in. */
export const seriesKey = (name: string, labels: Record<string, string>) => {
  const keys = Object.keys(labels).sort()
  return keys.length === 0 ? name : `${name}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",")}}`
}

type Entry = Record<string, unknown>

// Python's str() of what the API sent: numbers as written, None for missing becomes ''.
const str = (v: unknown) => (v === undefined || v === null ? "" : String(v))
const num = (v: unknown) => (typeof v === "boolean" ? (v ? 1 : 0) : Number(v))

const guestStates = ["stopped", "request_stop", "request_start", "request_start_balance", "started", "fence", "recovery", "migrate", "relocate", "freeze", "error"]
const nodeStates = ["online", "maintenance", "unknown", "fence", "gone"]
const lockStates = ["backup", "clone", "create", "migrate", "rollback", "snapshot", "snapshot-delete", "suspended", "suspending"]

const gauges: Record<string, string> = {
  maxdisk: "pve_disk_size_bytes",
  disk: "pve_disk_usage_bytes",
  maxmem: "pve_memory_size_bytes",
  mem: "pve_memory_usage_bytes",
  netout: "pve_network_transmit_bytes",
  netin: "pve_network_receive_bytes",
  diskwrite: "pve_disk_write_bytes",
  diskread: "pve_disk_read_bytes",
  cpu: "pve_cpu_usage_ratio",
  maxcpu: "pve_cpu_usage_limit",
  uptime: "pve_uptime_seconds",
  shared: "pve_storage_shared"
}
const counters: Record<string, string> = {
  netout: "pve_network_transmit_bytes_total",
  netin: "pve_network_receive_bytes_total",
  diskwrite: "pve_disk_written_bytes_total",
  diskread: "pve_disk_read_bytes_total"
}

export const exporterSeries = (resources: ReadonlyArray<Entry>, status: ReadonlyArray<Entry>, version: Entry): Series => {
  const out: Series = new Map()
  const add = (name: string, labels: Record<string, string>, value: number) => out.set(seriesKey(name, labels), value)

  // StatusCollector
  for (const entry of status) {
    if (entry.type === "node") add("pve_up", { id: str(entry.id) }, num(entry.online))
    else if (entry.type === "cluster") add("pve_up", { id: `cluster/${str(entry.name)}` }, num(entry.quorate))
  }
  for (const r of resources.filter((r) => r.type === "qemu" || r.type === "lxc")) add("pve_up", { id: str(r.id) }, r.status === "running" ? 1 : 0)
  for (const r of resources.filter((r) => r.type === "storage")) add("pve_up", { id: str(r.id) }, r.status === "available" ? 1 : 0)

  // VersionCollector
  const whitelisted = Object.fromEntries(Object.entries(version).filter(([k]) => ["release", "repoid", "version"].includes(k)).map(([k, v]) => [k, str(v)]))
  add("pve_version_info", whitelisted, 1)

  // ClusterNodeCollector
  for (const node of status.filter((e) => e.type === "node")) {
    add("pve_node_info", { id: str(node.id), level: str(node.level), name: str(node.name), nodeid: str(node.nodeid) }, 1)
  }

  // ClusterInfoCollector
  for (const cluster of status.filter((e) => e.type === "cluster")) {
    const labels: Record<string, string> = {}
    for (const [k, v] of Object.entries(cluster)) if (k !== "type" && k !== "name") labels[k] = str(v)
    labels.id = `cluster/${str(cluster.name)}`
    add("pve_cluster_info", labels, 1)
  }

  // ClusterResourcesCollector
  for (const r of resources) {
    const type = str(r.type)
    if (type === "qemu" || type === "lxc") {
      add("pve_guest_info", { id: str(r.id), node: str(r.node), name: str(r.name), type: str(r.type), template: str(r.template), tags: str(r.tags) }, 1)
    } else if (type === "storage") {
      add("pve_storage_info", { id: str(r.id), node: str(r.node), storage: str(r.storage), plugintype: str(r.plugintype), content: str(r.content).split(",").sort().join(",") }, 1)
    }
    const haStates = type === "qemu" || type === "lxc" ? guestStates : type === "node" ? nodeStates : []
    for (const state of haStates) add("pve_ha_state", { id: str(r.id), state }, r.hastate === state ? 1 : 0)
    if (type === "qemu" || type === "lxc") for (const state of lockStates) add("pve_lock_state", { id: str(r.id), state }, r.lock === state ? 1 : 0)
    for (const [key, value] of Object.entries(r)) {
      if (key in gauges) add(gauges[key]!, { id: str(r.id) }, num(value))
      if (key in counters) add(counters[key]!, { id: str(r.id) }, num(value))
    }
  }
  return out
}

/** The samples of a text exposition (either format), by series key; `# ` lines skipped. */
export const parseExposition = (text: string): Series => {
  const out: Series = new Map()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line)
    if (match === null) throw new Error(`not an exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const m of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[m[1]!] = m[2]!.replace(/\\n/g, "\n").replace(/\\"/g, "\"").replace(/\\\\/g, "\\")
    }
    out.set(seriesKey(match[1]!, labels), Number(match[3]))
  }
  return out
}
