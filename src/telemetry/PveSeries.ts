/**
 * A snapshot of a Proxmox VE cluster as the series prometheus-pve-exporter serves for it: the
 * same names, label sets and `id` scheme (`node/pve1`, `qemu/100`, `lxc/101`,
 * `storage/pve1/local`, `cluster/<name>`), computed the way its collectors compute them from
 * `/cluster/resources`, `/cluster/status` and `/version`, so dashboards built for that exporter
 * read vigil unchanged. Pure: the scrape handler turns these into the exposition.
 */
import type { Snapshot } from "../domain/Snapshot.js"
import { guestKey, storageKey } from "../domain/Snapshot.js"

export interface Sample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Family {
  readonly name: string
  readonly help: string
  readonly type: "gauge" | "counter"
  readonly labelNames: ReadonlyArray<string>
  readonly samples: ReadonlyArray<Sample>
}

/** The exporter's states for `pve_ha_state`: guests (HA manager service states) and nodes. */
export const guestHaStates = [
  "stopped", "request_stop", "request_start", "request_start_balance", "started", "fence", "recovery", "migrate", "relocate", "freeze", "error"
] as const
export const nodeHaStates = ["online", "maintenance", "unknown", "fence", "gone"] as const
/** The exporter's states for `pve_lock_state`. */
export const lockStates = ["backup", "clone", "create", "migrate", "rollback", "snapshot", "snapshot-delete", "suspended", "suspending"] as const

/** One series per resource that reports the figure, as the exporter adds one per key present. */
interface ByResource {
  readonly name: string
  readonly help: string
  readonly type: "gauge" | "counter"
  readonly node?: (n: Snapshot["nodes"][number]) => number | undefined
  readonly guest?: (g: Snapshot["guests"][number]) => number | undefined
  readonly storage?: (s: Snapshot["storage"][number]) => number | undefined
}

const bool = (b: boolean) => (b ? 1 : 0)

// In the exporter's order; help texts are its own, so both read the same in Prometheus.
const byResource: ReadonlyArray<ByResource> = [
  { name: "pve_disk_size_bytes", type: "gauge", help: "Storage size in bytes (for type 'storage'), root image size for VMs (for types 'qemu' and 'lxc').", node: (n) => n.maxdisk, guest: (g) => g.maxdisk, storage: (s) => s.total },
  { name: "pve_disk_usage_bytes", type: "gauge", help: "Used disk space in bytes (for type 'storage'), used root image space for VMs (for types 'qemu' and 'lxc').", node: (n) => n.disk, guest: (g) => g.disk, storage: (s) => s.used },
  { name: "pve_memory_size_bytes", type: "gauge", help: "Number of available memory in bytes (for types 'node', 'qemu' and 'lxc').", node: (n) => n.maxmem, guest: (g) => g.maxmem },
  { name: "pve_memory_usage_bytes", type: "gauge", help: "Used memory in bytes (for types 'node', 'qemu' and 'lxc').", node: (n) => n.mem, guest: (g) => g.mem },
  { name: "pve_network_transmit_bytes", type: "gauge", help: "The amount of traffic in bytes that was sent from the guest over the network since it was started. (for types 'qemu' and 'lxc') DEPRECATED: Use pve_network_transmit_bytes_total instead.", guest: (g) => g.netout },
  { name: "pve_network_receive_bytes", type: "gauge", help: "The amount of traffic in bytes that was sent to the guest over the network since it was started. (for types 'qemu' and 'lxc') DEPRECATED: Use pve_network_receive_bytes_total instead.", guest: (g) => g.netin },
  { name: "pve_disk_write_bytes", type: "gauge", help: "The amount of bytes the guest wrote to its block devices since the guest was started. This info is not available for all storage types. (for types 'qemu' and 'lxc') DEPRECATED: Use pve_disk_written_bytes_total instead.", guest: (g) => g.diskwrite },
  { name: "pve_disk_read_bytes", type: "gauge", help: "The amount of bytes the guest read from its block devices since the guest was started. This info is not available for all storage types. (for types 'qemu' and 'lxc') DEPRECATED: Use pve_disk_read_bytes_total instead.", guest: (g) => g.diskread },
  { name: "pve_cpu_usage_ratio", type: "gauge", help: "CPU utilization (for types 'node', 'qemu' and 'lxc').", node: (n) => n.cpu, guest: (g) => g.cpu },
  { name: "pve_cpu_usage_limit", type: "gauge", help: "Number of available CPUs (for types 'node', 'qemu' and 'lxc').", node: (n) => n.maxcpu, guest: (g) => g.maxcpu },
  { name: "pve_uptime_seconds", type: "gauge", help: "Uptime of node or virtual guest in seconds (for types 'node', 'qemu' and 'lxc').", node: (n) => n.uptime, guest: (g) => g.uptime },
  { name: "pve_storage_shared", type: "gauge", help: "Whether or not the storage is shared among cluster nodes", storage: (s) => bool(s.shared) },
  { name: "pve_network_transmit_bytes_total", type: "counter", help: "The amount of traffic in bytes that was sent from the guest over the network since it was started. (for types 'qemu' and 'lxc')", guest: (g) => g.netout },
  { name: "pve_network_receive_bytes_total", type: "counter", help: "The amount of traffic in bytes that was sent to the guest over the network since it was started. (for types 'qemu' and 'lxc')", guest: (g) => g.netin },
  { name: "pve_disk_written_bytes_total", type: "counter", help: "The amount of bytes the guest wrote to its block devices since the guest was started. This info is not available for all storage types. (for types 'qemu' and 'lxc')", guest: (g) => g.diskwrite },
  { name: "pve_disk_read_bytes_total", type: "counter", help: "The amount of bytes the guest read from its block devices since the guest was started. This info is not available for all storage types. (for types 'qemu' and 'lxc')", guest: (g) => g.diskread }
]

