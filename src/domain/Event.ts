/**
 * The one event envelope: CloudEvents 1.0 in structured JSON mode, plus vigil's extension
 * attributes `sequence` (store-assigned), `severity` and `node`.
 *
 * Three shapes live here:
 * - `CloudEventInput`: what a producer may send (validated at ingest);
 * - `NewEvent`: a validated event waiting for the store to give it a sequence;
 * - `StoredEvent`: a committed event. How it looks on the wire is http/Wire's.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { randomUUID } from "node:crypto"
import { kindOf } from "./EventKinds.js"
import { Severity } from "./Severity.js"
import { isTraceparent, notATraceparent } from "./TraceContext.js"
import { isAbsoluteUri, isUriReference } from "./UriReference.js"
import { illFormedMessage, illFormedPath } from "./UntrustedJson.js"

/** C0 and C1 control characters, which CloudEvents forbids in string attributes. */
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/

const text = (maxLength: number) =>
  Schema.String.pipe(
    Schema.minLength(1, { message: () => "must be a non-empty string" }),
    Schema.maxLength(maxLength, { message: () => `must be at most ${maxLength} characters` }),
    Schema.filter((s) => !controlCharacter.test(s) || "must not contain control characters")
  )

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

export const Timestamp = Schema.String.pipe(
  Schema.filter((s) => (rfc3339.test(s) && !Number.isNaN(Date.parse(s))) || "must be an RFC 3339 timestamp"),
  Schema.annotations({ identifier: "Timestamp", examples: ["2026-11-22T18:00:00.000Z"] })
)

/** Attributes that are part of the envelope itself; anything else on the object is an extension. */
const envelopeAttributes = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "subject",
  "datacontenttype",
  "data",
  "data_base64",
  "severity",
  "node",
  "sequence"
])

/** What a producer sends. Unknown attributes are extensions, checked separately below. */
export const CloudEventInput = Schema.Struct({
  specversion: Schema.Literal("1.0"),
  id: text(256),
  source: text(1024).pipe(
    Schema.filter((s) => isUriReference(s) || "must be a URI-reference (RFC 3986), e.g. /cluster/pve1 or urn:vigil:agent")
  ),
  type: text(256),
  time: Schema.optional(Timestamp),
  subject: Schema.optional(text(1024)),
  datacontenttype: Schema.optional(text(256)),
  data: Schema.optional(Schema.Unknown),
  data_base64: Schema.optional(Schema.String),
  severity: Schema.optional(Severity),
  node: Schema.optional(text(256))
}).annotations({ identifier: "CloudEventInput" })

/** The envelope as vigil emits it (for the OpenAPI document and derived clients; http/Wire renders it). */
export const CloudEvent = Schema.Struct(
  {
    specversion: Schema.Literal("1.0"),
    id: Schema.String,
    source: Schema.String,
    type: Schema.String,
    time: Schema.String,
    subject: Schema.optional(Schema.String),
    datacontenttype: Schema.optional(Schema.String),
    sequence: Schema.Int.annotations({ description: "Store-assigned, strictly increasing; also the SSE id" }),
    severity: Severity,
    node: Schema.optional(Schema.String),
    data: Schema.optional(Schema.Unknown),
    data_base64: Schema.optional(Schema.String)
  },
  // Extension attributes (strings, integers, booleans). Typed as unknown: an index signature also
  // applies to the declared attributes, and `data` is any JSON.
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
).annotations({ identifier: "CloudEvent" })

/**
 * An item of an ingest request as the API declares it: the envelope, and extension attributes
 * beside it (which `validateEvent` checks), so a client derived from the API sends them along.
 */
export const IngestItem = Schema.Struct(CloudEventInput.fields, Schema.Record({ key: Schema.String, value: Schema.Unknown }))
  .annotations({ identifier: "CloudEventInput" })
export type IngestItem = typeof IngestItem.Type

