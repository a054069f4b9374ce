/**
 * Formats every configuration module reads its `VIGIL_*` variables in: comma-separated lists,
 * positive integers, durations in words, JSON decoded by a schema; each failing with the
 * variable's name.
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** `a, b,c` → ["a", "b", "c"]; empty entries dropped. */
export const commaList = (name: string, fallback = ""): Config.Config<Array<string>> =>
  Config.string(name).pipe(
    Config.withDefault(fallback),
    Config.map((s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0))
  )

export const positiveInt = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: "must be a positive integer", validation: (n) => n > 0 }),
    Config.withDefault(fallback)
  )

/** A duration as people write it in a variable: `500 millis`, `30 seconds`, `2 hours`. */
export const DurationString = Schema.transformOrFail(Schema.String, Schema.DurationFromSelf, {
  strict: true,
  decode: (text, _, ast) =>
    Option.match(Duration.decodeUnknown(text), {
      onNone: () => ParseResult.fail(new ParseResult.Type(ast, text, `"${text}" is not a duration (e.g. "30 seconds")`)),
      onSome: ParseResult.succeed
    }),
  encode: (d) => ParseResult.succeed(Duration.format(d))
})

/** A variable holding JSON, decoded with `schema`; a bad value names the variable and the field. */
export const jsonConfig = <A, I>(name: string, schema: Schema.Schema<A, I>): Config.Config<A> =>
  Schema.Config(name, Schema.parseJson(schema))
