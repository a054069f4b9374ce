/**
 * The new endpoints' payloads as PVE sends them (shapes from pve-manager's Ceph.pm, APT.pm,
 * Replication.pm and pve-storage's Disks.pm and Disks/ZFS.pm), decoded by the schemas vigil reads
 * them with: optional fields absent, numbers as strings where PVE's JSON has them so, "N/A" for an
 * unknown wear level, and the many fields vigil does not read ignored.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { AptUpdateItem, CephStatus, DiskItem, Envelope, ReplicationItem, ZfsPoolItem } from "../../src/sources/PveSchema.js"

const decode = <A, I>(schema: Schema.Schema<A, I>, body: unknown) => Schema.decodeUnknownSync(Envelope(schema))(body).data

describe("decoding the storage health endpoints", () => {
  it("/cluster/ceph/status: health with detail, checks keyed by code, muted as 0/1, the rest of `ceph status` ignored", () => {
    const status = decode(CephStatus, {
      data: {
        fsid: "5d2f8c3e-6a41-4f0b-9c55-3b1e0f7a2c11",
        health: {
          status: "HEALTH_WARN",
          checks: {
            OSD_DOWN: { severity: "HEALTH_WARN", summary: { message: "1 osds down", count: 1 }, detail: [{ message: "osd.3 (root=default,host=pve2) is down" }], muted: false },
            POOL_NEARFULL: { severity: "HEALTH_WARN", summary: { message: "1 pool(s) nearfull" }, muted: 1 }
          },
          mutes: []
        },
        osdmap: { num_osds: 6, num_up_osds: 5 },
        pgmap: { num_pgs: 129 }
      }
    })
    expect(status!.health.status).toBe("HEALTH_WARN")
    expect(status!.health.checks.OSD_DOWN).toEqual({ severity: "HEALTH_WARN", summary: { message: "1 osds down" }, muted: false })
    expect(status!.health.checks.POOL_NEARFULL!.muted).toBe(true)
    expect(decode(CephStatus, { data: { health: { status: "HEALTH_OK" } } })!.health.checks).toEqual({})
  })

  it("/nodes/{node}/disks/zfs: zpool list's columns, numbers as numbers or strings", () => {
    expect(decode(Schema.Array(ZfsPoolItem), { data: [{ name: "rpool", size: "511101108224", alloc: 31138889728, free: 479962218496, frag: 2, dedup: "1.00", health: "DEGRADED" }] }))
      .toEqual([{ name: "rpool", size: 511101108224, alloc: 31138889728, free: 479962218496, frag: 2, dedup: 1, health: "DEGRADED" }])
  })

  it("/nodes/{node}/replication: a job's config and state, fail_count and times absent before its first run", () => {
    const jobs = decode(Schema.Array(ReplicationItem), {
      data: [
        { id: "101-0", type: "local", guest: 101, jobnum: 0, target: "pve2", schedule: "*/15", source: "pve1", last_sync: 1763879700, last_try: 1763880000, fail_count: 2, error: "storage 'local-zfs' is not available on node 'pve2'", duration: 1.42 },
        { id: "102-0", type: "local", guest: "102", jobnum: 0, target: "pve3", disable: 1 }
      ]
    })
    expect(jobs![0]).toMatchObject({ id: "101-0", guest: 101, fail_count: 2, error: "storage 'local-zfs' is not available on node 'pve2'" })
    expect(jobs![1]).toEqual({ id: "102-0", guest: 102, target: "pve3", disable: true })
  })

  it("/nodes/{node}/disks/list: SMART health, wearout as a number or N/A, Ceph's osdid fields and the rest ignored", () => {
    const disks = decode(Schema.Array(DiskItem), {
      data: [
        { devpath: "/dev/nvme0n1", model: "Samsung SSD 980 PRO 1TB", serial: "S5GXNX0W123456", type: "nvme", size: 1000204886016, health: "PASSED", wearout: 97, gpt: 1, mounted: 0, used: "ZFS", osdid: -1, "osdid-list": null, rpm: 0, vendor: "unknown", wwn: "eui.002538b911b12345", by_id_link: "/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0W123456" },
        { devpath: "/dev/sda", type: "hdd", size: 4000787030016, health: "UNKNOWN", wearout: "N/A", gpt: 0, mounted: 0, osdid: -1 }
      ]
    })
    expect(disks![0]).toEqual({ devpath: "/dev/nvme0n1", model: "Samsung SSD 980 PRO 1TB", serial: "S5GXNX0W123456", type: "nvme", health: "PASSED", wearout: 97 })
    expect(disks![1]).toEqual({ devpath: "/dev/sda", type: "hdd", health: "UNKNOWN", wearout: "N/A" })
  })

  it("/nodes/{node}/apt/update: APT.pm's capitalised keys, OldVersion absent for a new package", () => {
    expect(decode(Schema.Array(AptUpdateItem), {
      data: [
        { Package: "pve-manager", Title: "Proxmox Virtual Environment Management Tools", Version: "8.4.2", OldVersion: "8.4.1", Origin: "Proxmox", Priority: "optional", Section: "admin", Arch: "amd64", Description: "…" },
        { Package: "proxmox-kernel-6.8.12-11-pve-signed", Version: "6.8.12-11", Origin: "Proxmox", Priority: "optional", Section: "kernel", Arch: "amd64" }
      ]
    })).toEqual([
      { Package: "pve-manager", Version: "8.4.2", OldVersion: "8.4.1", Origin: "Proxmox" },
      { Package: "proxmox-kernel-6.8.12-11-pve-signed", Version: "6.8.12-11", Origin: "Proxmox" }
    ])
  })

  it("a failed call's envelope (data null) decodes, so the error can be told", () => {
    expect(decode(CephStatus, { data: null, message: "binary not installed: /usr/bin/ceph-mon\n" })).toBeNull()
  })
})