const nodeId = (name: string) => `node/${name}`

/** The families the exporter's collectors would serve for this snapshot (all of them, maybe empty). */
export const pveFamilies = (s: Snapshot): ReadonlyArray<Family> => {
  const up: Array<Sample> = [
    ...s.nodes.map((n) => ({ labels: { id: nodeId(n.name) }, value: bool(n.status === "online") })),
    ...(s.cluster !== undefined && s.quorate !== undefined ? [{ labels: { id: `cluster/${s.cluster.name}` }, value: bool(s.quorate) }] : []),
    ...s.guests.map((g) => ({ labels: { id: guestKey(g) }, value: bool(g.status === "running") })),
    ...s.storage.map((p) => ({ labels: { id: storageKey(p) }, value: bool(p.status === "available") }))
  ]
  const perResource = byResource.map((f): Family => ({
    name: f.name,
    help: f.help,
    type: f.type,
    labelNames: ["id"],
    samples: [
      ...(f.node === undefined ? [] : s.nodes.flatMap((n) => present(nodeId(n.name), f.node!(n)))),
      ...(f.guest === undefined ? [] : s.guests.flatMap((g) => present(guestKey(g), f.guest!(g)))),
      ...(f.storage === undefined ? [] : s.storage.flatMap((p) => present(storageKey(p), f.storage!(p))))
    ]
  }))
  const states = (id: string, all: ReadonlyArray<string>, current: string | undefined) =>
    all.map((state) => ({ labels: { id, state }, value: bool(current === state) }))
  return [
    { name: "pve_up", help: "Node/VM/CT-Status is online/running", type: "gauge", labelNames: ["id"], samples: up },
    ...perResource,
    {
      name: "pve_ha_state", help: "HA service status (for HA managed VMs).", type: "gauge", labelNames: ["id", "state"],
      samples: [
        ...s.guests.flatMap((g) => states(guestKey(g), guestHaStates, g.hastate)),
        ...s.nodes.flatMap((n) => states(nodeId(n.name), nodeHaStates, n.hastate))
      ]
    },
    {
      name: "pve_lock_state", help: "The guest's current config lock (for types 'qemu' and 'lxc')", type: "gauge", labelNames: ["id", "state"],
      samples: s.guests.flatMap((g) => states(guestKey(g), lockStates, g.lock))
    },
    {
      name: "pve_guest_info", help: "VM/CT info", type: "gauge", labelNames: ["id", "node", "name", "type", "template", "tags"],
      samples: s.guests.map((g) => ({
        labels: { id: guestKey(g), node: g.node, name: g.name, type: g.kind, template: String(bool(g.template)), tags: g.tags.join(";") },
        value: 1
      }))
    },
    {
      name: "pve_storage_info", help: "Storage info", type: "gauge", labelNames: ["id", "node", "storage", "plugintype", "content"],
      samples: s.storage.map((p) => ({
        labels: { id: storageKey(p), node: p.node, storage: p.storage, plugintype: p.type ?? "", content: (p.content ?? []).join(",") },
        value: 1
      }))
    },
    {
      name: "pve_node_info", help: "Node info", type: "gauge", labelNames: ["id", "level", "name", "nodeid"],
      samples: s.nodes.flatMap((n) =>
        n.nodeid === undefined ? [] : [{ labels: { id: nodeId(n.name), level: n.level ?? "", name: n.name, nodeid: String(n.nodeid) }, value: 1 }])
    },
    {
      name: "pve_cluster_info", help: "Cluster info", type: "gauge", labelNames: ["id", "nodes", "quorate", "version"],
      samples: s.cluster === undefined ? [] : [{
        labels: {
          id: `cluster/${s.cluster.name}`,
          nodes: String(s.cluster.nodes ?? ""),
          quorate: s.quorate === undefined ? "" : String(bool(s.quorate)),
          version: String(s.cluster.version ?? "")
        },
        value: 1
      }]
    },
    {
      name: "pve_version_info", help: "Proxmox VE version info", type: "gauge", labelNames: ["release", "repoid", "version"],
      samples: s.pveVersion === undefined ? [] : [{
        labels: { release: s.pveVersion.release ?? "", repoid: s.pveVersion.repoid ?? "", version: s.pveVersion.version },
        value: 1
      }]
    }
  ]
}

const present = (id: string, value: number | undefined): Array<Sample> => (value === undefined ? [] : [{ labels: { id }, value }])
