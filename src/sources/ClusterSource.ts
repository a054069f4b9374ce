/**
 * Where snapshots come from. Every adapter (Proxmox, the local host) bounds each call with a
 * timeout and fails with a typed `SourceError`; none throws.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Either from "effect/Either"
import type { BackupJob, BackupRun, BackupVolume } from "../domain/Backup.js"
import type { CephHealth, Disk, NodeUpdates, ReplicationJob, Unavailable, ZfsPool } from "../domain/StorageHealth.js"
import type { Snapshot } from "../domain/Snapshot.js"
import type { Task } from "../domain/Task.js"

export class SourceError extends Schema.TaggedError<SourceError>()("SourceError", {
  source: Schema.String,
  /** What failed, for humans: "HTTP 500 from /cluster/resources", "timed out after 10s". */
  reason: Schema.String
}) {}

export interface ClusterSourceShape {
  /** `proxmox`, `localhost`, ... */
  readonly name: string
  readonly snapshot: Effect.Effect<Snapshot, SourceError>
  /**
   * A node's tasks that started at or after `since` (epoch seconds), running ones included; what
   * explains a guest's stop, restart or move. Undefined for a source that has no task log.
   */
  readonly taskLog: ((node: string, since: number) => Effect.Effect<ReadonlyArray<Task>, SourceError>) | undefined
  /**
   * Ceph's health, or why this cluster has none to give (not installed, no permission); a call
   * that failed otherwise is a SourceError. Undefined for a source that cannot have Ceph.
   */
  readonly cephHealth?: Effect.Effect<Either.Either<CephHealth, Unavailable>, SourceError> | undefined
  /** A node's ZFS pools, or why it has none to give; undefined for a source without ZFS. */
  /** The replication jobs of the guests on a node (PVE lists only those the token may audit). */
  readonly replicationJobs?: ((node: string) => Effect.Effect<ReadonlyArray<ReplicationJob>, SourceError>) | undefined
  /** A node's disks with their SMART health, or why they cannot be read. */
  readonly disks?: ((node: string) => Effect.Effect<Either.Either<ReadonlyArray<Disk>, Unavailable>, SourceError>) | undefined
  /** A node's pending updates, or why they cannot be read (listing needs Sys.Modify on the node). */
  readonly updates?: ((node: string) => Effect.Effect<Either.Either<NodeUpdates, Unavailable>, SourceError>) | undefined
  readonly zfsPools?: ((node: string) => Effect.Effect<Either.Either<ReadonlyArray<ZfsPool>, Unavailable>, SourceError>) | undefined
  /** Backup jobs, runs and archives; undefined for a source without backups. */
  readonly backups?: BackupReader | undefined
}

export interface BackupReader {
  /** The vzdump jobs, or why they cannot be read. */
  readonly jobs: Effect.Effect<Either.Either<ReadonlyArray<BackupJob>, Unavailable>, SourceError>
  /** A node's backup runs (finished vzdump tasks, read from their logs) that started since `since` (epoch seconds), but for those `known`. */
  readonly runs: (node: string, since: number, known: (upid: string) => boolean) => Effect.Effect<ReadonlyArray<BackupRun>, SourceError>
  /** The backup archives on a storage, as read through a node. */
  readonly volumes: (node: string, storage: string) => Effect.Effect<ReadonlyArray<BackupVolume>, SourceError>
}

/** The cluster this instance watches: none with `VIGIL_SOURCE=none` (vigil is then an event backbone only). */
export class ClusterSource extends Context.Tag("vigil/ClusterSource")<ClusterSource, Option.Option<ClusterSourceShape>>() {}
