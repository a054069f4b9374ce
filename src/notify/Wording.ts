/**
 * What a message says, in words every channel renders its own way: a severity, a one-line title,
 * the lines of its body, and the link to the HUD. Pure.
 */
import { type Severity, severityRank } from "../domain/Severity.js"
import type { Item, Message } from "./Alerts.js"

export interface Wording {
  readonly severity: Severity
  /** The state the message leaves its alerts in: firing if any it tells is firing. */
  readonly status: "firing" | "resolved"
  readonly title: string
  readonly lines: ReadonlyArray<string>
  readonly link: string
}

export interface WordingContext {
  /** Where people open the HUD (`VIGIL_PUBLIC_URL`). */
  readonly publicUrl: string
  readonly flapWindowMs: number
  readonly budget: number
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} minutes`

const time = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC"

const label: Record<Item["as"], string> = {
  firing: "FIRING",
  repeat: "STILL FIRING",
  update: "UPDATE",
  resolved: "RESOLVED",
  settled: "RESOLVED",
  flapping: "FLAPPING",
  stable: "STABLE"
}

const itemLines = (item: Item): Array<string> => {
  const a = item.alert
  const when = item.as === "resolved" || item.as === "settled"
    ? `resolved ${time(a.resolvedAt ?? a.openedAt)}`
    : `since ${time(a.openedAt)}`
  return [
    `${label[item.as]} ${a.summary} (${a.condition} on ${a.target}, ${when})`,
    ...item.notes.map((n) => `  vigil: ${n.title}${n.text === "" ? "" : `: ${n.text}`}`)
  ]
}

const worst = (items: ReadonlyArray<Item>): Severity =>
  items.reduce<Severity>((w, i) => (severityRank(i.alert.severity) > severityRank(w) ? i.alert.severity : w), "info")

const isFiring = (i: Item) => i.as !== "resolved" && i.as !== "settled" && i.alert.resolvedAt === null

export const wording = (message: Message, ctx: WordingContext): Wording => {
  const link = `${ctx.publicUrl.replace(/\/$/, "")}/`
  const items = message.items
  const first = items[0]
  switch (message.kind) {
    case "digest": {
      const held = message.digest?.held ?? []
      const counts = new Map<string, number>()
      for (const h of held) {
        const k = `${h.condition}${h.node === null ? "" : ` on ${h.node}`}`
        counts.set(k, (counts.get(k) ?? 0) + 1)
      }
      const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`)
      const hour = message.digest === undefined ? "" : ` (${time(message.digest.hourStart)} to ${time(message.digest.hourStart + 3_600_000)})`
      return {
        severity: "warning",
        status: "firing",
        title: `${held.length} more incident${held.length === 1 ? "" : "s"} in the last hour: ${parts.slice(0, 3).join(", ")}${parts.length > 3 ? ", …" : ""}`,
        lines: [
          `Held back by the budget of ${ctx.budget} messages per hour on this channel${hour}:`,
          ...parts.map((p) => `  ${p}`),
          `Every one is in the HUD: ${link}`
        ],
        link
      }
    }
    case "test":
      return { severity: "info", status: "resolved", title: "Test notification from vigil", lines: ["This channel works."], link }
    case "escalation":
    case "proposal": {
      const note = first?.notes[0]
      return {
        severity: note?.severity ?? "critical",
        status: "firing",
        title: note?.title ?? "vigil needs a person",
        lines: [...(note === undefined || note.text === "" ? [] : [note.text]), ...(first === undefined ? [] : itemLines({ ...first, notes: [] }))],
        link
      }
    }
    case "flapping":
      return {
        severity: first?.alert.severity ?? "warning",
        status: "firing",
        title: `Flapping: ${first?.alert.summary ?? ""}`,
        lines: [
          `${first?.alert.condition} on ${first?.alert.target} fired ${message.openings ?? 0} times in the last ${minutes(ctx.flapWindowMs)}.`,
          `No more notices about it until it has been stable for ${minutes(ctx.flapWindowMs)}.`
        ],
        link
      }
    case "stable": {
      const open = first?.alert.resolvedAt === null
      return {
        severity: open ? first.alert.severity : "info",
        status: open ? "firing" : "resolved",
        title: `Stable again, ${open ? "firing" : "resolved"}: ${first?.alert.summary ?? ""}`,
        lines: [`No change for ${minutes(ctx.flapWindowMs)}.`, ...items.flatMap(itemLines)],
        link
      }
    }
    case "alert": {
      const firing = items.filter(isFiring)
      const status = firing.length > 0 ? "firing" : "resolved"
      const severity = firing.length > 0 ? worst(firing) : "info"
      if (items.length === 1) {
        const only = items[0]!
        const prefix = only.as === "repeat" ? "Still firing: " : only.as === "update" ? "Update: " : status === "resolved" ? "Resolved: " : ""
        return { severity, status, title: `${prefix}${only.alert.summary}`, lines: itemLines(only), link }
      }
      const resolved = items.length - firing.length
      const conditions = [...new Set(items.map((i) => i.alert.condition))]
      const nodes = [...new Set(items.map((i) => i.alert.node).filter((n) => n !== null))]
      const about = `${conditions.length === 1 ? conditions[0] : `${conditions.length} conditions`}${nodes.length === 1 ? ` on ${nodes[0]}` : ""}`
      const counts = [firing.length > 0 ? `${firing.length} firing` : "", resolved > 0 ? `${resolved} resolved` : ""].filter((s) => s !== "")
      return { severity, status, title: `${counts.join(", ")}: ${about}`, lines: items.flatMap(itemLines), link }
    }
  }
}

/** Plain text: title, body lines and the link; for channels without formatting. */
export const plainText = (w: Wording, options: { readonly title?: boolean } = {}) =>
  [...(options.title === false ? [] : [w.title]), ...w.lines, ...(w.lines.some((l) => l.includes(w.link)) ? [] : [w.link])].join("\n")

/** Cuts text to `max` characters, saying so. */
export const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 2)} …`)
