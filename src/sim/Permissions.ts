/**
 * What the simulator's token may do, and `/access/permissions` computed from it the way
 * pve-access-control does: without `path`, the effective privileges on the top-level paths and on
 * every path an ACL names; with `path`, that path's alone. Each privilege maps to its propagate
 * flag (1 or 0). An ACL on a path replaces what its parent would pass down, as a more specific
 * role assignment does in PVE.
 */

/** Path → privilege → propagate (1) or not (0). */
export type Acl = Readonly<Record<string, Readonly<Record<string, 0 | 1>>>>

/** The privileges of PVE's built-in Administrator role, which root@pam holds on `/`. */
export const administrator = [
  "Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit",
  "Mapping.Audit", "Mapping.Modify", "Mapping.Use", "Permissions.Modify", "Pool.Allocate", "Pool.Audit",
  "SDN.Allocate", "SDN.Audit", "SDN.Use", "Sys.AccessNetwork", "Sys.Audit", "Sys.Console", "Sys.Incoming",
  "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog", "User.Modify", "VM.Allocate", "VM.Audit", "VM.Backup",
  "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk",
  "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.Console",
  "VM.GuestAgent.Audit", "VM.Migrate", "VM.PowerMgmt", "VM.Snapshot", "VM.Snapshot.Rollback"
] as const

export const rootAcl: Acl = { "/": Object.fromEntries(administrator.map((p) => [p, 1 as const])) }

const topLevel = ["/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms"]

const ancestors = (path: string): Array<string> => {
  const parts = path.split("/").filter((p) => p !== "")
  return parts.map((_, i) => "/" + parts.slice(0, parts.length - i).join("/")).concat("/")
}

/** The privileges on one path: its own ACL, or the nearest ancestor's that propagates. */
export const permissionsOn = (acl: Acl, path: string): Record<string, 0 | 1> => {
  for (const at of ancestors(path)) {
    const entry = acl[at]
    if (entry === undefined) continue
    if (at === path || path === "/") return { ...entry }
    return Object.fromEntries(Object.entries(entry).filter(([, propagate]) => propagate === 1))
  }
  return {}
}

/** `GET /access/permissions[?path=]`. */
export const effectivePermissions = (acl: Acl, path: string | null): Record<string, Record<string, 0 | 1>> => {
  const paths = path !== null && path !== "" ? [path] : [...new Set([...topLevel, ...Object.keys(acl)])]
  const out: Record<string, Record<string, 0 | 1>> = {}
  for (const p of paths) {
    const privileges = permissionsOn(acl, p)
    if (Object.keys(privileges).length > 0) out[p] = privileges
  }
  return out
}
