/**
 * One WebSocket client, written to by the Hub directly: the counterpart of SseSink for the
 * WebSocket transport. Each event's message is rendered once, as bytes, and the same buffer is
 * sent to every client that takes it; there is no fiber, queue or Stream per connection, and
 * pings come from one timer for all of them (`tick`).
 *
 * The WebSocket protocol has no backpressure of its own, so slowness is measured in bytes the
 * socket has not yet passed on: past `maxBufferedBytes` the Hub cuts the client off (`lagged`,
 * 4001) and it resumes from its last sequence. A replay waits for the socket to drain (`room`).
 */
import type { Socket } from "node:net"
import type { WebSocket } from "ws"
import { type Sink, Signal, type SubscriptionEnded } from "../bus/Hub.js"
import type { StoredEvent } from "../domain/Event.js"
import { SocketSink, stalledClientGraceMs } from "./SocketSink.js"
import { wsMessageBytes } from "./Wire.js"

export const closeCodes = { pingTimeout: 4000, lagged: 4001, revoked: 4003, goingAway: 1001, unavailable: 1011 } as const

const text = { binary: false } as const

export class WsSink extends SocketSink implements Sink {
  /** Whether the client said anything since the last ping. */
  #heard = true

  constructor(private readonly ws: WebSocket, socket: Socket, after: number | undefined, private readonly maxBufferedBytes: number) {
    super(socket, after)
  }

  send(message: string | Uint8Array): void {
    if (this.ended || this.ws.readyState !== this.ws.OPEN) return
    this.ws.send(message, text)
  }

  events(events: ReadonlyArray<StoredEvent>): void {
    if (this.ended) return
    for (const event of events) this.send(wsMessageBytes(event))
    this.lastSequence = events[events.length - 1]!.sequence
  }

  signal(signal: Signal): void {
    this.send(wsMessageBytes(signal))
  }

  isBehind(): boolean {
    return this.socket.writableLength > this.maxBufferedBytes
  }

  /** The client said something: it is alive. */
  heard(): void {
    this.#heard = true
  }

  end(reason: SubscriptionEnded): void {
    switch (reason._tag) {
      case "SubscriberLagged":
        this.finish("lagged", reason.message, closeCodes.lagged)
        // A client this far behind may never read its close frame: free the connection after a grace.
        setTimeout(() => this.ws.terminate(), stalledClientGraceMs).unref()
        return
      case "ServerShuttingDown":
        return this.finish("shutdown", reason.message, closeCodes.goingAway)
    }
  }

  /** Sends a last message saying why (with the resume point), then closes with `code`. */
  finish(name: string, reason: string, code: number): void {
    if (this.ended) return
    this.send(wsMessageBytes(new Signal(name, { reason, lastSequence: this.lastSequence })))
    this.markEnded()
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(code, name)
  }

  /** The shared ping timer's tick: closes a client that did not answer the last ping, pings the others. */
  tick(): void {
    if (!this.#heard) return this.finish("timeout", "no answer to ping", closeCodes.pingTimeout)
    this.#heard = false
    this.send(pingBytes)
  }
}

const pingBytes = new TextEncoder().encode(`{"type":"ping"}`)
