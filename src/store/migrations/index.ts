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
import traceContext from "./0008_trace_context.js"
import metricHistory from "./0009_metric_history.js"

// No 0007: the migrator runs only numbers above the newest a store has applied, and stores that
// already ran 0008 would never run a 0007 written after it.
const all = {
  "0001_events": events,
  "0002_incidents": incidents,
  "0003_remediation": remediation,
  "0004_access": access,
  "0005_dead_letters": deadLetters,
  "0006_notifications": notifications,
  "0008_trace_context": traceContext,
  "0009_metric_history": metricHistory
}

export const migrations = Migrator.fromRecord(all)

/** The newest migration this build knows, by number. */
export const latestMigration = Math.max(...Object.keys(all).map((name) => Number(name.slice(0, 4))))
