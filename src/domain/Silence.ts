/**
 * Silences: who muted what, why, and when. A silence matches incidents by node, condition,
 * target, guest tag and severity (each optional; `*` matches any run of characters), and is
 * active between its start and end, or until the incidents it matched have resolved, or in a
 * weekly window in a named time zone (maintenance every Sunday 02:00–04:00 Europe/Berlin).
 * A silenced incident is still recorded and shown; it is never notified.
 *
 * Matching and activity are pure functions of the silence, the incident and the time.
 */
import * as Schema from "effect/Schema"
import { Severity } from "./Severity.js"

export const weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const
export type Weekday = (typeof weekdays)[number]

const validTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone })
    return true
  } catch {
    return false
  }
}

const ClockTime = Schema.String.pipe(
  Schema.pattern(/^([01]\d|2[0-3]):[0-5]\d$/, { message: () => "must be HH:MM (24-hour), e.g. 02:00" })
)

export const WeeklyWindow = Schema.Struct({
  days: Schema.Array(Schema.Literal(...weekdays)).pipe(Schema.minItems(1)).annotations({
    description: "The days a window starts on (a window past midnight ends the next day)"
  }),
  start: ClockTime,
  end: ClockTime,
  timeZone: Schema.String.pipe(
    Schema.filter((zone) => validTimeZone(zone) || `"${zone}" is not a time zone (e.g. Europe/Berlin, UTC)`)
  )
}).annotations({ identifier: "WeeklyWindow" })
export type WeeklyWindow = typeof WeeklyWindow.Type

const Matcher = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200))

export const SilenceMatchers = Schema.Struct({
  node: Schema.optional(Matcher),
  condition: Schema.optional(Matcher),
  target: Schema.optional(Matcher),
  tag: Schema.optional(Matcher),
  severity: Schema.optional(Severity)
}).annotations({ identifier: "SilenceMatchers", description: "All given must match; `*` matches any run of characters" })
export type SilenceMatchers = typeof SilenceMatchers.Type

/** A silence as stored and as the API shows it. Times are ISO 8601. */
export const Silence = Schema.Struct({
  id: Schema.String,
  matchers: SilenceMatchers,
  startsAt: Schema.String,
  endsAt: Schema.NullOr(Schema.String),
  untilResolved: Schema.Boolean,
  recurring: Schema.NullOr(WeeklyWindow),
  createdBy: Schema.String,
  comment: Schema.String,
  createdAt: Schema.String,
  /** Set when it was deleted, or when the incidents an until-resolved silence matched all resolved. */
  endedAt: Schema.NullOr(Schema.String),
  /** `api` (made and deletable through the API) or `env` (from VIGIL_SILENCES). */
  origin: Schema.Literal("api", "env")
}).annotations({ identifier: "Silence" })
export type Silence = typeof Silence.Type

/** What an incident offers a silence to match on. */
export interface Silenceable {
  readonly node: string | null
  readonly condition: string
  readonly target: string
  readonly tags: ReadonlyArray<string>
  readonly severity: Severity
}

const globs = new Map<string, RegExp>()
const glob = (pattern: string): RegExp => {
  let re = globs.get(pattern)
  if (re === undefined) {
    re = new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`)
    if (globs.size < 1000) globs.set(pattern, re)
  }
  return re
}

const matchesText = (pattern: string | undefined, value: string | null) =>
  pattern === undefined || (value !== null && glob(pattern).test(value))

export const matchesIncident = (matchers: SilenceMatchers, incident: Silenceable): boolean =>
  matchesText(matchers.node, incident.node) &&
  matchesText(matchers.condition, incident.condition) &&
  matchesText(matchers.target, incident.target) &&
  (matchers.tag === undefined || incident.tags.some((t) => matchesText(matchers.tag, t))) &&
  (matchers.severity === undefined || matchers.severity === incident.severity)

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

const localFormats = new Map<string, Intl.DateTimeFormat>()
/** The weekday and minute of the day at `now` in the time zone. */
export const localTime = (now: number, timeZone: string): { readonly day: Weekday; readonly minute: number } => {
  let format = localFormats.get(timeZone)
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    localFormats.set(timeZone, format)
  }
  const parts = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]))
  return {
    day: String(parts.weekday).slice(0, 3).toLowerCase() as Weekday,
    minute: Number(parts.hour) * 60 + Number(parts.minute)
  }
}

/** Whether `now` falls in the weekly window; one that ends at or before its start runs past midnight. */
export const inWeeklyWindow = (window: WeeklyWindow, now: number): boolean => {
  const { day, minute } = localTime(now, window.timeZone)
  const start = minutesOf(window.start)
  const end = minutesOf(window.end)
  if (start < end) return window.days.includes(day) && minute >= start && minute < end
  const yesterday = weekdays[(weekdays.indexOf(day) + 6) % 7]!
  return (window.days.includes(day) && minute >= start) || (window.days.includes(yesterday) && minute < end)
}

export const isActive = (silence: Silence, now: number): boolean =>
  silence.endedAt === null &&
  Date.parse(silence.startsAt) <= now &&
  (silence.endsAt === null || now < Date.parse(silence.endsAt)) &&
  (silence.recurring === null || inWeeklyWindow(silence.recurring, now))

/** The first active silence that matches the incident. */
export const silencing = (silences: ReadonlyArray<Silence>, incident: Silenceable, now: number): Silence | undefined =>
  silences.find((s) => isActive(s, now) && matchesIncident(s.matchers, incident))

/**
 * Whether a silence "until resolved" is over: something it silenced has resolved since it
 * started, and nothing it matches is still open. (One made ahead of an incident waits for it.)
 */
export const resolvedAway = (
  silence: Silence,
  incidents: ReadonlyArray<Silenceable & { readonly resolvedAt: number | null }>
): boolean => {
  const matched = incidents.filter((i) => matchesIncident(silence.matchers, i))
  return silence.untilResolved &&
    matched.some((i) => i.resolvedAt !== null && i.resolvedAt >= Date.parse(silence.startsAt)) &&
    matched.every((i) => i.resolvedAt !== null)
}

/** What a client sends to create a silence. */
export const NewSilence = Schema.Struct({
  matchers: SilenceMatchers.pipe(
    Schema.filter((m) => Object.values(m).some((v) => v !== undefined) || "give at least one matcher")
  ),
  startsAt: Schema.optional(Schema.DateTimeUtc),
  endsAt: Schema.optional(Schema.DateTimeUtc),
  untilResolved: Schema.optional(Schema.Boolean),
  recurring: Schema.optional(WeeklyWindow),
  createdBy: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100))),
  comment: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1000)).annotations({ description: "Why" })
}).pipe(
  Schema.filter((s) =>
    s.endsAt !== undefined || s.untilResolved === true || s.recurring !== undefined ||
    "give endsAt, untilResolved or recurring: a silence must be able to end"
  ),
  Schema.filter((s) =>
    s.startsAt === undefined || s.endsAt === undefined || s.startsAt.epochMillis < s.endsAt.epochMillis ||
    "endsAt must be after startsAt"
  )
).annotations({ identifier: "NewSilence" })
export type NewSilence = typeof NewSilence.Type
