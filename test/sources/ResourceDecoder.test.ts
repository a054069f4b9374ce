/**
 * The hand-written `/cluster/resources` decoder against the schema it stands in for: on every
 * payload it accepts it gives exactly the schema's result (guests key for key, in order), on
 * real-shaped payloads it always accepts (or it would be no fast path), and the payloads tried
 * carry every field of `Resource`, each right and wrong.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import { Envelope, Resource } from "../../src/sources/PveSchema.js"
import { toGuest } from "../../src/sources/PveSnapshot.js"
import { ClusterResourcesFromApi, fastClusterResources } from "../../src/sources/ResourceDecoder.js"

const bySchema = Schema.decodeUnknownEither(Envelope(ClusterResourcesFromApi))
const resourcesBySchema = Schema.decodeUnknownEither(Envelope(Schema.Array(Resource)))

/** Resource's fields by kind: plain strings, LooseNumber, LooseBoolean (`id` and `type` are required strings). */
const stringFields = ["node", "status", "name", "level", "content", "hastate", "lock", "tags", "storage", "plugintype", "pool"] as const
const numberFields = ["vmid", "cpu", "maxcpu", "mem", "maxmem", "disk", "maxdisk", "uptime", "netin", "netout", "diskread", "diskwrite"] as const
const booleanFields = ["template", "shared"] as const

const fc = FastCheck
/** A number as PVE sends one: a JSON number, or a string holding it (`maxcpu`, `uptime` on some versions). */
const looseNumber = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.nat().map(String), fc.double({ noNaN: true }).map(String))
const looseBoolean = fc.constantFrom<unknown>(0, 1, "0", "1", true, false)
const text = fc.string({ maxLength: 12 })

/** One entry of `/cluster/resources` as pve-manager's `PVE/API2/Cluster.pm` builds it: any subset of its fields. */
const realShaped = fc.record({
  id: text,
  type: fc.constantFrom("node", "qemu", "lxc", "storage", "sdn", "pool"),
  ...Object.fromEntries(stringFields.map((k) => [k, text])),
  ...Object.fromEntries(numberFields.map((k) => [k, looseNumber])),
  ...Object.fromEntries(booleanFields.map((k) => [k, looseBoolean]))
}, { requiredKeys: ["id", "type"] })

/** A value that may be of the wrong type for whatever field it lands in. */
const anyValue = fc.oneof(fc.constant(null), fc.constant(undefined), fc.boolean(), fc.double(), text, fc.constant("NaN"), fc.constant(" "), fc.constant(""), fc.array(fc.nat(), { maxLength: 2 }), fc.dictionary(text, fc.nat(), { maxKeys: 2 }))
const fieldNames = ["id", "type", ...stringFields, ...numberFields, ...booleanFields, "extra"]
const mangled = fc.tuple(realShaped, fc.array(fc.tuple(fc.constantFrom(...fieldNames), anyValue), { maxLength: 3 }))
  .map(([item, changes]) => Object.assign({ ...item }, Object.fromEntries(changes)) as unknown)

const payload = (items: FastCheck.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.array(items, { maxLength: 6 }).map((data) => ({ data }) as unknown) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>({ data: null, errors: { vmid: "invalid" } }, {}, [], null, "x", { data: [], message: 3 }, { data: {} }) }
  )

