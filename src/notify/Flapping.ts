/**
 * Flapping: a condition that fires and resolves more than `count` times within `windowMs` is
 * one flapping state on its incident key: one notice when it starts, none per flap, one when it
 * has been still (no opening, no resolve) for a whole window. Pure: it reads the incidents of
 * the window (each firing of a key is one incident) and the keys already flapping.
 */
import type { Alert } from "./Alerts.js"

export interface FlapSettings {
  readonly count: number
  readonly windowMs: number
}

export interface FlapState {
  /** When the key started flapping. */
  readonly since: number
}

export type FlapChange =
  | { readonly _tag: "Started"; readonly key: string; readonly latest: Alert; readonly openings: number }
  | { readonly _tag: "Stopped"; readonly key: string; readonly latest: Alert; readonly openings: number }

/** Each key's incidents, oldest first. */
const byKey = (alerts: ReadonlyArray<Alert>): Map<string, Array<Alert>> => {
  const out = new Map<string, Array<Alert>>()
  for (const a of alerts) {
    const list = out.get(a.key)
    if (list === undefined) out.set(a.key, [a])
    else list.push(a)
  }
  for (const list of out.values()) list.sort((x, y) => x.openedAt - y.openedAt)
  return out
}

const lastTransition = (alerts: ReadonlyArray<Alert>) =>
  Math.max(...alerts.map((a) => Math.max(a.openedAt, a.resolvedAt ?? 0)))

/**
 * Which keys start flapping and which stop, given the incidents opened or resolved within the
 * window (and those still open) and the keys flapping so far.
 */
export const flapChanges = (
  flapping: Readonly<Record<string, FlapState>>,
  recent: ReadonlyArray<Alert>,
  settings: FlapSettings,
  now: number
): { readonly flapping: Record<string, FlapState>; readonly changes: ReadonlyArray<FlapChange> } => {
  const next: Record<string, FlapState> = { ...flapping }
  const changes: Array<FlapChange> = []
  const keys = byKey(recent)
  for (const [key, alerts] of keys) {
    const openings = alerts.filter((a) => a.openedAt > now - settings.windowMs).length
    const latest = alerts.at(-1)!
    if (next[key] === undefined) {
      if (openings > settings.count) {
        next[key] = { since: now }
        changes.push({ _tag: "Started", key, latest, openings })
      }
    } else if (now - lastTransition(alerts) >= settings.windowMs) {
      delete next[key]
      changes.push({ _tag: "Stopped", key, latest, openings })
    }
  }
  // A flapping key with nothing left in the window has been still for longer than it.
  for (const key of Object.keys(next)) {
    if (!keys.has(key)) delete next[key]
  }
  return { flapping: next, changes }
}
