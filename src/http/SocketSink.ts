/**
 * What the SSE and WebSocket clients the Hub writes to share: the socket they are written to,
 * the sequence a client resumes from, whether its stream has ended, and how a replay waits for
 * the socket to pass on what it was given before reading the next page (`room`).
 */
import * as Effect from "effect/Effect"
import type { Socket } from "node:net"

/** A stalled client cannot even read its final frame; its connection is destroyed after this. */
export const stalledClientGraceMs = 10_000

/** Bytes a replay leaves unsent before it reads the next page. */
const replayHighWater = 64 * 1024

export abstract class SocketSink {
  /** The sequence of the last event written: what the client resumes from. */
  lastSequence: number | null
  #ended = false
  #onRoom: (() => void) | undefined

  constructor(protected readonly socket: Socket, after: number | undefined) {
    this.lastSequence = after ?? null
  }

  /** Whether the stream has ended: nothing more is written. */
  protected get ended(): boolean {
    return this.#ended
  }

  /** Marks the stream ended, and lets a waiting replay go on to find that out. */
  protected markEnded(): void {
    this.#ended = true
    this.#wake()
  }

  /**
   * Completes when the socket has room again: true to go on, false once the stream has ended.
   * Made when a replay asks (an idle connection keeps no effect or listener for it).
   */
  get room(): Effect.Effect<boolean> {
    return Effect.async<boolean>((resume) => {
      const answer = () => resume(Effect.succeed(!this.#ended))
      if (this.#ended || this.socket.writableLength < replayHighWater) return answer()
      this.#onRoom = answer
      this.socket.once("drain", () => this.#wake())
    })
  }

  #wake(): void {
    const resume = this.#onRoom
    this.#onRoom = undefined
    resume?.()
  }
}
