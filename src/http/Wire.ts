/**
 * How events and signals look on the wire: the CloudEvent in structured JSON mode, an SSE frame
 * (Sse.encoder's format), a WebSocket message. Each is rendered once per event, however many
 * clients take it: with a thousand subscribers the JSON is built once and the SSE frame encoded to
 * bytes once and written to every socket as is.
 *
 * `sequence` is emitted as a JSON integer (a CloudEvents `Integer` attribute), never as a string:
 * clients compare it numerically and it is the same number as the SSE `id:`.
 */
import * as Sse from "@effect/experimental/Sse"
import type { Delivery } from "../bus/Hub.js"
import { StoredEvent } from "../domain/Event.js"

const encoder = new TextEncoder()
const q = JSON.stringify

const jsonCache = new WeakMap<StoredEvent, string>()
const sseCache = new WeakMap<Delivery, Uint8Array>()
const wsBytesCache = new WeakMap<Delivery, Uint8Array>()

const memo = <K extends object, V>(cache: WeakMap<K, V>, key: K, render: (key: K) => V): V => {
  let value = cache.get(key)
  if (value === undefined) cache.set(key, value = render(key))
  return value
}

/** The CloudEvent in structured JSON mode, its attributes in a fixed order, its data as stored. */
export const cloudEventJson = (e: StoredEvent): string =>
  memo(jsonCache, e, () => {
    let s = `{"specversion":"1.0","id":${q(e.id)},"source":${q(e.source)},"type":${q(e.type)},"time":${q(e.time)}`
    if (e.subject !== undefined) s += `,"subject":${q(e.subject)}`
    if (e.datacontenttype !== undefined) s += `,"datacontenttype":${q(e.datacontenttype)}`
    s += `,"sequence":${e.sequence},"severity":"${e.severity}"`
    if (e.node !== undefined) s += `,"node":${q(e.node)}`
    if (e.extensions !== undefined && e.extensions.length > 2) s += `,${e.extensions.slice(1, -1)}`
    if (e.data !== undefined) s += `,"data":${e.data}`
    if (e.dataBase64 !== undefined) s += `,"data_base64":${q(e.dataBase64)}`
    return s + "}"
  })

/**
 * One SSE frame. An event's `id:` is its sequence and it has no `event:` line, so `onmessage`
 * gets it; a signal is a named frame, so `onmessage` never sees it and clients listen by name.
 * The JSON has no raw newlines (JSON.stringify escapes them), so one data line suffices.
 */
export const sseFrame = (d: Delivery): Uint8Array =>
  memo(sseCache, d, () =>
    encoder.encode(Sse.encoder.write(
      d instanceof StoredEvent
        ? { _tag: "Event", id: String(d.sequence), event: "message", data: cloudEventJson(d) }
        : { _tag: "Event", id: undefined, event: d.name, data: d.json }
    )))

/** The WebSocket message: `{"type":"event","event":…}`, or `{"type":<signal>,"data":…}`. */
export const wsMessage = (d: Delivery): string =>
  d instanceof StoredEvent ? `{"type":"event","event":${cloudEventJson(d)}}` : `{"type":${q(d.name)},"data":${d.json}}`

/** The WebSocket message as bytes, encoded once and sent as is to every client that takes it. */
export const wsMessageBytes = (d: Delivery): Uint8Array => memo(wsBytesCache, d, () => encoder.encode(wsMessage(d)))
