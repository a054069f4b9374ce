/**
 * Backups: each guest's last backup, its age and its latest run's outcome, as the backup watch
 * last concluded (the background tier: up to one interval old).
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as Schema from "effect/Schema"
import { NotFound, ServiceUnavailable } from "./ApiErrors.js"
import { RequireRead } from "./Security.js"

export const GuestBackupView = Schema.Struct({
  guest: Schema.String.annotations({ description: "`qemu/100`, `lxc/102`; `guest/<vmid>` for one a job names that does not exist" }),
  vmid: Schema.Int,
  name: Schema.NullOr(Schema.String),
  node: Schema.NullOr(Schema.String),
  state: Schema.Literal("ok", "failed", "stale", "uncovered", "none").annotations({
    description: "failed: its latest backup failed; stale: its last good backup is older than its jobs allow; uncovered: no enabled job covers it; none: covered, not backed up yet, not stale yet"
  }),
  jobs: Schema.Array(Schema.String).annotations({ description: "The enabled backup jobs that cover it" }),
  allowanceSeconds: Schema.NullOr(Schema.Number).annotations({ description: "How old its last backup may get: VIGIL_BACKUP_MAX_AGE, or 1.5× its job's longest wait between runs" }),
  lastBackup: Schema.NullOr(Schema.Struct({
    at: Schema.String,
    ageSeconds: Schema.Number,
    archive: Schema.NullOr(Schema.String),
    storage: Schema.NullOr(Schema.String),
    size: Schema.NullOr(Schema.Number),
    verification: Schema.NullOr(Schema.String)
  })),
  lastRun: Schema.NullOr(Schema.Struct({
    at: Schema.String,
    ok: Schema.Boolean,
    error: Schema.NullOr(Schema.String),
    task: Schema.String,
    node: Schema.String
  }))
}).annotations({ identifier: "GuestBackup" })

export const BackupsView = Schema.Struct({
  judgedAt: Schema.NullOr(Schema.String).annotations({ description: "When backups were last read; null before the first round" }),
  maxAgeSeconds: Schema.Number,
  summary: Schema.Struct({ ok: Schema.Int, failed: Schema.Int, stale: Schema.Int, uncovered: Schema.Int, none: Schema.Int }),
  guests: Schema.Array(GuestBackupView)
}).annotations({ identifier: "Backups" })

export class BackupsApi extends HttpApiGroup.make("backups")
  .add(
    HttpApiEndpoint.get("backups", "/api/v1/backups")
      .middleware(RequireRead)
      .addSuccess(BackupsView)
      .addError(NotFound)
      .addError(ServiceUnavailable)
  )
{}