/** A validated event that has no sequence yet. JSON-valued parts are kept as JSON text. */
export interface NewEvent {
  readonly id: string
  readonly source: string
  readonly type: string
  readonly time: string
  readonly subject: string | undefined
  readonly datacontenttype: string | undefined
  readonly severity: Severity
  readonly node: string | undefined
  /** `data` as JSON text, exactly as it will be written into the envelope. */
  readonly data: string | undefined
  readonly dataBase64: string | undefined
  /** Extension attributes (and `dataschema`) as a JSON object text, or undefined when none. */
  readonly extensions: string | undefined
  /**
   * The one user this event is for (the `audience` extension), or undefined for every reader.
   * It also stays in `extensions`, so the envelope carries it.
   */
  readonly audience: string | undefined
}

/** Why one ingested item was refused: the attribute path and what is wrong with it. */
export interface Rejection {
  readonly path: string
  readonly message: string
}

const extensionName = /^[a-z0-9]{1,20}$/

const checkExtensions = (raw: Record<string, unknown>): Either.Either<string | undefined, Rejection> => {
  let out: Record<string, string | number | boolean> | undefined
  for (const key of Object.keys(raw)) {
    if (envelopeAttributes.has(key)) continue
    const value = raw[key]
    if (key === "dataschema") {
      if (typeof value !== "string" || !isAbsoluteUri(value)) {
        return Either.left({ path: key, message: "must be an absolute URI" })
      }
    } else if (!extensionName.test(key)) {
      return Either.left({
        path: key,
        message: "is not a valid CloudEvents extension name (lower-case letters and digits, at most 20)"
      })
    }
    if (value === null || value === undefined) continue
    if (key === "traceparent" && (typeof value !== "string" || !isTraceparent(value))) return Either.left({ path: key, message: notATraceparent })
    if (typeof value === "string" && (value.length > 1024 || controlCharacter.test(value))) {
      return Either.left({ path: key, message: "must be at most 1024 characters, without control characters" })
    }
    if (typeof value === "number" ? !Number.isInteger(value) : typeof value !== "string" && typeof value !== "boolean") {
      return Either.left({
        path: key,
        message: "extension values must be a string, an integer or a boolean; put structured values in data"
      })
    }
    ;(out ??= {})[key] = value as string | number | boolean
  }
  return Either.right(out === undefined ? undefined : JSON.stringify(out))
}

const decodeInput = Schema.decodeUnknownEither(CloudEventInput, { errors: "first" })

const firstIssue = (error: ParseResult.ParseError): Rejection => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  if (issue === undefined) return { path: "", message: "invalid event" }
  const path = issue.path.join(".")
  const message = issue._tag === "Missing" ? "is required" : issue.message
  return { path, message }
}

/**
 * Validates one item of an ingest request. `receivedAt` fills in a missing `time`.
 * A `sequence` sent by the producer is ignored: sequences belong to the store.
 */
