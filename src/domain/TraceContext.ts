/**
 * W3C trace context on events: the CloudEvents distributed-tracing extension (`traceparent`,
 * `tracestate`). An event carries the span that published it, so whoever reacts to it (the
 * remediation engine, notifications, a consumer outside vigil) can continue the same trace.
 */
import * as Tracer from "effect/Tracer"
import type { NewEvent } from "./Event.js"

/** `version-traceid-parentid-flags`, lower-case hex; an all-zero trace or span id is invalid. */
const traceparentFormat = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/

export interface TraceContext {
  readonly traceparent: string
  readonly tracestate?: string | undefined
}

export const notATraceparent = "must be a W3C traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>"

export const isTraceparent = (value: string) => traceparentFormat.test(value) && !value.startsWith("ff")

/** The `traceparent` of a span (the version vigil writes is 00). */
export const traceparentOf = (span: { readonly traceId: string; readonly spanId: string; readonly sampled: boolean }) =>
  `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`

/** The trace id inside a `traceparent`, or undefined when it is not one. */
export const traceIdOf = (traceparent: string | null | undefined): string | undefined =>
  traceparent != null && isTraceparent(traceparent) ? traceparent.slice(3, 35) : undefined

/** A span to continue (as parent or link) from a stored `traceparent`; undefined when there is none. */
export const spanOf = (traceparent: string | null | undefined): Tracer.ExternalSpan | undefined => {
  if (traceparent == null || !isTraceparent(traceparent)) return undefined
  const [, traceId, spanId, flags] = traceparent.split("-")
  return Tracer.externalSpan({ traceId: traceId!, spanId: spanId!, sampled: (parseInt(flags!, 16) & 1) === 1 })
}

const extensionsOf = (event: NewEvent): Record<string, unknown> =>
  event.extensions === undefined ? {} : (JSON.parse(event.extensions) as Record<string, unknown>)

/** The event's own trace context, if it carries one. */
export const traceContextOfEvent = (event: NewEvent): TraceContext | undefined => {
  const { traceparent, tracestate } = extensionsOf(event)
  return typeof traceparent === "string" && isTraceparent(traceparent)
    ? { traceparent, tracestate: typeof tracestate === "string" ? tracestate : undefined }
    : undefined
}

/**
 * The event with this trace context, unless it already carries its own: a producer that sent a
 * `traceparent` told where the event belongs, and that is kept.
 */
export const withTraceContext = (event: NewEvent, context: TraceContext): NewEvent => {
  const extensions = extensionsOf(event)
  if (typeof extensions.traceparent === "string") return event
  return {
    ...event,
    extensions: JSON.stringify({
      ...extensions,
      traceparent: context.traceparent,
      ...(context.tracestate === undefined || context.tracestate === "" ? {} : { tracestate: context.tracestate })
    })
  }
}
