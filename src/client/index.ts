/**
 * vigil's client SDK. The Effect API (`makeProducer`, `subscribe`) for Effect programs, and a
 * plain Promise facade (`createProducer`, `follow`) for everything else.
 *
 *   import { createProducer } from "vigil/client"
 *   const vigil = createProducer({ url: "http://127.0.0.1:7070", source: "/agents/coder" })
 *   vigil.emit({ type: "agent.task.completed", data: { agentId: "a-1", durationMs: 2500 } })
 *   await vigil.close()     // sends what is still buffered
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Stream from "effect/Stream"
import { type ConsumerOptions, type ReceivedEvent, subscribe } from "./Consumer.js"
import { type EventInput, makeProducer, type Producer, type ProducerOptions, type ProducerStats } from "./Producer.js"

export { makeProducer, subscribe }
export type { ConsumerOptions, EventInput, Producer, ProducerOptions, ProducerStats, ReceivedEvent }

class ProducerTag extends Context.Tag("vigil/client/Producer")<ProducerTag, Producer>() {}

export interface PromiseProducer {
  /** Buffers the event; it is sent in the next batch. Never throws, never waits. */
  readonly emit: (event: EventInput) => void
  readonly flush: () => Promise<void>
  readonly stats: () => ProducerStats
  /** Sends what is buffered, then stops. */
  readonly close: () => Promise<void>
}

export const createProducer = (options: ProducerOptions): PromiseProducer => {
  const runtime = ManagedRuntime.make(
    Layer.scoped(ProducerTag, makeProducer(options)).pipe(Layer.provide(FetchHttpClient.layer))
  )
  const producer = runtime.runSync(ProducerTag)
  return {
    emit: (event) => runtime.runSync(producer.emit(event)),
    flush: () => runtime.runPromise(producer.flush),
    stats: () => runtime.runSync(producer.stats),
    close: () => runtime.dispose()
  }
}

/** Follows the stream, calling `onEvent` for each event, resuming after disconnects. Returns a stop function. */
export const follow = (options: ConsumerOptions, onEvent: (event: ReceivedEvent) => void): (() => Promise<void>) => {
  const fiber = Effect.runFork(
    subscribe(options).pipe(Stream.runForEach((e) => Effect.sync(() => onEvent(e))), Effect.provide(FetchHttpClient.layer))
  )
  return () => Effect.runPromise(Fiber.interrupt(fiber)).then(() => undefined)
}
