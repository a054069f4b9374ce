/**
 * The column types whose names differ between SQLite and PostgreSQL, for DDL that serves both.
 * Not a migration itself: the migrations share it.
 */
import type * as SqlClient from "@effect/sql/SqlClient"

export const columnTypes = (sql: SqlClient.SqlClient) => ({
  /** An integer key the database assigns. */
  id: sql.onDialectOrElse({
    pg: () => sql.literal("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
    orElse: () => sql.literal("INTEGER PRIMARY KEY AUTOINCREMENT")
  }),
  /** Epoch milliseconds, sequences, counts (SQLite's INTEGER is 64-bit). */
  bigint: sql.onDialectOrElse({ pg: () => sql.literal("BIGINT"), orElse: () => sql.literal("INTEGER") }),
  /** A floating-point measurement (SQLite stores a whole one in fewer bytes, as an integer). */
  double: sql.onDialectOrElse({ pg: () => sql.literal("DOUBLE PRECISION"), orElse: () => sql.literal("REAL") }),
  /**
   * After a table whose primary key is how it is read: SQLite then keeps rows in the key's b-tree
   * alone, without a second copy in a rowid table (PostgreSQL has no such option, nor needs it).
   */
  keyed: sql.onDialectOrElse({ pg: () => sql.literal(""), orElse: () => sql.literal("WITHOUT ROWID") }),
  bool: sql.onDialectOrElse({ pg: () => sql.literal("BOOLEAN"), orElse: () => sql.literal("INTEGER") }),
  /** The false default of a `bool` column. */
  no: sql.onDialectOrElse({ pg: () => sql.literal("FALSE"), orElse: () => sql.literal("0") })
})
