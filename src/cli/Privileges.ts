/**
 * The Proxmox privileges vigil's token needs for what is configured, where PVE checks them
 * (pve-manager's and pve-ha-manager's API permissions), and the built-in role that grants each.
 */
import * as Option from "effect/Option"
import type { RemediationConfig } from "../remediation/RemediationConfig.js"

export interface Requirement {
  readonly privilege: string
  readonly path: string
  /** What vigil does with it, for the person reading why it is needed. */
  readonly for: string
  /** A built-in role that holds it. */
  readonly role: Role
}

export type Role = "PVEAuditor" | "PVEVMUser"

/** Where each role is granted so that it covers every path that needs one of its privileges. */
export const grantPath: Record<Role, string> = { PVEAuditor: "/", PVEVMUser: "/vms" }

const watching: ReadonlyArray<Requirement> = [
  { privilege: "Sys.Audit", path: "/", for: "cluster status and HA", role: "PVEAuditor" },
  { privilege: "Sys.Audit", path: "/nodes", for: "node status and task logs", role: "PVEAuditor" },
  { privilege: "VM.Audit", path: "/vms", for: "guests", role: "PVEAuditor" },
  { privilege: "Datastore.Audit", path: "/storage", for: "storage", role: "PVEAuditor" }
]

const acting: Requirement = { privilege: "VM.PowerMgmt", path: "/vms", for: "starting crashed guests: remediation is on", role: "PVEVMUser" }

/** What watching needs, and starting guests too when remediation may act (at "recommend", approved proposals act). */
export const requiredPrivileges = (remediation: Option.Option<RemediationConfig["Type"]>): ReadonlyArray<Requirement> => {
  const acts = Option.exists(remediation, (r) => r.enabled && r.policy.cap >= 2)
  return acts ? [...watching, acting] : watching
}

/** What only some checks need: watching goes on without them, those checks say once that they are off. */
export const optionalPrivileges: ReadonlyArray<Omit<Requirement, "role">> = [
  { privilege: "Sys.Modify", path: "/nodes", for: "pending updates: PVE lists them only to those who may install them" },
  { privilege: "Datastore.Allocate", path: "/storage", for: "backup archives: PVE lists them only to those who may use them; backups are judged from the task logs without" }
]
