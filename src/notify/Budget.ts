/**
 * The storm budget: at most `perHour` messages per channel per clock hour. Past it, what would
 * have been told is held back and summed up in one digest when the hour ends; resolves,
 * escalations and the digest itself count against nothing and are never held back. Pure.
 */
import { budgeted, type Digest, type Item, type Message } from "./Alerts.js"

export interface BudgetState {
  /** The hour (epoch ms / 3 600 000, floored) the count is for. */
  readonly hour: number
  readonly used: number
  readonly held: Digest["held"]
}

const hourMs = 3_600_000

export const hourOf = (now: number) => Math.floor(now / hourMs)

export interface Budgeted {
  readonly budgets: Record<string, BudgetState>
  /** What goes out: within budget, exempt, and the digests of hours that ended. */
  readonly send: ReadonlyArray<Message>
  /** Items held back (told only as a count in the hour's digest). */
  readonly held: ReadonlyArray<{ readonly channel: string; readonly item: Item }>
}

/** Applies each channel's budget to the messages, in order. */
export const applyBudget = (
  budgets: Readonly<Record<string, BudgetState>>,
  messages: ReadonlyArray<Message>,
  channels: ReadonlyArray<string>,
  perHour: number,
  now: number
): Budgeted => {
  const hour = hourOf(now)
  const next: Record<string, BudgetState> = {}
  const send: Array<Message> = []
  const held: Array<{ channel: string; item: Item }> = []
  // An hour that ended with something held back is told as its digest first.
  for (const channel of channels) {
    const b = budgets[channel]
    if (b !== undefined && b.hour !== hour && b.held.length > 0) {
      send.push({ channel, kind: "digest", items: [], digest: { hourStart: b.hour * hourMs, held: b.held } })
    }
    next[channel] = b !== undefined && b.hour === hour ? b : { hour, used: 0, held: [] }
  }
  for (const m of messages) {
    const b = next[m.channel] ?? { hour, used: 0, held: [] }
    if (!budgeted(m)) {
      send.push(m)
    } else if (b.used < perHour) {
      next[m.channel] = { ...b, used: b.used + 1 }
      send.push(m)
    } else {
      const resolves = m.items.filter((i) => i.as === "resolved")
      const rest = m.items.filter((i) => i.as !== "resolved")
      if (resolves.length > 0) send.push({ ...m, kind: "alert", items: resolves })
      for (const item of rest) held.push({ channel: m.channel, item })
      next[m.channel] = {
        ...b,
        held: [...b.held, ...rest.map((i) => ({ condition: i.alert.condition, node: i.alert.node, key: i.alert.key }))]
      }
    }
  }
  return { budgets: next, send, held }
}
