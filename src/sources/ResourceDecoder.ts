/**
 * `/cluster/resources` decoded: the poll's hottest path (10,000 guests are a 2 MB payload every
 * 12 seconds).
 *
 * The contract is the schema: `Resource` for each entry, then guests made by `toGuest` and the
 * rest kept as resources (`ClusterResources`). The fast path gives exactly that for every payload
 * it accepts, in one pass and without the intermediate resources of the guests (a property test
 * holds it to that on random and real-shaped payloads, key order included), and gives up
 * (undefined) on anything else, leaving the schema to decide and to explain what is wrong. Both
 * cost less than the schema's generic walk, which was several times the JSON.parse.
 */
import * as Number from "effect/Number"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { Guest } from "../domain/Snapshot.js"
import { Resource } from "./PveSchema.js"
import { type ClusterResources, guestStatus, parseTags, toGuest } from "./PveSnapshot.js"

/**
 * The schema's reading of `/cluster/resources` (decode only: there is no way back to PVE's
 * entries). What `toGuest` makes is taken as it is, as it always was: a guest is not checked
 * again against the snapshot's schema, where one odd guest would fail the whole poll.
 */
export const ClusterResourcesFromApi = Schema.transformOrFail(
  Schema.Array(Resource),
  Schema.declare((u): u is ClusterResources => typeof u === "object" && u !== null && "guests" in u && "others" in u, { identifier: "ClusterResources" }),
  {
    strict: true,
    decode: (resources) => {
      const guests: Array<Guest> = []
      const others: Array<Resource> = []
      for (const r of resources) {
        const guest = toGuest(r)
        if (guest === undefined) others.push(r)
        else guests.push(guest)
      }
      return ParseResult.succeed({ guests, others })
    },
    encode: (value, _, ast) => ParseResult.fail(new ParseResult.Forbidden(ast, value, "cluster resources are only decoded"))
  }
)

/** Thrown (and caught below) at the first value the schema would refuse. */
class Unreadable {}
const unreadable = new Unreadable()

type Entry = Record<string, unknown>

