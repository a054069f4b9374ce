/**
 * One SSE client, written to by the Hub directly: each commit arrives as already-rendered frames
 * and goes out as one `write` on the client's socket, with no fiber, queue, Stream, response
 * object or intermediate body per connection. That is what keeps an idle connection close to the
 * cost of the socket itself. The bytes of a commit are concatenated once and shared by every
 * client that takes the whole commit (most do: the common filter is "everything").
 *
 * The response's head is written once, as bytes, and its body is delimited by the end of the
 * connection (RFC 9112 §6.3): a stream has no length, and ends only by closing, so there is no
 * chunk framing to add to every write and no response object to keep.
 *
 * Slowness is measured in bytes the socket has not passed on: past `maxBufferedBytes` the Hub
 * cuts the client off (`lagged`) and it resumes with Last-Event-ID. A replay waits for the socket
 * to drain (`room`).
 */
import type { Socket } from "node:net"
import { type Sink, Signal, type SubscriptionEnded } from "../bus/Hub.js"
import type { StoredEvent } from "../domain/Event.js"
import { SocketSink, stalledClientGraceMs } from "./SocketSink.js"
import { sseFrame } from "./Wire.js"

const encoder = new TextEncoder()
const keepAliveFrame = encoder.encode(": keepalive\n\n")

/**
 * The head of a `200` stream response with `headers` (lower-case names, as the platform keeps
 * them). A header whose name or value could break the head's lines is left out: headers come from
 * vigil's own routes and middleware, never from the request, so this is only a guard.
 */
export const streamHead = (headers: Readonly<Record<string, string>>): Uint8Array => {
  let head = "HTTP/1.1 200 OK\r\n"
  for (const name in headers) {
    const value = headers[name]!
    if (/[\r\n:]/.test(name) || /[\r\n]/.test(value)) continue
    head += `${name}: ${value}\r\n`
  }
  return encoder.encode(`${head}connection: close\r\n\r\n`)
}

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

export class SseSink extends SocketSink implements Sink {
  #wroteSinceTick = true

  constructor(socket: Socket, after: number | undefined, private readonly maxBufferedBytes: number) {
    super(socket, after)
  }

  write(bytes: Uint8Array): void {
    if (this.ended || this.socket.destroyed) return
    this.socket.write(bytes)
    this.#wroteSinceTick = true
  }

  events(events: ReadonlyArray<StoredEvent>): void {
    if (this.ended) return
    this.lastSequence = events[events.length - 1]!.sequence
    this.write(framesOf(events))
  }

  signal(signal: Signal): void {
    this.write(sseFrame(signal))
  }

  isBehind(): boolean {
    return this.socket.writableLength > this.maxBufferedBytes
  }

  end(reason: SubscriptionEnded): void {
    switch (reason._tag) {
      case "SubscriberLagged":
        this.finish("lagged", reason.message)
        // A client this far behind may never read that frame either: after a grace, free the
        // connection whatever it has taken.
        setTimeout(() => this.socket.destroy(), stalledClientGraceMs).unref()
        return
      case "ServerShuttingDown":
        return this.finish("shutdown", reason.message)
    }
  }

  /** Writes a last named frame saying why the stream ends (with the resume point), then closes. */
  finish(name: string, reason: string): void {
    if (this.ended) return
    this.write(sseFrame(new Signal(name, { reason, lastSequence: this.lastSequence })))
    this.markEnded()
    this.socket.end()
  }

  /** A comment frame if nothing was written since the last tick, so idle proxies keep the connection. */
  keepAlive(): void {
    if (!this.#wroteSinceTick) this.write(keepAliveFrame)
    this.#wroteSinceTick = false
  }
}
