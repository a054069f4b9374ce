/**
 * `/cluster/resources` decoded by hand: the poll's hottest path (10,000 guests are a 2 MB
 * payload every 12 seconds), where the schema's generic walk cost several times the JSON.parse.
 * It gives exactly what decoding with `Resource` gives for every input it accepts (a property
 * test holds it to that on random and real-shaped payloads), and gives up (undefined) on anything
 * else, leaving the schema to decide and to explain what is wrong. The schema stays the contract.
 */
import * as Number from "effect/Number"
import * as Option from "effect/Option"
import type { Resource } from "./PveSchema.js"

/** Resource's fields by kind: plain strings, LooseNumber, LooseBoolean (`id` and `type` are required strings). */
export const stringFields = ["node", "status", "name", "level", "content", "hastate", "lock", "tags", "storage", "plugintype", "pool"] as const
export const numberFields = ["vmid", "cpu", "maxcpu", "mem", "maxmem", "disk", "maxdisk", "uptime", "netin", "netout", "diskread", "diskwrite"] as const
export const booleanFields = ["template", "shared"] as const

const plain = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** A number, or a string holding one, as `LooseNumber` reads it; undefined for anything else. */
const looseNumber = (v: unknown): number | undefined => {
  if (typeof v === "number") return v
  if (typeof v === "string") return Option.getOrUndefined(Number.parse(v))
  return undefined
}

/** true/false, 1/0, "1"/"0", as `LooseBoolean` reads them; undefined for anything else. */
const looseBoolean = (v: unknown): boolean | undefined => {
  if (v === true || v === 1 || v === "1") return true
  if (v === false || v === 0 || v === "0") return false
  return undefined
}

const resource = (item: unknown): Resource | undefined => {
  if (!plain(item)) return undefined
  const { id, type } = item
  if (typeof id !== "string" || typeof type !== "string") return undefined
  const out: Record<string, unknown> = { id, type }
  for (const key of stringFields) {
    const v = item[key]
    if (v === undefined) {
      if (Object.hasOwn(item, key)) return undefined
    } else if (typeof v === "string") {
      out[key] = v
    } else {
      return undefined
    }
  }
  for (const key of numberFields) {
    const v = item[key]
    if (v === undefined) {
      if (Object.hasOwn(item, key)) return undefined
      continue
    }
    const n = looseNumber(v)
    if (n === undefined) return undefined
    out[key] = n
  }
  for (const key of booleanFields) {
    const v = item[key]
    if (v === undefined) {
      if (Object.hasOwn(item, key)) return undefined
      continue
    }
    const b = looseBoolean(v)
    if (b === undefined) return undefined
    out[key] = b
  }
  return out as Resource
}

/**
 * The `data` of a `/cluster/resources` answer (PVE's envelope: `{"data": [...]}`), or undefined
 * when the answer is anything but a well-formed list (a failure's `data: null` included).
 */
export const fastResources = (body: unknown): ReadonlyArray<Resource> | undefined => {
  if (!plain(body)) return undefined
  const { data, message } = body
  if (!Array.isArray(data) || (message !== undefined && typeof message !== "string")) return undefined
  const out: Array<Resource> = new Array(data.length)
  for (let i = 0; i < data.length; i++) {
    const r = resource(data[i])
    if (r === undefined) return undefined
    out[i] = r
  }
  return out
}
