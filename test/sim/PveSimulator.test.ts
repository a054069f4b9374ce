/**
 * The simulator behaves as Proxmox VE does where vigil depends on it (pve-manager's task list,
 * UPIDs, cluster status and resources, pve-ha-manager's status): a simulator kinder than PVE
 * hides bugs, so these facts are pinned here.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { simToken, startSimulator } from "../support/Simulator.js"

const get = (url: string, path: string, token = simToken) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/api2/json${path}`, { headers: { authorization: `PVEAPIToken=${token}` } })
    return (await response.json()) as { data: any; total?: number }
  })

describe("the PVE simulator, as PVE behaves", () => {
  it.scopedLive("lists finished tasks only by default; running ones with source=active or all, as RUNNING without an end", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: { taskMs: 0 } })
      sim.operatorStop(100, "shutdown", "alice@pve", 60_000)
      sim.cluster.operatorReboot(101, "bob@pve")
      const archive = (yield* get(sim.url, "/nodes/pve1/tasks")).data
      expect(archive.map((t: any) => t.type)).toEqual(["qmstart", "qmreboot"])
      expect(archive.every((t: any) => t.status === "OK" && typeof t.endtime === "number")).toBe(true)
      const active = (yield* get(sim.url, "/nodes/pve1/tasks?source=active")).data
      expect(active).toEqual([expect.objectContaining({ type: "qmshutdown", id: "100", user: "alice@pve", status: "RUNNING" })])
      expect(active[0].endtime).toBeUndefined()
      const all = (yield* get(sim.url, "/nodes/pve1/tasks?source=all")).data
      expect(all.map((t: any) => t.type)).toEqual(["qmshutdown", "qmstart", "qmreboot"])
    }))

  it.scopedLive("encodes UPIDs as pve-common does and splits a token's user from its name", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      yield* Effect.promise(() =>
        fetch(`${sim.url}/api2/json/nodes/pve1/qemu/100/status/shutdown`, { method: "POST", headers: { authorization: `PVEAPIToken=${simToken}` } })
      )
      const [task] = (yield* get(sim.url, "/nodes/pve1/tasks?source=all")).data
      expect(task.upid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmshutdown:100:root@pam!vigil:$/)
      expect(task).toMatchObject({ user: "root@pam", tokenid: "vigil", type: "qmshutdown", id: "100" })
      expect(parseInt(task.upid.split(":")[4], 16)).toBe(task.starttime)
    }))

  it.scopedLive("filters by start time, vmid, type and user; limit defaults to 50 and total counts every match", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      for (let i = 0; i < 60; i++) sim.cluster.begin("pve2", "vncproxy", "102", i % 2 ? "alice@pve" : "root@pam").finish()
      sim.cluster.begin("pve2", "vzstop", "102", "alice@pve").finish("command 'lxc-stop' failed: exit code 1")
      const page = yield* get(sim.url, "/nodes/pve2/tasks")
      expect(page.data).toHaveLength(50)
      expect(page.total).toBe(61)
      expect((yield* get(sim.url, "/nodes/pve2/tasks?typefilter=vzstop")).data).toHaveLength(1)
      expect((yield* get(sim.url, "/nodes/pve2/tasks?userfilter=ALICE&limit=100")).data).toHaveLength(31)
      expect((yield* get(sim.url, "/nodes/pve2/tasks?errors=1")).data.map((t: any) => t.status)).toEqual(["command 'lxc-stop' failed: exit code 1"])
      expect((yield* get(sim.url, "/nodes/pve2/tasks?vmid=999")).data).toEqual([])
      const future = Math.floor(Date.now() / 1000) + 3600
      expect((yield* get(sim.url, `/nodes/pve2/tasks?since=${future}`)).data).toEqual([])
    }))

  it.scopedLive("speaks PVE's types: 0/1 booleans, storage available or unknown, a down node's figures stale, then unknown", () =>
    Effect.gen(function*() {
      let now = Date.now()
      const sim = yield* startSimulator({ timing: { staleAfterMs: 300 }, now: () => now })
      const status = (yield* get(sim.url, "/cluster/status")).data
      expect(status[0]).toEqual({ type: "cluster", id: "cluster", name: "sim", quorate: 1, nodes: 3, version: 3 })
      expect(status.slice(1).map((n: any) => [n.name, n.online, n.local])).toEqual([["pve1", 1, 1], ["pve2", 1, 0], ["pve3", 1, 0]])
      sim.failNode("pve1")
      const stale = (yield* get(sim.url, "/cluster/resources")).data
      expect(stale.find((r: any) => r.id === "qemu/100")).toMatchObject({ status: "running", template: 0 })
      expect(stale.find((r: any) => r.id === "node/pve1")).toEqual({ id: "node/pve1", type: "node", node: "pve1", status: "offline", hastate: "unknown" })
      now += 400
      const resources = (yield* get(sim.url, "/cluster/resources")).data
      expect(resources.find((r: any) => r.id === "qemu/100")).toEqual({ id: "qemu/100", type: "qemu", vmid: 100, node: "pve1", status: "unknown", tags: "web;prod" })
      const pool = resources.find((r: any) => r.id === "storage/pve1/local")
      expect(pool).toMatchObject({ status: "unknown", shared: 0 })
      expect(pool.disk).toBeUndefined()
      expect(new Set(resources.filter((r: any) => r.type === "storage").map((r: any) => r.status))).toEqual(new Set(["available", "unknown"]))
      // Still quorate: two of three nodes.
      expect((yield* get(sim.url, "/cluster/status")).data[0].quorate).toBe(1)
    }))

  it.scopedLive("reports HA as pve-ha-manager does: quorum, master, one lrm per node, one service per resource", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const ha = (yield* get(sim.url, "/cluster/ha/status/current")).data
      expect(ha.map((e: any) => e.id)).toEqual(["quorum", "master", "lrm:pve1", "lrm:pve2", "lrm:pve3", "service:vm:103"])
      expect(ha.at(-1)).toMatchObject({ type: "service", sid: "vm:103", node: "pve2", crm_state: "started", request_state: "started", status: "vm:103 (pve2, started)" })
    }))
  it.scopedLive("its control API scripts Ceph, ZFS, disks, replication and updates, and the PVE API shows them", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const control = (path: string, body: unknown) =>
        Effect.promise(() => fetch(`${sim.url}/_sim/${path}`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.status))
      expect(yield* control("ceph", { status: "HEALTH_ERR", checks: { PG_DAMAGED: { severity: "HEALTH_ERR", message: "1 pg inconsistent" } } })).toBe(200)
      expect(yield* control("nodes/pve2/zfs/rpool", { health: "FAULTED" })).toBe(200)
      expect(yield* control("nodes/pve1/disks/nvme0n1", { wearout: 4 })).toBe(200)
      expect(yield* control("replication/101-0", { failCount: 1, error: "no space left" })).toBe(200)
      expect(yield* control("nodes/pve3/updates", { count: 2 })).toBe(200)
      expect(yield* control("nodes/pve1/disks/nope", { health: "FAILED!" })).toBe(404)

      expect((yield* get(sim.url, "/cluster/ceph/status")).data.health).toMatchObject({ status: "HEALTH_ERR", checks: { PG_DAMAGED: { severity: "HEALTH_ERR", summary: { message: "1 pg inconsistent", count: 1 } } } })
      expect((yield* get(sim.url, "/nodes/pve2/disks/zfs")).data).toEqual([expect.objectContaining({ name: "rpool", health: "FAULTED" })])
      expect((yield* get(sim.url, "/nodes/pve1/disks/list")).data.find((d: any) => d.devpath === "/dev/nvme0n1").wearout).toBe(4)
      expect((yield* get(sim.url, "/nodes/pve1/replication")).data).toEqual([expect.objectContaining({ id: "101-0", guest: 101, fail_count: 1, error: "no space left" })])
      expect((yield* get(sim.url, "/nodes/pve2/replication")).data).toEqual([])
      expect((yield* get(sim.url, "/nodes/pve3/apt/update")).data.map((p: any) => p.Origin)).toEqual(["Proxmox", "Debian"])
    }))
})
