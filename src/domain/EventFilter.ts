/**
 * Which events a reader wants. One filter serves the recent-events query (rendered to SQL by
 * the store), replay, and the live fan-out (the pure `matches` below), so the three can never
 * disagree about what a subscriber sees.
 */
import * as Schema from "effect/Schema"
import { Severity, severityRank } from "./Severity.js"

/** `vm.crashed` matches exactly; `vm.*` matches every type that starts with `vm.`. */
export type TypePattern =
  | { readonly _tag: "Exact"; readonly type: string }
  | { readonly _tag: "Prefix"; readonly prefix: string }

export interface EventFilter {
  /** Empty means every type. Several patterns match when any of them does. */
  readonly types: ReadonlyArray<TypePattern>
  readonly minSeverity: Severity | undefined
  readonly node: string | undefined
  readonly source: string | undefined
  /**
   * Who is reading: events addressed to another user (`audience`) are not theirs to see.
   * Undefined means no user context (authentication off): every event.
   */
  readonly viewer?: string | undefined
}

/**
 * Most type patterns one filter may carry: each becomes a term of the store's query, and SQLite
 * refuses expressions past a depth of 1000.
 */
export const maxTypePatterns = 32

/** The filter as readers send it (query parameters, a WebSocket `subscribe`), bounded. */
export const FilterParams = {
  type: Schema.optional(
    Schema.String.pipe(
      Schema.filter((s) => {
        const patterns = s.split(",")
        if (patterns.length > maxTypePatterns) return `must list at most ${maxTypePatterns} type patterns`
        return patterns.every((p) => p.length <= 256) || "each type pattern must be at most 256 characters"
      })
    ).annotations({ description: `Exact type, or a prefix ending in * (vm.*); up to ${maxTypePatterns} separated by commas` })
  ),
  severity: Schema.optional(Severity.annotations({ description: "Minimum severity" })),
  node: Schema.optional(Schema.String.pipe(Schema.maxLength(256, { message: () => "must be at most 256 characters" }))),
  source: Schema.optional(Schema.String.pipe(Schema.maxLength(1024, { message: () => "must be at most 1024 characters" })))
}

export const everything: EventFilter = { types: [], minSeverity: undefined, node: undefined, source: undefined }

/** Parses `vm.*,node.offline` into patterns; `*` alone (or nothing) means every type. */
export const parseTypePatterns = (spec: string | undefined): ReadonlyArray<TypePattern> => {
  if (spec === undefined) return []
  const patterns: Array<TypePattern> = []
  for (const part of spec.split(",")) {
    const p = part.trim()
    if (p === "" ) continue
    if (p === "*") return []
    patterns.push(p.endsWith("*") ? { _tag: "Prefix", prefix: p.slice(0, -1) } : { _tag: "Exact", type: p })
  }
  return patterns
}

export const makeFilter = (params: {
  readonly type?: string | undefined
  readonly severity?: Severity | undefined
  readonly node?: string | undefined
  readonly source?: string | undefined
}, viewer?: string | undefined): EventFilter => ({
  types: parseTypePatterns(params.type),
  minSeverity: params.severity,
  node: params.node,
  source: params.source,
  viewer
})

/** The fields of an event that a filter looks at. */
export interface Filterable {
  readonly type: string
  readonly severity: Severity
  readonly node: string | undefined
  readonly source: string
  readonly audience?: string | undefined
}

const typeMatches = (patterns: ReadonlyArray<TypePattern>, type: string): boolean => {
  if (patterns.length === 0) return true
  for (const p of patterns) {
    if (p._tag === "Exact" ? type === p.type : type.startsWith(p.prefix)) return true
  }
  return false
}

export const matches = (filter: EventFilter, event: Filterable): boolean =>
  typeMatches(filter.types, event.type) &&
  (filter.minSeverity === undefined || severityRank(event.severity) >= severityRank(filter.minSeverity)) &&
  (filter.node === undefined || event.node === filter.node) &&
  (filter.source === undefined || event.source === filter.source) &&
  (filter.viewer === undefined || event.audience === undefined || event.audience === filter.viewer)
