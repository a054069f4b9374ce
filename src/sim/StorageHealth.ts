/**
 * The simulated cluster's storage health: Ceph's `/cluster/ceph/status` as pve-manager builds it
 * (`ceph status` with `health` replaced by `ceph health detail`), a 500 where Ceph is not set up
 * (`check_ceph_inited` dies), 403 without Sys.Audit or Datastore.Audit on `/`; and a node's ZFS
 * pools, `/nodes/{node}/disks/zfs` as pve-storage lists them (`zpool list -HpPLo` columns; 500
 * "zfsutils-linux not installed"; Sys.Audit on `/`); and `/nodes/{node}/replication`, the jobs of
 * the node's guests with their state (pve-manager's `extract_job_status`).
 */
import type { ApiAnswer } from "./PveApi.js"
import type { SimGuest, SimNode, SimReplicationJob } from "./Model.js"
import { type Acl, permissionsOn } from "./Permissions.js"

export interface SimCephCheck {
  readonly severity: "HEALTH_WARN" | "HEALTH_ERR"
  readonly message: string
  readonly count?: number | undefined
  readonly muted?: boolean | undefined
}

export interface SimCeph {
  status: "HEALTH_OK" | "HEALTH_WARN" | "HEALTH_ERR"
  checks: Record<string, SimCephCheck>
}

export const healthyCeph = (): SimCeph => ({ status: "HEALTH_OK", checks: {} })

export const cephStatus = (ceph: SimCeph | undefined, acl: Acl, nodes: ReadonlyArray<string>): ApiAnswer => {
  const privileges = permissionsOn(acl, "/")
  if (privileges["Sys.Audit"] !== 1 && privileges["Datastore.Audit"] !== 1) {
    return { status: 403, body: { data: null }, reason: "Permission check failed (/, Sys.Audit|Datastore.Audit)" }
  }
  if (ceph === undefined) return { status: 500, body: { data: null, message: "binary not installed: /usr/bin/ceph-mon\n" } }
  const checks = Object.fromEntries(Object.entries(ceph.checks).map(([code, c]) => [code, {
    severity: c.severity,
    summary: { message: c.message, count: c.count ?? 1 },
    detail: [{ message: c.message }],
    muted: c.muted ?? false
  }]))
  return {
    status: 200,
    body: {
      data: {
        fsid: "5d2f8c3e-6a41-4f0b-9c55-3b1e0f7a2c11",
        health: { status: ceph.status, checks, mutes: [] },
        election_epoch: 12,
        quorum: nodes.map((_, i) => i),
        quorum_names: [...nodes],
        osdmap: { epoch: 410, num_osds: nodes.length * 2, num_up_osds: nodes.length * 2, num_in_osds: nodes.length * 2 },
        pgmap: { num_pgs: 129, num_pools: 2, bytes_used: 3.2e12, bytes_total: 1.1e13 }
      }
    }
  }
}

export const zfsPools = (n: SimNode, acl: Acl): ApiAnswer => {
  if (permissionsOn(acl, "/")["Sys.Audit"] !== 1) return { status: 403, body: { data: null }, reason: "Permission check failed (/, Sys.Audit)" }
  if (n.zfs === undefined) return { status: 500, body: { data: null, message: "zfsutils-linux not installed\n" } }
  return {
    status: 200,
    body: { data: n.zfs.map((p) => ({ name: p.name, size: p.size, alloc: p.alloc, free: p.size - p.alloc, frag: 3, dedup: 1, health: p.health })) }
  }
}

export const replicationStatus = (n: SimNode, jobs: ReadonlyArray<SimReplicationJob>, guests: ReadonlyArray<SimGuest>): ApiAnswer => {
  const here = new Set(guests.filter((g) => g.node === n.name).map((g) => g.vmid))
  return {
    status: 200,
    body: {
      data: jobs.filter((j) => here.has(j.guest)).map((j) => ({
        id: j.id, type: "local", guest: j.guest, jobnum: Number(j.id.split("-")[1]), target: j.target, source: n.name, schedule: "*/15",
        last_sync: j.lastSync, last_try: j.lastSync, next_sync: j.lastSync + 900, duration: 2.1, fail_count: j.failCount,
        ...(j.error === undefined ? {} : { error: j.error }), ...(j.disable ? { disable: 1 } : {})
      }))
    }
  }
}

/** `/nodes/{node}/disks/list`: Sys.Audit on `/` or on the node (pve-storage's check). */
export const diskList = (n: SimNode, acl: Acl): ApiAnswer => {
  if (permissionsOn(acl, "/")["Sys.Audit"] !== 1 && permissionsOn(acl, `/nodes/${n.name}`)["Sys.Audit"] !== 1) {
    return { status: 403, body: { data: null }, reason: `Permission check failed (/nodes/${n.name}, Sys.Audit)` }
  }
  return {
    status: 200,
    body: {
      data: (n.disks ?? []).map((d) => ({
        devpath: d.devpath, model: d.model, serial: d.serial, type: d.type, size: d.size, health: d.health, wearout: d.wearout,
        vendor: "ATA     ", wwn: "unknown", gpt: 1, mounted: 0, used: d.type === "nvme" ? "ZFS" : "LVM", osdid: -1, "osdid-list": null, rpm: d.type === "hdd" ? 7200 : 0, by_id_link: `/dev/disk/by-id/${d.serial}`
      }))
    }
  }
}

/** `/nodes/{node}/apt/update`: Sys.Modify on the node (only those who may install see what is pending). */
export const aptUpdates = (n: SimNode, acl: Acl): ApiAnswer => {
  if (permissionsOn(acl, `/nodes/${n.name}`)["Sys.Modify"] !== 1) {
    return { status: 403, body: { data: null }, reason: `Permission check failed (/nodes/${n.name}, Sys.Modify)` }
  }
  return { status: 200, body: { data: n.updates ?? [] } }
}