export const validateEvent = (
  raw: unknown,
  receivedAt: Date,
  options: {
    /** False when the text it was parsed from has no surrogate escape (see `mayHoldSurrogates`). */
    readonly checkStrings?: boolean
  } = {}
): Either.Either<NewEvent, Rejection> => {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return Either.left({ path: "", message: "each event must be a JSON object" })
  }
  // Stored as UTF-8, a lone surrogate would come back as another string (and another id).
  const illFormed = options.checkStrings === false ? undefined : illFormedPath(raw)
  if (illFormed !== undefined) return Either.left({ path: illFormed, message: illFormedMessage })
  const decoded = decodeInput(raw)
  if (Either.isLeft(decoded)) return Either.left(firstIssue(decoded.left))
  const input = decoded.right
  if (isVigilSource(input.source)) {
    return Either.left({ path: "source", message: `${input.source} is reserved for the events vigil emits itself` })
  }
  if (input.data !== undefined && input.data_base64 !== undefined) {
    return Either.left({ path: "data_base64", message: "an event carries either data or data_base64, not both" })
  }
  const extensions = checkExtensions(raw as Record<string, unknown>)
  if (Either.isLeft(extensions)) return Either.left(extensions.left)
  const audience = (raw as Record<string, unknown>).audience
  if (audience !== undefined && (typeof audience !== "string" || audience.length === 0 || audience.length > 128)) {
    return Either.left({ path: "audience", message: "must be a user name (1..128 characters)" })
  }
  const kind = kindOf(input.type)
  if (kind !== undefined) {
    if (input.data === undefined) return Either.left({ path: "data", message: `is required for type ${input.type}` })
    const data = Schema.decodeUnknownEither(kind, { errors: "first" })(input.data)
    if (Either.isLeft(data)) {
      const issue = firstIssue(data.left)
      return Either.left({ path: issue.path === "" ? "data" : `data.${issue.path}`, message: issue.message })
    }
  }
  return Either.right({
    id: input.id,
    source: input.source,
    type: input.type,
    time: input.time ?? receivedAt.toISOString(),
    subject: input.subject,
    datacontenttype: input.datacontenttype,
    severity: input.severity ?? "info",
    node: input.node,
    data: input.data === undefined ? undefined : JSON.stringify(input.data),
    dataBase64: input.data_base64,
    extensions: extensions.right,
    audience: audience as string | undefined
  })
}

/** The source vigil itself uses for what it emits. */
export const vigilSource = "vigil"

/** `vigil` and `vigil/...`: what vigil emits itself, which no producer may forge. */
export const isVigilSource = (source: string) => source === vigilSource || source.startsWith(`${vigilSource}/`)

/** Builds an event that vigil itself emits (startup, retention, detections, ...). */
export const makeEvent = (fields: {
  readonly type: string
  readonly severity?: Severity | undefined
  readonly source?: string | undefined
  readonly subject?: string | undefined
  readonly node?: string | undefined
  readonly data?: unknown
  readonly time?: Date | undefined
  /** Deliver only to this user. */
  readonly audience?: string | undefined
  /** Extension attributes (lower-case names, scalar values), such as `cause`. */
  readonly extensions?: Readonly<Record<string, string | number | boolean>> | undefined
}): NewEvent => ({
  id: randomUUID(),
  source: fields.source ?? vigilSource,
  type: fields.type,
  time: (fields.time ?? new Date()).toISOString(),
  subject: fields.subject,
  datacontenttype: fields.data === undefined ? undefined : "application/json",
  severity: fields.severity ?? "info",
  node: fields.node,
  data: fields.data === undefined ? undefined : JSON.stringify(fields.data),
  dataBase64: undefined,
  extensions: fields.audience === undefined && fields.extensions === undefined
    ? undefined
    : JSON.stringify({ ...fields.extensions, ...(fields.audience === undefined ? {} : { audience: fields.audience }) }),
  audience: fields.audience
})

/** A committed event: what was validated, with the sequence the store gave it. */
export class StoredEvent implements NewEvent {
  readonly id: string
  readonly source: string
  readonly type: string
  readonly time: string
  readonly subject: string | undefined
  readonly datacontenttype: string | undefined
  readonly severity: Severity
  readonly node: string | undefined
  readonly data: string | undefined
  readonly dataBase64: string | undefined
  readonly extensions: string | undefined
  readonly audience: string | undefined

  constructor(
    readonly sequence: number,
    event: NewEvent,
    /** When the store committed it (epoch ms); drives retention by age and the stats windows. */
    readonly receivedAt: number
  ) {
    this.id = event.id
    this.source = event.source
    this.type = event.type
    this.time = event.time
    this.subject = event.subject
    this.datacontenttype = event.datacontenttype
    this.severity = event.severity
    this.node = event.node
    this.data = event.data
    this.dataBase64 = event.dataBase64
    this.extensions = event.extensions
    this.audience = event.audience
  }
}
