/**
 * Proxmox VE's calendar events (a subset of systemd's, as its backup and replication schedules use
 * them: `21:00`, `mon..fri 02:30`, `sat *-1..7 15:00`, `*\/15`, `daily`), read far enough to know how
 * long a job may go between two runs. That is what a backup may be allowed to age: a weekly job's
 * guests are not stale on day three.
 *
 * The grammar, from pve-docs' calendar events chapter: `[WEEKDAY] [[YEARS-]MONTH-DAY] [HOURS:MINUTES[:SECONDS]]`,
 * each part a comma list of values, ranges (`a..b`) and repetitions (`a/step`, `*\/step`); a lone
 * time component is the minute; a missing time is midnight. Seconds do not change the gap in any
 * way that matters here and are ignored; so are time zones (the gap is the same in all of them).
 */

type Matcher = (value: number) => boolean

const weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

const special: Record<string, string> = {
  minutely: "*:*",
  hourly: "*:0",
  daily: "0:0",
  weekly: "mon 0:0",
  monthly: "*-01 0:0",
  yearly: "*-01-01 0:0",
  annually: "*-01-01 0:0",
  quarterly: "*-01,04,07,10-01 0:0",
  semiannually: "*-01,07-01 0:0",
  "semi-annually": "*-01,07-01 0:0"
}

/** One component (`*`, `5`, `1..7`, `0/15`, `*\/2`, `8..17/3`, comma lists of these), or undefined when malformed. */
const component = (text: string, parse: (s: string) => number | undefined = (s) => (/^\d+$/.test(s) ? Number(s) : undefined)): Matcher | undefined => {
  const items: Array<Matcher> = []
  for (const item of text.split(",")) {
    const [range, stepText] = item.split("/")
    const step = stepText === undefined ? undefined : Number(stepText)
    if (step !== undefined && !(Number.isInteger(step) && step > 0)) return undefined
    if (range === "*") {
      items.push(step === undefined ? () => true : (v) => v % step === 0)
      continue
    }
    const bounds = range!.split("..")
    const lo = parse(bounds[0]!)
    const hi = bounds.length === 2 ? parse(bounds[1]!) : step === undefined ? lo : Infinity
    if (lo === undefined || hi === undefined || bounds.length > 2) return undefined
    items.push((v) => v >= lo && v <= hi && (step === undefined || (v - lo) % step === 0))
  }
  return (v) => items.some((m) => m(v))
}

export interface CalendarEvent {
  readonly weekday: Matcher
  readonly year: Matcher
  readonly month: Matcher
  readonly day: Matcher
  readonly hour: Matcher
  readonly minute: Matcher
}

const weekdayOf = (s: string) => {
  const i = weekdays.indexOf(s.toLowerCase().slice(0, 3))
  return i === -1 ? undefined : i
}

/** A schedule as PVE writes it, or undefined when it is not one this reader understands. */
export const parseCalendarEvent = (text: string): CalendarEvent | undefined => {
  const words = (special[text.trim().toLowerCase()] ?? text).trim().split(/\s+/).filter((w) => w !== "")
  let weekday: Matcher = () => true
  if (words.length > 0 && /^[a-z]/i.test(words[0]!)) {
    // `mon..fri`, `sat,sun`: Sunday is 0, and a range may wrap (`fri..mon`).
    const days = new Set<number>()
    for (const item of words.shift()!.split(",")) {
      const [a, b] = item.split("..")
      const from = weekdayOf(a!)
      const to = b === undefined ? from : weekdayOf(b)
      if (from === undefined || to === undefined) return undefined
      for (let d = from; ; d = (d + 1) % 7) {
        days.add(d)
        if (d === to) break
      }
    }
    weekday = (d) => days.has(d)
  }
  let year: Matcher = () => true
  let month: Matcher = () => true
  let day: Matcher = () => true
  if (words.length > 0 && words[0]!.includes("-")) {
    const parts = words.shift()!.split("-")
    if (parts.length < 2 || parts.length > 3) return undefined
    const [y, m, d] = parts.length === 3 ? parts : ["*", ...parts]
    const ym = component(y!)
    const mm = component(m!)
    const dm = component(d!)
    if (ym === undefined || mm === undefined || dm === undefined) return undefined
    ;[year, month, day] = [ym, mm, dm]
  }
  let hour: Matcher = (h) => h === 0
  let minute: Matcher = (m) => m === 0
  if (words.length > 0) {
    const parts = words.shift()!.split(":")
    if (parts.length > 3) return undefined
    // A lone component is the minute of every hour (`*\/15`, `30`).
    const [h, m] = parts.length === 1 ? ["*", parts[0]!] : [parts[0]!, parts[1]!]
    const hm = component(h)
    const mm = component(m)
    if (hm === undefined || mm === undefined) return undefined
    ;[hour, minute] = [hm, mm]
  }
  if (words.length > 0) return undefined
  return { weekday, year, month, day, hour, minute }
}

const dayMs = 86_400_000
/** Two years of days from a Monday: room for a yearly schedule to run twice. */
const horizonDays = 800
const origin = Date.UTC(2024, 0, 1)

/**
 * The longest time between two consecutive runs, in milliseconds, over two years of calendar;
 * undefined when the schedule runs less than twice in that time (a date in the past, a year).
 */
export const longestGap = (event: CalendarEvent): number | undefined => {
  const minutes: Array<number> = []
  for (let h = 0; h < 24; h++) {
    if (!event.hour(h)) continue
    for (let m = 0; m < 60; m++) if (event.minute(m)) minutes.push(h * 60 + m)
  }
  if (minutes.length === 0) return undefined
  const first = minutes[0]! * 60_000
  const last = minutes[minutes.length - 1]! * 60_000
  let withinDay = 0
  for (let i = 1; i < minutes.length; i++) withinDay = Math.max(withinDay, (minutes[i]! - minutes[i - 1]!) * 60_000)
  let previous: number | undefined
  let gap: number | undefined
  for (let i = 0; i < horizonDays; i++) {
    const start = origin + i * dayMs
    const date = new Date(start)
    if (!event.weekday(date.getUTCDay()) || !event.year(date.getUTCFullYear()) || !event.month(date.getUTCMonth() + 1) || !event.day(date.getUTCDate())) continue
    if (previous !== undefined) gap = Math.max(gap ?? 0, start + first - previous, withinDay)
    else if (minutes.length > 1) gap = withinDay
    previous = start + last
  }
  return gap
}

/** The first run at or after `from` (epoch ms, whole minutes), within two years; what PVE shows as a job's `next-run`. */
export const nextRun = (event: CalendarEvent, from: number): number | undefined => {
  const startDay = Math.floor(from / dayMs) * dayMs
  for (let i = 0; i < horizonDays; i++) {
    const day = startDay + i * dayMs
    const date = new Date(day)
    if (!event.weekday(date.getUTCDay()) || !event.year(date.getUTCFullYear()) || !event.month(date.getUTCMonth() + 1) || !event.day(date.getUTCDate())) continue
    for (let h = 0; h < 24; h++) {
      if (!event.hour(h)) continue
      for (let m = 0; m < 60; m++) {
        const at = day + (h * 60 + m) * 60_000
        if (event.minute(m) && at >= from) return at
      }
    }
  }
  return undefined
}