describe("the /cluster/resources fast path", () => {
  it("tries exactly the fields of Resource, each with its kind", () => {
    expect(["id", "type", ...stringFields, ...numberFields, ...booleanFields].sort()).toEqual(Object.keys(Resource.fields).sort())
  })

  it.prop("equals the schema wherever it answers, on real-shaped and mangled payloads", [payload(fc.oneof(realShaped, mangled))], ([body]) => {
    const fast = fastClusterResources(body)
    if (fast === undefined) return
    const schema = bySchema(body)
    expect(Either.isRight(schema)).toBe(true)
    const expected = Either.getOrThrow(schema).data!
    expect(fast).toStrictEqual(expected)
    expect(fast.guests.map((g) => Object.keys(g))).toEqual(expected.guests.map((g) => Object.keys(g)))
  }, { fastCheck: { numRuns: 3000 } })

  it.prop("answers every real-shaped payload (the schema accepts all of them too)", [fc.array(realShaped, { maxLength: 20 })], ([data]) => {
    const body = { data }
    const fast = fastClusterResources(body)
    expect(fast).toBeDefined()
    expect(fast).toStrictEqual(Either.getOrThrow(bySchema(body)).data)
  }, { fastCheck: { numRuns: 500 } })

  it("reads PVE's quirks as the schema does: numbers in strings, 0/1 booleans, missing fields", () => {
    const body = {
      data: [
        { id: "node/pve1", type: "node", node: "pve1", status: "online", maxcpu: "16", uptime: "86400", cpu: 0.12, level: "" },
        { id: "qemu/100", type: "qemu", vmid: 100, node: "pve1", status: "running", template: 0, tags: "web;prod", netin: 1234 },
        { id: "lxc/101", type: "lxc", vmid: "101", node: "pve1", status: "stopped", template: "1", tags: "web;prod" },
        { id: "qemu/102", type: "qemu", node: "pve1" },
        { id: "storage/pve1/local", type: "storage", node: "pve1", storage: "local", shared: 0, content: "iso,backup", plugintype: "dir", status: "available" },
        { id: "node/pve2", type: "node", node: "pve2", status: "offline" }
      ]
    }
    const fast = fastClusterResources(body)!
    expect(fast).toStrictEqual(Either.getOrThrow(bySchema(body)).data)
    expect(fast.others.map((r) => r.id)).toEqual(["node/pve1", "qemu/102", "storage/pve1/local", "node/pve2"])
    expect(fast.others[0]!.maxcpu).toBe(16)
    expect(fast.guests.map((g) => [g.vmid, g.template, g.tags])).toEqual([[100, false, ["web", "prod"]], [101, true, ["web", "prod"]]])
  })

  it("gives up on a payload the schema refuses, and the schema says why", () => {
    const body = { data: [{ id: "qemu/100", type: "qemu", vmid: 100, node: "pve1" }, { id: "qemu/101", type: "qemu", vmid: "a lot", node: "pve1" }] }
    expect(fastClusterResources(body)).toBeUndefined()
    expect(Either.isLeft(bySchema(body))).toBe(true)
  })

  it.prop("builds each guest as the literal form did, key for key and in order", [fc.array(realShaped, { maxLength: 20 })], ([data]) => {
    for (const r of Either.getOrThrow(resourcesBySchema({ data })).data!) {
      const guest = toGuest(r)
      const literal = literalGuest(r)
      expect(guest).toStrictEqual(literal)
      if (guest !== undefined) expect(Object.keys(guest)).toEqual(Object.keys(literal!))
    }
  }, { fastCheck: { numRuns: 500 } })
})

const guestStatuses = new Set(["running", "stopped", "paused", "suspended", "prelaunch", "guest-panicked", "internal-error", "io-error"])

/** toGuest as it was: one literal, its undefined fields dropped by copying. */
const literalGuest = (r: Resource) => {
  if ((r.type !== "qemu" && r.type !== "lxc") || r.vmid === undefined || r.node === undefined) return undefined
  const all: Record<string, unknown> = {
    kind: r.type, vmid: r.vmid, name: r.name ?? `${r.type}-${r.vmid}`, node: r.node,
    status: r.status !== undefined && guestStatuses.has(r.status) ? r.status : "unknown",
    cpu: r.cpu, maxcpu: r.maxcpu, mem: r.mem, maxmem: r.maxmem, disk: r.disk, maxdisk: r.maxdisk, uptime: r.uptime,
    netin: r.netin, netout: r.netout, diskread: r.diskread, diskwrite: r.diskwrite,
    lock: r.lock === "" ? undefined : r.lock, hastate: r.hastate, pool: r.pool === "" ? undefined : r.pool,
    tags: (r.tags ?? "").split(/[;, ]+/).filter((t) => t.length > 0), template: r.template ?? false
  }
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined))
}