const plain = (v: unknown): v is Entry => {
  if (typeof v !== "object" || v === null) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** An optional `Schema.String`. */
const text = (item: Entry, key: string): string | undefined => {
  const v = item[key]
  if (typeof v === "string") return v
  if (v === undefined && !Object.hasOwn(item, key)) return undefined
  throw unreadable
}

/** An optional `LooseNumber`: a number, or a string holding one. */
const number = (item: Entry, key: string): number | undefined => {
  const v = item[key]
  if (typeof v === "number") return v
  if (typeof v === "string") {
    const n = Option.getOrUndefined(Number.parse(v))
    if (n !== undefined) return n
  } else if (v === undefined && !Object.hasOwn(item, key)) {
    return undefined
  }
  throw unreadable
}

/** An optional `LooseBoolean`: true/false, 1/0, "1"/"0". */
const boolean = (item: Entry, key: string): boolean | undefined => {
  const v = item[key]
  if (v === true || v === 1 || v === "1") return true
  if (v === false || v === 0 || v === "0") return false
  if (v === undefined && !Object.hasOwn(item, key)) return undefined
  throw unreadable
}

const required = (item: Entry, key: "id" | "type"): string => {
  const v = item[key]
  if (typeof v !== "string") throw unreadable
  return v
}

/** What `Resource` makes of an entry: every field written out, so each read is of a known key. */
const resource = (item: Entry): Resource => {
  const r: Record<string, unknown> = { id: required(item, "id"), type: required(item, "type") }
  let v: unknown
  if ((v = text(item, "node")) !== undefined) r.node = v
  if ((v = text(item, "status")) !== undefined) r.status = v
  if ((v = text(item, "name")) !== undefined) r.name = v
  if ((v = number(item, "vmid")) !== undefined) r.vmid = v
  if ((v = number(item, "cpu")) !== undefined) r.cpu = v
  if ((v = number(item, "maxcpu")) !== undefined) r.maxcpu = v
  if ((v = number(item, "mem")) !== undefined) r.mem = v
  if ((v = number(item, "maxmem")) !== undefined) r.maxmem = v
  if ((v = number(item, "disk")) !== undefined) r.disk = v
  if ((v = number(item, "maxdisk")) !== undefined) r.maxdisk = v
  if ((v = number(item, "uptime")) !== undefined) r.uptime = v
  if ((v = number(item, "netin")) !== undefined) r.netin = v
  if ((v = number(item, "netout")) !== undefined) r.netout = v
  if ((v = number(item, "diskread")) !== undefined) r.diskread = v
  if ((v = number(item, "diskwrite")) !== undefined) r.diskwrite = v
  if ((v = text(item, "level")) !== undefined) r.level = v
  if ((v = text(item, "content")) !== undefined) r.content = v
  if ((v = boolean(item, "template")) !== undefined) r.template = v
  if ((v = text(item, "hastate")) !== undefined) r.hastate = v
  if ((v = text(item, "lock")) !== undefined) r.lock = v
  if ((v = text(item, "tags")) !== undefined) r.tags = v
  if ((v = text(item, "storage")) !== undefined) r.storage = v
  if ((v = boolean(item, "shared")) !== undefined) r.shared = v
  if ((v = text(item, "plugintype")) !== undefined) r.plugintype = v
  if ((v = text(item, "pool")) !== undefined) r.pool = v
  return r as Resource
}

/**
 * What `toGuest` makes of what `Resource` makes of a `qemu`/`lxc` entry, read from the entry
 * itself; undefined when it is no guest (no vmid or node). Every field is still checked as the
 * schema checks it. Guests with the same tags share one (read-only) list of them.
 */
const guest = (item: Entry, kind: "qemu" | "lxc", tagLists: Map<string, ReadonlyArray<string>>): Guest | undefined => {
  required(item, "id")
  const node = text(item, "node"), status = text(item, "status"), name = text(item, "name"), vmid = number(item, "vmid")
  const cpu = number(item, "cpu"), maxcpu = number(item, "maxcpu"), mem = number(item, "mem"), maxmem = number(item, "maxmem")
  const disk = number(item, "disk"), maxdisk = number(item, "maxdisk"), uptime = number(item, "uptime")
  const netin = number(item, "netin"), netout = number(item, "netout"), diskread = number(item, "diskread"), diskwrite = number(item, "diskwrite")
  text(item, "level"), text(item, "content")
  const template = boolean(item, "template"), hastate = text(item, "hastate"), lock = text(item, "lock"), tags = text(item, "tags")
  text(item, "storage"), boolean(item, "shared"), text(item, "plugintype")
  const pool = text(item, "pool")
  if (vmid === undefined || node === undefined) return undefined
  // Built in toGuest's order, so the two are equal key for key.
  const g: Record<string, unknown> = { kind, vmid, name: name ?? `${kind}-${vmid}`, node, status: guestStatus(status) }
  if (cpu !== undefined) g.cpu = cpu
  if (maxcpu !== undefined) g.maxcpu = maxcpu
  if (mem !== undefined) g.mem = mem
  if (maxmem !== undefined) g.maxmem = maxmem
  if (disk !== undefined) g.disk = disk
  if (maxdisk !== undefined) g.maxdisk = maxdisk
  if (uptime !== undefined) g.uptime = uptime
  if (netin !== undefined) g.netin = netin
  if (netout !== undefined) g.netout = netout
  if (diskread !== undefined) g.diskread = diskread
  if (diskwrite !== undefined) g.diskwrite = diskwrite
  if (lock !== undefined && lock !== "") g.lock = lock
  if (hastate !== undefined) g.hastate = hastate
  if (pool !== undefined && pool !== "") g.pool = pool
  let list = tagLists.get(tags ?? "")
  if (list === undefined) tagLists.set(tags ?? "", list = parseTags(tags))
  g.tags = list
  g.template = template ?? false
  return g as Guest
}

/**
 * The `data` of a `/cluster/resources` answer (PVE's envelope: `{"data": [...]}`) as the schema
 * reads it, or undefined when the answer is anything but a well-formed list (a failure's
 * `data: null` included).
 */
export const fastClusterResources = (body: unknown): ClusterResources | undefined => {
  if (!plain(body)) return undefined
  const { data, message } = body
  if (!Array.isArray(data) || (message !== undefined && typeof message !== "string")) return undefined
  const guests: Array<Guest> = []
  const others: Array<Resource> = []
  const tagLists = new Map<string, ReadonlyArray<string>>()
  try {
    for (const item of data) {
      if (!plain(item)) return undefined
      const type = required(item, "type")
      const g = type === "qemu" || type === "lxc" ? guest(item, type, tagLists) : undefined
      if (g === undefined) others.push(resource(item))
      else guests.push(g)
    }
  } catch (error) {
    if (error === unreadable) return undefined
    throw error
  }
  return { guests, others }
}
