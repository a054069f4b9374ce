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
import * as Effect from "effect/Effect"
import type { Socket } from "node:net"
import type { WebSocket } from "ws"
import { type Sink, Signal, type SubscriptionEnded } from "../bus/Hub.js"
import type { StoredEvent } from "../domain/Event.js"
import { wsMessageBytes } from "./Wire.js"

export const closeCodes = { pingTimeout: 4000, lagged: 4001, revoked: 4003, goingAway: 1001, unavailable: 1011 } as const

/** A stalled client cannot even read its close frame; its connection is destroyed after this. */
const stalledClientGraceMs = 10_000

/** Bytes a replay leaves unsent before it reads the next page. */
const replayHighWater = 64 * 1024

const text = { binary: false } as const

export class WsSink implements Sink {
  /** The sequence of the last event sent: what the client resumes from. */
  lastSequence: number | null
  /** Whether the client said anything since the last ping. */
  #heard = true
  #finished = false
  #onRoom: (() => void) | undefined

  constructor(private readonly ws: WebSocket, private readonly socket: Socket, after: number | undefined, private readonly maxBufferedBytes: number) {
    this.lastSequence = after ?? null
  }

  #wake(): void {
    const resume = this.#onRoom
    this.#onRoom = undefined
    resume?.()
  }

  get finished(): boolean {
    return this.#finished
  }

  /**
   * Completes when the socket has room again: true to go on, false once the connection is ending.
   * Made when a replay asks (an idle connection keeps no effect or listener for it).
   */
  get room(): Effect.Effect<boolean> {
    return Effect.async<boolean>((resume) => {
      const answer = () => resume(Effect.succeed(!this.#finished))
      if (this.#finished || this.socket.writableLength < replayHighWater) return answer()
      this.#onRoom = answer
      this.socket.once("drain", () => this.#wake())
    })
  }

  send(message: string | Uint8Array): void {
    if (this.#finished || this.ws.readyState !== this.ws.OPEN) return
    this.ws.send(message, text)
  }

  events(events: ReadonlyArray<StoredEvent>): void {
    if (this.#finished) return
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
    if (this.#finished) return
    this.send(wsMessageBytes(new Signal(name, { reason, lastSequence: this.lastSequence })))
    this.#finished = true
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(code, name)
    this.#wake()
  }

  /** The shared ping timer's tick: closes a client that did not answer the last ping, pings the others. */
  tick(): void {
    if (!this.#heard) return this.finish("timeout", "no answer to ping", closeCodes.pingTimeout)
    this.#heard = false
    this.send(pingBytes)
  }
}

const pingBytes = new TextEncoder().encode(`{"type":"ping"}`)
