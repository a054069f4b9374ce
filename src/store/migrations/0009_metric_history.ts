/**
 * Metric history: each series (a resource's metric) gets a small integer id, and every point or
 * bucket of every tier is one row keyed by (tier, t, series). That is the order they are written
 * in (a poll's points, then a minute's buckets, all at one time), so a write fills a few pages at
 * the end of its tier instead of touching one page per series; `metric_times` lists the times each
 * tier has, so one series' range is read as one key lookup per time. A raw point keeps its value
 * in `vsum` with `n` = 1 and no min or max (NULL costs no bytes), a bucket of one;
 * `metric_rollups` says up to when each coarser tier is complete.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { columnTypes } from "./ColumnTypes.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { id, bigint, double, keyed } = columnTypes(sql)
  yield* sql`CREATE TABLE metric_series (
    id ${id},
    resource TEXT NOT NULL,
    metric TEXT NOT NULL,
    UNIQUE (resource, metric)
  )`
  yield* sql`CREATE TABLE metric_points (
    series ${bigint} NOT NULL,
    tier SMALLINT NOT NULL,
    t ${bigint} NOT NULL,
    vmin ${double},
    vmax ${double},
    vsum ${double} NOT NULL,
    n ${bigint} NOT NULL,
    PRIMARY KEY (tier, t, series)
  ) ${keyed}`
  yield* sql`CREATE TABLE metric_times (
    tier SMALLINT NOT NULL,
    t ${bigint} NOT NULL,
    PRIMARY KEY (tier, t)
  ) ${keyed}`
  yield* sql`CREATE TABLE metric_rollups (
    tier SMALLINT PRIMARY KEY,
    through ${bigint} NOT NULL
  )`
})
