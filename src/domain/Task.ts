/**
 * A Proxmox VE task, as a node's task log lists it (`/nodes/{node}/tasks`): what was done (`type`,
 * e.g. `qmshutdown`), to what (`id`, the vmid as a string, or empty), by whom, and when. Tasks
 * started with an API token carry the token's user in `user` and its name in `tokenid`.
 */
export interface Task {
  readonly upid: string
  readonly node: string
  readonly type: string
  /** The guest's vmid for guest tasks; empty for a backup job over several guests. */
  readonly id: string
  readonly user: string
  readonly tokenid?: string | undefined
  /** Epoch seconds. */
  readonly starttime: number
  /** Epoch seconds; absent while the task runs. */
  readonly endtime?: number | undefined
  /** `OK`, `WARNINGS: n`, an error, `unexpected status`; `RUNNING` while it runs. */
  readonly status?: string | undefined
}

/** Who started a task, as one name: `root@pam`, or `monitor@pve!vigil` for a token. */
export const taskUser = (task: Pick<Task, "user" | "tokenid">): string =>
  task.tokenid === undefined || task.tokenid === "" ? task.user : `${task.user}!${task.tokenid}`

/** PVE lists a task without an end time while it runs. */
export const isRunning = (task: Task): boolean => task.endtime === undefined
