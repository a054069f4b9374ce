import { describe, expect, it } from "@effect/vitest"
import { CloudEvent as SdkCloudEvent } from "cloudevents"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import { StoredEvent, validateEvent } from "../../src/domain/Event.js"
import { cloudEventJson, sseFrame } from "../../src/http/Wire.js"
import { severities } from "../../src/domain/Severity.js"

const now = new Date("2026-11-22T12:00:00.000Z")

const valid = (fields: Record<string, unknown> = {}) => ({
  specversion: "1.0",
  id: "e1",
  source: "/cluster/pve1",
  type: "vm.crashed",
  ...fields
})

const rejection = (raw: unknown) => {
  const result = validateEvent(raw, now)
  if (Either.isRight(result)) throw new Error("expected a rejection")
  return result.left
}

describe("validateEvent", () => {
  it("fills in time and severity and keeps extensions", () => {
    const result = validateEvent(valid({ data: { vmid: 101 }, node: "pve1", traceid: "t-1", attempt: 2 }), now)
    expect(Either.isRight(result)).toBe(true)
    const event = Either.getOrThrow(result)
    expect(event.time).toBe(now.toISOString())
    expect(event.severity).toBe("info")
    expect(event.node).toBe("pve1")
    expect(JSON.parse(event.extensions!)).toEqual({ traceid: "t-1", attempt: 2 })
    expect(JSON.parse(event.data!)).toEqual({ vmid: 101 })
  })

  it.each([
    [[], "", "each event must be a JSON object"],
    [{ id: "x", source: "s", type: "t" }, "specversion", "is required"],
    [valid({ specversion: "0.3" }), "specversion", "Expected \"1.0\""],
    [valid({ id: "" }), "id", "must be a non-empty string"],
    [valid({ source: 7 }), "source", "Expected string"],
    [{ specversion: "1.0", id: "x", source: "s" }, "type", "is required"],
    [valid({ source: "not a uri" }), "source", "must be a URI-reference"],
    [valid({ dataschema: "relative/path" }), "dataschema", "must be an absolute URI"],
    [valid({ time: "yesterday" }), "time", "must be an RFC 3339 timestamp"],
    [valid({ severity: "fatal" }), "severity", "Expected \"debug\""],
    [valid({ Trace_Id: "x" }), "Trace_Id", "is not a valid CloudEvents extension name"],
    [valid({ traceid: { nested: true } }), "traceid", "extension values must be a string, an integer or a boolean"],
    [valid({ data: 1, data_base64: "AA==" }), "data_base64", "either data or data_base64"]
  ])("rejects %j at %s", (raw, path, message) => {
    const r = rejection(raw)
    expect(r.path).toBe(path)
    expect(r.message).toContain(message)
  })
})

const arbEvent = FastCheck.record({
  id: FastCheck.string({ minLength: 1, maxLength: 40 }),
  source: FastCheck.oneof(FastCheck.webUrl(), FastCheck.webPath().filter((p) => p.length > 0), FastCheck.uuid().map((u) => `urn:uuid:${u}`)),
  type: FastCheck.string({ minLength: 1, maxLength: 40 }),
  subject: FastCheck.option(FastCheck.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
  severity: FastCheck.constantFrom(...severities),
  node: FastCheck.option(FastCheck.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
  data: FastCheck.option(FastCheck.jsonValue(), { nil: undefined }),
  ext: FastCheck.dictionary(
    FastCheck.stringMatching(/^[a-z0-9]{1,20}$/).filter((k) => !["id", "source", "type", "time", "subject", "data", "node", "severity", "sequence", "specversion", "datacontenttype"].includes(k)),
    FastCheck.oneof(FastCheck.string(), FastCheck.integer(), FastCheck.boolean()),
    { maxKeys: 3 }
  ),
  sequence: FastCheck.integer({ min: 1, max: 2 ** 40 })
})

describe("an event on the wire", () => {
  it.prop("is a CloudEvent the CloudEvents SDK accepts, carrying every attribute", [arbEvent], ([e]) => {
    const { ext, sequence, ...fields } = e
    const input = { specversion: "1.0", ...fields, ...ext }
    const validated = Either.getOrThrow(validateEvent(JSON.parse(JSON.stringify(input)), now))
    const json = cloudEventJson(new StoredEvent(sequence, validated, now.getTime()))
    const parsed = JSON.parse(json)
    const sdk = new SdkCloudEvent(parsed, true)
    expect(sdk.validate()).toBe(true)
    expect(parsed.sequence).toBe(sequence)
    expect(parsed.id).toBe(e.id)
    expect(parsed.severity).toBe(e.severity)
    for (const [k, v] of Object.entries(ext)) expect(parsed[k]).toEqual(v)
    if (e.data !== undefined) expect(parsed.data).toEqual(JSON.parse(JSON.stringify(e.data)))
  })

  it("renders an SSE frame whose id is the sequence and that has no event line", () => {
    const event = new StoredEvent(42, Either.getOrThrow(validateEvent(valid({ data: "a\nb" }), now)), 0)
    const frame = new TextDecoder().decode(sseFrame(event))
    expect(frame.startsWith("id: 42\ndata: {")).toBe(true)
    expect(frame.endsWith("}\n\n")).toBe(true)
    expect(frame.split("\n")).toHaveLength(4)
    expect(frame).not.toContain("event:")
  })
})
