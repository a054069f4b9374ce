/**
 * The body of one SSE response, written to by the Hub directly.
 *
 * A Node Readable that is also the subscriber's Sink: each commit arrives as already-rendered
 * frames and is pushed as one buffer, with no fiber, queue or Stream per connection. That is what
 * keeps an idle connection close to the cost of the socket itself, and a delivery close to one
 * `write`. The bytes of a commit are concatenated once and shared by every client that takes the
 * whole commit (most do: the common filter is "everything").
 *
 * Slowness is measured in bytes the client has not taken: what the response could not pass on to
 * the socket stays in this Readable's buffer, and past `maxBufferedBytes` the Hub cuts it off.
 */
import * as Effect from "effect/Effect"
import { Readable } from "node:stream"
import { type Sink, Signal, type SubscriptionEnded } from "../bus/Hub.js"
import type { StoredEvent } from "../domain/Event.js"
import { sseFrame } from "./Wire.js"

const encoder = new TextEncoder()
const keepAliveFrame = encoder.encode(": keepalive\n\n")

/** A stalled client cannot even read its final frame; its connection is destroyed after this. */
const stalledClientGraceMs = 10_000

const commitFrames = new WeakMap<ReadonlyArray<StoredEvent>, Uint8Array>()

/** The SSE frames of a commit as one buffer, built once per commit however many clients take it. */
export const framesOf = (events: ReadonlyArray<StoredEvent>): Uint8Array => {
  if (events.length === 1) return sseFrame(events[0]!)
  const cached = commitFrames.get(events)
  if (cached !== undefined) return cached
  let size = 0
  for (const event of events) size += sseFrame(event).length
  const out = new Uint8Array(size)
  let offset = 0
  for (const event of events) {
    const frame = sseFrame(event)
    out.set(frame, offset)
    offset += frame.length
  }
  commitFrames.set(events, out)
  return out
}

export class SseBody extends Readable implements Sink {
  /** The sequence of the last event written: what the client resumes from. */
  lastSequence: number | null
  #wroteSinceTick = true
  #finished = false
  #onRoom: (() => void) | undefined

  constructor(after: number | undefined, private readonly maxBufferedBytes: number) {
    super()
    this.lastSequence = after ?? null
  }

  override _read(): void {
    const resume = this.#onRoom
    this.#onRoom = undefined
    resume?.()
  }

  /**
   * Completes when the client has taken what was written, so a replay reads no further ahead:
   * true to go on, false once the stream has ended (nothing more will be written).
   */
  readonly room: Effect.Effect<boolean> = Effect.async<boolean>((resume) => {
    const answer = () => resume(Effect.succeed(!this.#finished))
    if (this.#finished || this.readableLength < this.readableHighWaterMark) return answer()
    this.#onRoom = answer
  })

  write(bytes: Uint8Array): void {
    if (this.#finished) return
    this.push(bytes)
    this.#wroteSinceTick = true
  }

  events(events: ReadonlyArray<StoredEvent>): void {
    if (this.#finished) return
    this.lastSequence = events[events.length - 1]!.sequence
    this.write(framesOf(events))
  }

  signal(signal: Signal): void {
    this.write(sseFrame(signal))
  }

  isBehind(): boolean {
    return this.readableLength > this.maxBufferedBytes
  }

  end(reason: SubscriptionEnded): void {
    switch (reason._tag) {
      case "SubscriberLagged":
        this.finish("lagged", reason.message)
        // A client this far behind may never read that frame either: after a grace, free the
        // connection whatever it has taken.
        setTimeout(() => this.destroy(), stalledClientGraceMs).unref()
        return
      case "ServerShuttingDown":
        return this.finish("shutdown", reason.message)
    }
  }

  /** Writes a last named frame saying why the stream ends (with the resume point), then ends it. */
  finish(name: string, reason: string): void {
    if (this.#finished) return
    this.write(sseFrame(new Signal(name, { reason, lastSequence: this.lastSequence })))
    this.#finished = true
    this.push(null)
    this._read()
  }

  /** A comment frame if nothing was written since the last tick, so idle proxies keep the connection. */
  keepAlive(): void {
    if (!this.#wroteSinceTick) this.write(keepAliveFrame)
    this.#wroteSinceTick = false
  }
}
