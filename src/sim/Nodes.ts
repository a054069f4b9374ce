/**
 * What happens to the simulated cluster when a node fails or comes back, as Proxmox VE and its HA
 * manager make it happen: the node drops out at once; HA-managed guests on it are fenced after
 * about a minute and recovered on another node (their configuration moves, the new node's LRM
 * starts them, no task records the fencing or the recovery); the others stay with it. A node that
 * comes back boots: what ran on it stopped, tasks it was running end as "unexpected status", and
 * its `onboot` guests start again (`startall`).
 */
import type { SimCluster } from "./Cluster.js"

/**
 * The node fails: it drops out of the cluster at once. HA-managed guests on it are fenced and
 * then recovered on another online node; the others stay with it, as PVE shows them.
 */
export const failNode = (cluster: SimCluster, name: string) => {
  const n = cluster.node(name)
  if (n.status === "offline") return
  n.status = "offline"
  n.offlineSince = cluster.now()
  const onIt = () => cluster.state.guests.filter((g) => g.node === name && g.ha !== undefined && g.ha.requestState === "started")
  if (onIt().length === 0) return
  cluster.later(cluster.timing.fenceAfterMs, () => {
    if (n.status !== "offline") return
    n.fenced = true
    for (const g of onIt()) g.ha!.state = "fence"
  })
  cluster.later(cluster.timing.recoverAfterMs, () => {
    if (n.status !== "offline") return
    n.fenced = false
    const target = cluster.state.nodes.find((x) => x.status === "online")
    for (const g of onIt()) {
      g.ha!.state = "recovery"
      if (target === undefined) continue
      // The config file moves to the new node, whose LRM starts the guest.
      g.node = target.name
      cluster.halt(g)
      cluster.haStart(g)
    }
  })
}

/**
 * Takes a node offline, or brings it back: it boots, so what ran on it stopped, tasks it was
 * running end as "unexpected status", and its `onboot` guests start again.
 */
export const setNodeOnline = (cluster: SimCluster, name: string, online: boolean) => {
  const n = cluster.node(name)
  if (!online) return failNode(cluster, name)
  if (n.status === "online") return
  n.status = "online"
  n.offlineSince = undefined
  n.fenced = false
  n.bootedAt = cluster.now()
  for (const t of cluster.active(name)) {
    t.endtime = Math.floor(cluster.now() / 1000)
    t.status = "unexpected status"
    cluster.archiveTask(t)
  }
  const onboot = cluster.state.guests.filter((g) => g.node === name && g.status === "running" && g.ha === undefined)
  for (const g of cluster.state.guests.filter((g) => g.node === name && g.ha === undefined)) cluster.halt(g)
  if (onboot.some((g) => g.onboot)) {
    const all = cluster.begin(name, "startall", "", "root@pam")
    for (const g of onboot.filter((x) => x.onboot)) {
      cluster.begin(name, `${cluster.prefix(g)}start`, String(g.vmid), "root@pam").finish()
      cluster.run(g)
    }
    all.finish()
  }
  for (const p of cluster.state.storage.filter((s) => s.node === name)) p.status = "available"
}
