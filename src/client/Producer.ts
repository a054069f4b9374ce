/**
 * The producer SDK: what services embed to push events into vigil.
 *
 * Events are buffered and sent in batches to `POST /api/v1/events` (at 100 events or every
 * 100 ms, whichever comes first). Each event gets its id when it is emitted, so a batch sent again
 * after a timeout or a restart is recognised by the server as the same events: retries cannot
 * duplicate. Network errors, 5xx and 429 are retried with exponential backoff (3 attempts by
 * default, honouring Retry-After); a 4xx is the producer's bug and is never retried. One batch is in
 * flight at a time, so events arrive in the order they were emitted.
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import { randomUUID } from "node:crypto"

export interface ProducerOptions {
  /** vigil's base URL, e.g. http://127.0.0.1:7070 */
  readonly url: string
  /** Bearer token, when vigil requires one. */
  readonly token?: string | undefined
  /** The CloudEvents `source` for events that do not set one. */
  readonly source?: string | undefined
  readonly batchSize?: number | undefined
  readonly flushInterval?: Duration.DurationInput | undefined
  /** Attempts per batch, the first included. */
  readonly maxAttempts?: number | undefined
  /** Delay before the first retry; doubles each time. */
  readonly retryBase?: Duration.DurationInput | undefined
  /** Events held while vigil is unreachable; past this, new events are dropped (and counted). */
  readonly maxBuffered?: number | undefined
}

/** An event to emit: `type` is required; the SDK fills in specversion, id, source and time. */
export interface EventInput {
  readonly type: string
  readonly data?: unknown
  readonly id?: string | undefined
  readonly source?: string | undefined
  readonly subject?: string | undefined
  readonly severity?: "debug" | "info" | "warning" | "error" | "critical" | undefined
  readonly node?: string | undefined
  readonly time?: string | undefined
  readonly [extension: string]: unknown
}

export interface ProducerStats {
  /** Accepted by vigil (stored for the first time). */
  readonly sent: number
  /** Recognised by vigil as already stored (a retry after a lost answer). */
  readonly duplicates: number
  /** Refused by vigil as invalid: a bug in the producer; never retried. */
  readonly rejected: number
  /** Batches sent again after a failure. */
  readonly retried: number
  /** Given up: over the buffer limit, or still failing after every attempt. */
  readonly dropped: number
  readonly buffered: number
}

export interface Producer {
  readonly emit: (event: EventInput) => Effect.Effect<void>
  /** Waits until everything emitted so far has been answered (sent, rejected or dropped). */
  readonly flush: Effect.Effect<void>
  readonly stats: Effect.Effect<ProducerStats>
}

type Outcome = "delivered" | "retry" | "refused"

export const makeProducer = (options: ProducerOptions): Effect.Effect<Producer, never, Scope.Scope | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const batchSize = options.batchSize ?? 100
    const flushInterval = Duration.decode(options.flushInterval ?? "100 millis")
    const maxAttempts = options.maxAttempts ?? 3
    const retryBase = Duration.toMillis(Duration.decode(options.retryBase ?? "100 millis"))
    const maxBuffered = options.maxBuffered ?? 10_000
    const defaultSource = options.source ?? "vigil-producer"
    const client = yield* HttpClient.HttpClient

    const buffer: Array<Record<string, unknown>> = []
    const stats = { sent: 0, duplicates: 0, rejected: 0, retried: 0, dropped: 0 }
    let inFlight = 0
    const wake = yield* Queue.sliding<void>(1)
    const waiting: Array<Deferred.Deferred<void>> = []

    const emit = (event: EventInput) =>
      Effect.sync(() => {
        if (buffer.length >= maxBuffered) {
          stats.dropped++
          return
        }
        buffer.push({
          specversion: "1.0",
          ...event,
          id: event.id ?? randomUUID(),
          source: event.source ?? defaultSource,
          time: event.time ?? new Date().toISOString()
        })
        if (buffer.length >= batchSize) wake.unsafeOffer(undefined)
      })

    const request = (batch: ReadonlyArray<unknown>) =>
      HttpClientRequest.post(`${options.url}/api/v1/events`).pipe(
        HttpClientRequest.setHeader("content-type", "application/cloudevents-batch+json"),
        options.token === undefined ? (r) => r : HttpClientRequest.bearerToken(options.token),
        HttpClientRequest.setBody(HttpBody.text(JSON.stringify(batch), "application/cloudevents-batch+json"))
      )

    /** One attempt: what the answer means for this batch, and how long to wait before a retry. */
    const attempt = (batch: ReadonlyArray<unknown>) =>
      client.execute(request(batch)).pipe(
        Effect.flatMap((response) =>
          Effect.gen(function*() {
            if (response.status === 200) {
              const body = (yield* response.json) as { accepted: number; duplicates: number; rejected: number }
              stats.sent += body.accepted
              stats.duplicates += body.duplicates
              stats.rejected += body.rejected
              return { outcome: "delivered" as Outcome, wait: 0 }
            }
            if (response.status === 429 || response.status >= 500) {
              const retryAfter = Number(response.headers["retry-after"])
              return { outcome: "retry" as Outcome, wait: Number.isFinite(retryAfter) ? retryAfter * 1000 : 0 }
            }
            const body = yield* response.text
            yield* Effect.logWarning(`vigil refused a batch of ${batch.length} (${response.status}): ${body.slice(0, 300)}`)
            stats.rejected += batch.length
            return { outcome: "refused" as Outcome, wait: 0 }
          })
        ),
        Effect.scoped,
        Effect.catchAll(() => Effect.succeed({ outcome: "retry" as Outcome, wait: 0 }))
      )

    const send = (batch: ReadonlyArray<unknown>) =>
      Effect.gen(function*() {
        for (let n = 1; n <= maxAttempts; n++) {
          const { outcome, wait } = yield* attempt(batch)
          if (outcome !== "retry") return
          if (n === maxAttempts) break
          stats.retried++
          yield* Effect.sleep(Math.max(wait, retryBase * 2 ** (n - 1)))
        }
        stats.dropped += batch.length
        yield* Effect.logWarning(`dropped a batch of ${batch.length} events after ${maxAttempts} attempts`)
      })

    const settle = () => {
      if (buffer.length === 0 && inFlight === 0) {
        for (const d of waiting.splice(0)) Deferred.unsafeDone(d, Effect.void)
      }
    }

    const drain = Effect.gen(function*() {
      while (buffer.length > 0) {
        const batch = buffer.splice(0, batchSize)
        inFlight = batch.length
        yield* send(batch)
        inFlight = 0
      }
      settle()
    })

    yield* Queue.take(wake).pipe(
      Effect.timeout(flushInterval),
      Effect.ignore,
      Effect.zipRight(drain),
      Effect.forever,
      Effect.forkScoped
    )

    const flush = Effect.gen(function*() {
      const done = yield* Deferred.make<void>()
      waiting.push(done)
      settle()
      wake.unsafeOffer(undefined)
      yield* Deferred.await(done)
    })

    // Closing the producer sends what it still holds.
    yield* Effect.addFinalizer(() => drain)

    return {
      emit,
      flush,
      stats: Effect.sync(() => ({ ...stats, buffered: buffer.length + inFlight }))
    } satisfies Producer
  })
