/**
 * Every migration, imported statically so a bundled build carries them (no directory scan).
 * Each one serves both dialects, branching with `sql.onDialectOrElse` where DDL differs.
 */
import * as Migrator from "@effect/sql/Migrator"
import events from "./0001_events.js"
import incidents from "./0002_incidents.js"
import remediation from "./0003_remediation.js"
import access from "./0004_access.js"
import deadLetters from "./0005_dead_letters.js"
import notifications from "./0006_notifications.js"
import metricHistory from "./0007_metric_history.js"
import traceContext from "./0008_trace_context.js"

const all = {
  "0001_events": events,
  "0002_incidents": incidents,
  "0003_remediation": remediation,
  "0004_access": access,
  "0005_dead_letters": deadLetters,
  "0006_notifications": notifications,
  "0007_metric_history": metricHistory,
  "0008_trace_context": traceContext
}

export const migrations = Migrator.fromRecord(all)

/** The newest migration this build knows, by number. */
export const latestMigration = Math.max(...Object.keys(all).map((name) => Number(name.slice(0, 4))))
