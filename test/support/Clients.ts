/**
 * Real stream clients for tests: the `eventsource` package (the EventSource a browser has) and
 * the `ws` package. Each records what it receives so tests can wait for and inspect it.
 */
import * as Effect from "effect/Effect"
import { EventSource } from "eventsource"
import WebSocket from "ws"

export interface Received {
  readonly sequence: number
  readonly event: any
}

export interface SseClient {
  readonly events: Array<Received>
  /** Named frames other than heartbeats (those go to `heartbeats`). */
  readonly named: Array<{ readonly name: string; readonly data: any }>
  readonly heartbeats: Array<any>
  readonly source: EventSource
  readonly opened: Promise<void>
  readonly close: () => void
}

const namedFrames = ["connected", "gap", "lagged", "shutdown", "heartbeat", "unavailable", "revoked"]

/** Opens an EventSource; `query` is appended to the stream URL. */
export const openSse = (url: string, query = ""): SseClient => {
  const source = new EventSource(`${url}/api/v1/events/stream${query}`)
  const events: Array<Received> = []
  const named: Array<{ name: string; data: any }> = []
  source.onmessage = (m) => {
    const event = JSON.parse(m.data)
    if (String(event.sequence) !== m.lastEventId) throw new Error(`id ${m.lastEventId} != sequence ${event.sequence}`)
    events.push({ sequence: event.sequence, event })
  }
  const heartbeats: Array<any> = []
  for (const name of namedFrames) {
    source.addEventListener(name, (m) => {
      const data = JSON.parse((m as MessageEvent).data)
      if (name === "heartbeat") heartbeats.push(data)
      else named.push({ name, data })
    })
  }
  const opened = new Promise<void>((resolve) => source.addEventListener("open", () => resolve(), { once: true }))
  return { events, named, heartbeats, source, opened, close: () => source.close() }
}

export interface WsClient {
  readonly messages: Array<any>
  readonly socket: WebSocket
  readonly opened: Promise<void>
  readonly closed: Promise<{ code: number; reason: string }>
  readonly events: () => Array<Received>
}

/** Opens a WebSocket; by default answers the server's pings, as a well-behaved client does. */
export const openWs = (url: string, query = "", options: { readonly answerPings?: boolean } = {}): WsClient => {
  const socket = new WebSocket(`${url.replace("http", "ws")}/api/v1/events/ws${query}`)
  const messages: Array<any> = []
  socket.on("message", (data) => {
    const message = JSON.parse(String(data))
    messages.push(message)
    if (message.type === "ping" && options.answerPings !== false) socket.send(`{"type":"pong"}`)
  })
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve())
    socket.once("error", reject)
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: String(reason) }))
  )
  const events = () =>
    messages.filter((m) => m.type === "event").map((m) => ({ sequence: m.event.sequence, event: m.event }))
  return { messages, socket, opened, closed, events }
}

/** Polls until the condition holds, or fails after the timeout with the description. */
export const waitUntil = (description: string, condition: () => boolean, timeoutMs = 20_000) =>
  Effect.promise(async () => {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${description}`)
      await new Promise((r) => setTimeout(r, 10))
    }
  })

/** Asserts strictly increasing sequences (no duplicate, no reordering). */
export const assertStrictlyIncreasing = (received: ReadonlyArray<Received>) => {
  for (let i = 1; i < received.length; i++) {
    if (received[i]!.sequence <= received[i - 1]!.sequence) {
      throw new Error(`sequence ${received[i]!.sequence} after ${received[i - 1]!.sequence} at position ${i}`)
    }
  }
}
