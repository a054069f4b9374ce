/**
 * Column types as both dialects return them, for the row schemas the repositories decode with:
 * PostgreSQL returns BIGINT as a string and BOOLEAN as a boolean, SQLite integers for both. Row
 * field names arrive camelCased (the SQL client's `transformResultNames`).
 */
import * as Schema from "effect/Schema"

/** An integer column (epoch milliseconds, counts, sequences): a number, or a BIGINT's string. */
export const Int = Schema.Union(Schema.Number, Schema.NumberFromString)

/** A boolean column: a boolean (PostgreSQL) or 0/1 (SQLite). */
export const Bool = Schema.Union(
  Schema.Boolean,
  Schema.transform(Schema.Literal(0, 1), Schema.Boolean, { strict: true, decode: (n) => n === 1, encode: (b) => (b ? 1 : 0) })
)

/** Epoch milliseconds as the API shows them. */
export const iso = (ms: number) => new Date(ms).toISOString()
