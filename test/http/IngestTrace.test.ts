import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { events } from "../support/Events.js"
import { cloudEvent, postEvents, startVigil } from "../support/Vigil.js"

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
const callerParent = `00-${traceId}-00f067aa0ba902b7-01`

describe("trace context on ingested events", () => {
  it.scopedLive("an ingest request's traceparent is continued: its events carry that trace id, with the caller's tracestate", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const sent = [cloudEvent({ type: "trace.one" }), cloudEvent({ type: "trace.one" })]
      const answer = yield* postEvents(vigil.url, sent, { traceparent: callerParent, tracestate: "vendor=abc" })
      expect(answer.body.accepted).toBe(2)
      const stored = yield* events(vigil.url, "trace.one")
      expect(stored).toHaveLength(2)
      for (const e of stored) {
        const [version, trace, span, flags] = (e.traceparent as string).split("-")
        expect([version, trace, flags]).toEqual(["00", traceId, "01"])
        // A span of vigil's own inside the caller's trace, not the caller's span itself.
        expect(span).toMatch(/^[0-9a-f]{16}$/)
        expect(span).not.toBe("00f067aa0ba902b7")
        expect(e.tracestate).toBe("vendor=abc")
      }
    }))

  it.scopedLive("an ingested event with its own traceparent keeps it; one without gets a trace of its own", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const own = `00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01`
      yield* postEvents(vigil.url, [cloudEvent({ type: "trace.own", traceparent: own })], { traceparent: callerParent })
      yield* postEvents(vigil.url, [cloudEvent({ type: "trace.none" })])
      const [kept] = yield* events(vigil.url, "trace.own")
      expect(kept.traceparent).toBe(own)
      expect(kept.tracestate).toBeUndefined()
      const [fresh] = yield* events(vigil.url, "trace.none")
      expect(fresh.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
      expect(fresh.traceparent).not.toContain(traceId)
    }))

  it.scopedLive("a malformed traceparent attribute is refused, naming it", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const answer = yield* postEvents(vigil.url, [cloudEvent({ traceparent: "00-xyz-01" })])
      expect(answer.status).toBe(400)
      expect(answer.body.message).toMatch(/^event rejected: traceparent must be a W3C traceparent/)
    }))
})
