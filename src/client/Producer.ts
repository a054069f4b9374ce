/**
 * The producer SDK: what services embed to push events into vigil.
 *
 * Events are buffered and sent in batches to `POST /api/v1/events` (at 100 events or every
 * 100 ms, whichever comes first). Each event gets its id when it is emitted, so a batch sent again
 * after a timeout or a restart is recognised by the server as the same events: retries cannot
 * duplicate. Each event is checked with the rules vigil applies before it is sent, so one bad
 * event never costs its batch. Requests go through a client derived from vigil's API definition.
 * Network errors, 5xx and 429 are retried with exponential backoff (3 attempts by default,
 * honouring Retry-After); a 4xx is the producer's bug and is never retried. One batch is in flight
 * at a time, so events arrive in the order they were emitted.
 */
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import { randomUUID } from "node:crypto"
import { VigilApi } from "../api/Api.js"
import { type IngestItem, validateEvent } from "../domain/Event.js"

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

    const buffer: Array<IngestItem> = []
    const stats = { sent: 0, duplicates: 0, rejected: 0, retried: 0, dropped: 0 }
    let inFlight = 0
    const wake = yield* Queue.sliding<void>(1)
    const waiting: Array<Deferred.Deferred<void>> = []

    const emit = (event: EventInput) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        if (buffer.length >= maxBuffered) {
          stats.dropped++
          return
        }
        buffer.push({
          ...event,
          specversion: "1.0",
          id: event.id ?? randomUUID(),
          source: event.source ?? defaultSource,
          time: event.time ?? new Date(now).toISOString()
        })
        if (buffer.length >= batchSize) wake.unsafeOffer(undefined)
      })

    const api = yield* HttpApiClient.make(VigilApi, {
      baseUrl: options.url,
      transformClient: options.token === undefined ? undefined : HttpClient.mapRequest(HttpClientRequest.bearerToken(options.token))
    })

    const delivered = { outcome: "delivered" as Outcome, wait: 0 }
    const retry = (wait = 0) => Effect.succeed({ outcome: "retry" as Outcome, wait })
    const refused = (batch: ReadonlyArray<unknown>, why: string) =>
      Effect.gen(function*() {
        yield* Effect.logWarning(`vigil refused a batch of ${batch.length}: ${why.slice(0, 300)}`)
        stats.rejected += batch.length
        return { outcome: "refused" as Outcome, wait: 0 }
      })

    /** One attempt: what the answer means for this batch, and how long to wait before a retry. */
    const attempt = (batch: ReadonlyArray<IngestItem>) =>
      api.events.ingest({ payload: batch }).pipe(
        Effect.map((answer) => {
          stats.sent += answer.accepted
          stats.duplicates += answer.duplicates
          stats.rejected += answer.rejected
          return delivered
        }),
        Effect.catchTags({
          EventsRejected: (e) => refused(batch, e.message),
          TooManyRequests: (e) => retry(e.retryAfterSeconds * 1000),
          ServiceUnavailable: () => retry(),
          // A proxy's 502 or a reset connection: worth another try.
          ResponseError: (e) => (e.response.status >= 500 ? retry() : refused(batch, e.message)),
          RequestError: () => retry()
        }),
        // A 4xx the producer caused (its body, its token): retrying cannot help.
        Effect.catchAll((e) => refused(batch, "message" in e ? String(e.message) : String(e)))
      )

    /**
     * Items vigil would refuse (the same check it makes) are counted and set aside here: the
     * client derived from the API would refuse to encode the whole batch for one of them.
     */
    const admissible = (batch: ReadonlyArray<IngestItem>) =>
      Effect.gen(function*() {
        const now = new Date(yield* Clock.currentTimeMillis)
        const out: Array<IngestItem> = []
        for (const item of batch) {
          const checked = validateEvent(item, now)
          if (Either.isRight(checked)) out.push(item)
          else {
            stats.rejected++
            yield* Effect.logWarning(`vigil would refuse event ${item.id}: ${checked.left.path} ${checked.left.message}`)
          }
        }
        return out
      })

    const send = (all: ReadonlyArray<IngestItem>) =>
      Effect.gen(function*() {
        const batch = yield* admissible(all)
        if (batch.length === 0) return
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
