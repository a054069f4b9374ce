import { describe, expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import { makeEvent } from "../../src/domain/Event.js"
import { type EventFilter, matches } from "../../src/domain/EventFilter.js"
import { severities } from "../../src/domain/Severity.js"
import { EventRepo } from "../../src/store/EventRepo.js"
import { EventStore } from "../../src/store/EventStore.js"
import { TestBackbone } from "../support/Backbone.js"

const types = ["vm.crashed", "vm.started", "vmx.other", "node.offline", "ct.crashed", "v"]
const nodes = ["pve1", "pve2", undefined]
const sources = ["monitor", "chat", "agent"]

const arbEvent = FastCheck.record({
  type: FastCheck.constantFrom(...types),
  severity: FastCheck.constantFrom(...severities),
  node: FastCheck.constantFrom(...nodes),
  source: FastCheck.constantFrom(...sources)
})

const arbPattern = FastCheck.oneof(
  FastCheck.constantFrom(...types).map((type) => ({ _tag: "Exact" as const, type })),
  FastCheck.constantFrom("vm.", "vm", "v", "node.", "ct.crashed", "").map((prefix) => ({
    _tag: "Prefix" as const,
    prefix
  }))
)

const arbFilter: FastCheck.Arbitrary<EventFilter> = FastCheck.record({
  types: FastCheck.array(arbPattern, { maxLength: 3 }),
  minSeverity: FastCheck.option(FastCheck.constantFrom(...severities), { nil: undefined }),
  node: FastCheck.option(FastCheck.constantFrom("pve1", "pve2", "pve3"), { nil: undefined }),
  source: FastCheck.option(FastCheck.constantFrom(...sources), { nil: undefined })
})

for (const dialect of ["sqlite", "pg"] as const) {
layer(TestBackbone({}, dialect))(`EventRepo on ${dialect}`, (it) => {
  it.effect("the SQL rendering of a filter selects exactly what the live filter matches", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      const repo = yield* EventRepo
      const fields = FastCheck.sample(arbEvent, { numRuns: 400, seed: 7 })
      const outcomes = yield* store.append(fields.map((f) => makeEvent(f)))
      const stored = outcomes.flatMap((o) => (o._tag === "Inserted" ? [o.event] : []))
      const first = stored[0]!.sequence
      for (const filter of FastCheck.sample(arbFilter, { numRuns: 300, seed: 11 })) {
        const fromSql = yield* repo.recent(filter, { after: first - 1 }, 1000)
        const expected = stored.filter((e) => matches(filter, e)).map((e) => e.sequence).reverse()
        expect(fromSql.map((e) => e.sequence), JSON.stringify(filter)).toEqual(expected)
      }
    }))

  it.effect("an event whose source and id are stored already is a duplicate carrying the first sequence", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      const event = makeEvent({ type: "dup.test" })
      const [first] = yield* store.append([event])
      const again = yield* store.append([event, { ...event, type: "changed" }])
      const concurrent = yield* Effect.all(Array.from({ length: 5 }, () => store.append([event])), {
        concurrency: "unbounded"
      })
      expect(first?._tag).toBe("Inserted")
      const sequence = first?._tag === "Inserted" ? first.event.sequence : -1
      for (const o of [...again, ...concurrent.flat()]) expect(o).toEqual({ _tag: "Duplicate", sequence })
      const repo = yield* EventRepo
      const stored = yield* repo.recent({ types: [], minSeverity: undefined, node: undefined, source: "vigil" }, {
        after: sequence - 1
      }, 100)
      expect(stored.filter((e) => e.id === event.id)).toHaveLength(1)
    }))

  it.effect("a batch is committed in order: sequences follow the order of the request", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      const outcomes = yield* store.append(Array.from({ length: 1200 }, (_, i) => makeEvent({ type: `order.${i}` })))
      const sequences = outcomes.map((o) => (o._tag === "Inserted" ? o.event.sequence : -1))
      sequences.forEach((s, i) => i > 0 && expect(s).toBe(sequences[i - 1]! + 1))
    }))
})

describe(`EventStore on ${dialect}`, () => {
  layer(TestBackbone({ VIGIL_WRITER_MAX_BATCH: "10" }, dialect))((it) => {
    it.effect("many concurrent producers are all answered with distinct, committed sequences", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const answers = yield* Effect.all(
          Array.from({ length: 50 }, (_, p) => store.append(Array.from({ length: 7 }, () => makeEvent({ type: `p${p}` })))),
          { concurrency: "unbounded" }
        )
        const sequences = answers.flat().map((o) => (o._tag === "Inserted" ? o.event.sequence : -1))
        expect(new Set(sequences).size).toBe(350)
        const repo = yield* EventRepo
        const counts = yield* repo.counts()
        expect(counts.total).toBe(350)
      }))
  })
})
}
