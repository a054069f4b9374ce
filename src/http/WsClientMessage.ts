/**
 * What a WebSocket client may say, read without trusting it: bounded in size and depth before it
 * is parsed, decoded against the schema, and answered with a short reason when it is wrong. Pure.
 *
 * `{"type":"subscribe","filter":{type,severity,node,source},"after":N}` replaces the current
 * subscription; `{"type":"ping"}` is answered with pong; `{"type":"pong"}` answers a ping.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { FilterParams } from "../domain/EventFilter.js"
import { decodeUtf8, parseUntrusted } from "../domain/UntrustedJson.js"

export const ClientMessage = Schema.Union(
  Schema.Struct({
    type: Schema.Literal("subscribe"),
    filter: Schema.optional(Schema.Struct(FilterParams)),
    after: Schema.optional(Schema.Int.pipe(Schema.nonNegative()))
  }),
  Schema.Struct({ type: Schema.Literal("ping") }),
  Schema.Struct({ type: Schema.Literal("pong") })
)
export type ClientMessage = typeof ClientMessage.Type

const decodeClientMessage = Schema.decodeUnknownEither(ClientMessage, { errors: "first" })

/** The first thing wrong with a message, short: an error answer must not echo a large value back. */
const describeIssue = (error: ParseResult.ParseError): string => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  if (issue === undefined) return "invalid message"
  const text = `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

export interface Limits {
  readonly maxBytes: number
  readonly maxDepth: number
}

/** The message, or why it is refused (what the client is told). */
export const readClientMessage = (data: string | Uint8Array, limits: Limits): Either.Either<ClientMessage, string> => {
  const text = typeof data === "string" ? Either.right(data) : decodeUtf8(data)
  if (Either.isLeft(text)) return Either.left(`unrecognised message: ${text.left.message}`)
  if (text.right.length > limits.maxBytes) {
    return Either.left(`message exceeds the limit of ${limits.maxBytes} bytes (VIGIL_MAX_JSON_BYTES)`)
  }
  const json = parseUntrusted(text.right, { maxDepth: limits.maxDepth })
  if (Either.isLeft(json)) {
    const { message, path } = json.left
    return Either.left(`unrecognised message: ${path === "" ? "" : `${path} `}${message}`)
  }
  return Either.mapLeft(decodeClientMessage(json.right), (error) => `unrecognised message: ${describeIssue(error)}`)
}
