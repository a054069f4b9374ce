/**
 * Silences as pure functions: matchers with `*`, weekly windows in a named time zone (across
 * midnight and across a change to summer time), and when a silence "until resolved" is over.
 */
import { describe, expect, it } from "@effect/vitest"
import { inWeeklyWindow, isActive, matchesIncident, resolvedAway, type Silence } from "../../src/domain/Silence.js"

const base: Silence = {
  id: "s",
  matchers: {},
  startsAt: "2026-01-01T00:00:00.000Z",
  endsAt: null,
  untilResolved: false,
  recurring: null,
  createdBy: "alice",
  comment: "",
  createdAt: "2026-01-01T00:00:00.000Z",
  endedAt: null,
  origin: "api"
}

const incident = { node: "pve1", condition: "VM_CRASHED", target: "qemu/101", tags: ["db", "prod"], severity: "error" as const }
const at = (iso: string) => Date.parse(iso)

describe("silences", () => {
  it("match every given matcher; * matches any run of characters; tags match any of the guest's", () => {
    expect(matchesIncident({ node: "pve1" }, incident)).toBe(true)
    expect(matchesIncident({ node: "pve1", condition: "VM_*" }, incident)).toBe(true)
    expect(matchesIncident({ target: "qemu/1*1" }, incident)).toBe(true)
    expect(matchesIncident({ target: "qemu/10" }, incident)).toBe(false)
    expect(matchesIncident({ tag: "prod" }, incident)).toBe(true)
    expect(matchesIncident({ tag: "dev" }, incident)).toBe(false)
    expect(matchesIncident({ severity: "error" }, incident)).toBe(true)
    expect(matchesIncident({ severity: "critical" }, incident)).toBe(false)
    // Characters that mean something in a regular expression mean themselves.
    expect(matchesIncident({ target: "qemu.101" }, incident)).toBe(false)
    expect(matchesIncident({ node: "pve2" }, { ...incident, node: null })).toBe(false)
  })

  it("a weekly window holds in its time zone, past midnight, and across the change to summer time", () => {
    const sunday = { days: ["sun" as const], start: "02:00", end: "04:00", timeZone: "Europe/Berlin" }
    // Sunday 11 January 2026, 02:30 in Berlin is 01:30 UTC.
    expect(inWeeklyWindow(sunday, at("2026-01-11T01:30:00Z"))).toBe(true)
    expect(inWeeklyWindow(sunday, at("2026-01-11T03:00:00Z"))).toBe(false)
    expect(inWeeklyWindow(sunday, at("2026-01-12T01:30:00Z"))).toBe(false)
    // Sunday 5 July 2026, 02:30 in Berlin (summer time) is 00:30 UTC.
    expect(inWeeklyWindow(sunday, at("2026-07-05T00:30:00Z"))).toBe(true)
    expect(inWeeklyWindow(sunday, at("2026-07-05T01:30:00Z"))).toBe(true)
    expect(inWeeklyWindow(sunday, at("2026-07-05T02:30:00Z"))).toBe(false)
    // Saturday 22:00 to Sunday 01:00, UTC.
    const night = { days: ["sat" as const], start: "22:00", end: "01:00", timeZone: "UTC" }
    expect(inWeeklyWindow(night, at("2026-01-10T23:00:00Z"))).toBe(true)
    expect(inWeeklyWindow(night, at("2026-01-11T00:30:00Z"))).toBe(true)
    expect(inWeeklyWindow(night, at("2026-01-11T01:30:00Z"))).toBe(false)
    expect(inWeeklyWindow(night, at("2026-01-10T21:00:00Z"))).toBe(false)
  })

  it("are active between start and end, within their window, until ended", () => {
    const windowed = { ...base, endsAt: "2026-02-01T00:00:00.000Z" }
    expect(isActive(windowed, at("2025-12-31T00:00:00Z"))).toBe(false)
    expect(isActive(windowed, at("2026-01-15T00:00:00Z"))).toBe(true)
    expect(isActive(windowed, at("2026-02-01T00:00:00Z"))).toBe(false)
    expect(isActive({ ...windowed, endedAt: "2026-01-10T00:00:00.000Z" }, at("2026-01-15T00:00:00Z"))).toBe(false)
  })

  it("until resolved: over once what it silenced resolved and nothing it matches is open; one made ahead waits", () => {
    const s = { ...base, matchers: { target: "qemu/101" }, untilResolved: true }
    const open = { ...incident, resolvedAt: null }
    const resolved = { ...incident, resolvedAt: at("2026-01-02T00:00:00Z") }
    expect(resolvedAway(s, [])).toBe(false)
    expect(resolvedAway(s, [open])).toBe(false)
    expect(resolvedAway(s, [resolved])).toBe(true)
    expect(resolvedAway(s, [resolved, open])).toBe(false)
    expect(resolvedAway(s, [{ ...incident, resolvedAt: at("2025-12-31T00:00:00Z") }])).toBe(false)
    expect(resolvedAway({ ...s, untilResolved: false }, [resolved])).toBe(false)
  })
})
