/**
 * A typed client for the parts of the Proxmox VE API vigil uses: cluster resources and status,
 * node status, the task log, starting guests and following their tasks. Every call has a timeout
 * and fails with a `SourceError` that says what went wrong in words an operator can act on.
 *
 * TLS is verified by default; `VIGIL_PROXMOX_CA_FILE` adds a CA, `VIGIL_PROXMOX_FINGERPRINT`
 * pins the server certificate instead (PVE's self-signed default), and `VIGIL_PROXMOX_INSECURE`
 * turns verification off explicitly.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import type { Duplex } from "node:stream"
import type { TLSSocket } from "node:tls"
import { SourceError } from "./ClusterSource.js"
import { ClusterResourcesFromApi, fastClusterResources } from "./ResourceDecoder.js"
import { BackupJobItem, StorageContentItem, TaskLogLine } from "./PveBackupSchema.js"
import { AptUpdateItem, CephStatus, ClusterStatusItem, DiskItem, ReplicationItem, ZfsPoolItem, Envelope, HaStatusItem, NodeStatusDetail, Permissions, Task, TaskStatus, Version } from "./PveSchema.js"
import type { ProxmoxConfig } from "./SourceConfig.js"

/** A SHA-256 fingerprint in one form, however it was written (`AB:CD:…`, `abcd…`). */
export const normalizeFingerprint = (f: string) => f.replace(/[^0-9a-f]/gi, "").toUpperCase()

/**
 * An https agent that accepts exactly one certificate, by its SHA-256 fingerprint. Node skips
 * `checkServerIdentity` when CA verification is off, so the pin is checked on the connected
 * socket itself, before any request is written.
 *
 * TLS sessions are not resumed: on a resumed session the server sends no certificate, so there
 * would be nothing to check the pin against (pveproxy issues session tickets; an agent that caches
 * them sees an empty fingerprint from the second connection on). Connections are kept alive
 * instead, so a full handshake is rare.
 */
class PinnedAgent extends Https.Agent {
  constructor(private readonly pinned: string, private readonly shown: string) {
    // The pin replaces CA verification: PVE ships a self-signed certificate.
    super({ rejectUnauthorized: false, maxCachedSessions: 0, keepAlive: true })
  }
  override createConnection(options: Https.RequestOptions, callback?: (error: Error | null, socket: Duplex) => void): Duplex {
    const socket = super.createConnection(options, callback) as TLSSocket
    socket.once("secureConnect", () => {
      const actual = socket.getPeerCertificate().fingerprint256
      if (actual === undefined || actual === "") {
        socket.destroy(new Error("the server presented no certificate to check VIGIL_PROXMOX_FINGERPRINT against"))
      } else if (normalizeFingerprint(actual) !== this.pinned) {
        socket.destroy(new Error(`certificate fingerprint ${actual} does not match VIGIL_PROXMOX_FINGERPRINT ${this.shown}`))
      }
    })
    return socket
  }
}

/** The agent for the TLS choices in the configuration: CA verification, a CA file, a pin, or insecure. */
const agentLayer = (config: ProxmoxConfig) =>
  Layer.scoped(
    NodeHttpClient.HttpAgent,
    Effect.acquireRelease(
      Effect.sync(() => {
        const https = config.insecure
          ? new Https.Agent({ rejectUnauthorized: false, keepAlive: true })
          : Option.isSome(config.fingerprint)
          ? new PinnedAgent(normalizeFingerprint(config.fingerprint.value), config.fingerprint.value)
          : new Https.Agent({
            keepAlive: true,
            ...Option.match(config.caFile, { onNone: () => ({}), onSome: (file) => ({ ca: readFileSync(file) }) })
          })
        return { [NodeHttpClient.HttpAgentTypeId]: NodeHttpClient.HttpAgentTypeId, http: new Http.Agent({ keepAlive: true }), https } as const
      }),
      (agent) => Effect.sync(() => {
        agent.http.destroy()
        agent.https.destroy()
      })
    )
  )

const describe = (path: string, status: number, body: unknown): string => {
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {}
  const errors = "errors" in fields ? JSON.stringify(fields.errors) : ""
  const message = "message" in fields ? String(fields.message) : ""
  const detail = [message, errors].filter((s) => s && s !== "null" && s !== "undefined").join(" ")
  switch (status) {
    case 401:
      return `authentication failed (401) on ${path}: check VIGIL_PROXMOX_TOKEN`
    case 403:
      return `permission denied (403) on ${path}: the token lacks a privilege${detail ? ` (${detail})` : ""}`
    case 595:
      return `node unreachable behind ${path} (595)${detail ? `: ${detail}` : ""}`
    default:
      return `HTTP ${status} from ${path}${detail ? `: ${detail}` : ""}`
  }
}

export class ProxmoxApi extends Effect.Service<ProxmoxApi>()("vigil/ProxmoxApi", {
  effect: (config: ProxmoxConfig, timeout: Duration.Duration) =>
    Effect.gen(function*() {
      const token = Redacted.value(config.token)
      const client = (yield* HttpClient.HttpClient).pipe(
        HttpClient.mapRequest((r) =>
          r.pipe(
            HttpClientRequest.prependUrl(`${config.url}/api2/json`),
            HttpClientRequest.setHeader("Authorization", `PVEAPIToken=${token}`),
            HttpClientRequest.acceptJson
          )
        )
      )
      const fail = (reason: string) => new SourceError({ source: "proxmox", reason })

      /** `fast`, when given, decodes the common case by hand; what it gives up on, the schema decides. */
      const call = <A, I>(request: HttpClientRequest.HttpClientRequest, schema: Schema.Schema<A, I>, fast?: (body: unknown) => A | undefined) => {
        const path = request.url
        return client.execute(request).pipe(
          Effect.flatMap((response) =>
            response.text.pipe(
              Effect.flatMap((text) => {
                let body: unknown
                try {
                  body = JSON.parse(text)
                } catch {
                  // An error status says more than its body (pveproxy's 595 has none).
                  if (response.status >= 300) return Effect.fail(fail(describe(path, response.status, {})))
                  return Effect.fail(fail(`invalid JSON from ${path} (HTTP ${response.status}): ${text.slice(0, 80)}`))
                }
                if (response.status >= 300) return Effect.fail(fail(describe(path, response.status, body)))
                const decoded = fast?.(body)
                if (decoded !== undefined) return Effect.succeed<A>(decoded)
                return Schema.decodeUnknown(Envelope(schema))(body).pipe(
                  Effect.mapError((e) => fail(`unexpected payload from ${path}: ${ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 300)}`)),
                  Effect.flatMap((envelope) =>
                    envelope.data === null
                      ? Effect.fail(fail(describe(path, response.status, body)))
                      : Effect.succeed(envelope.data)
                  )
                )
              })
            )
          ),
          Effect.scoped,
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () => fail(`no answer from ${path} within ${Duration.format(timeout)}`)
          }),
          Effect.catchTags({
            RequestError: (e) => Effect.fail(fail(`cannot reach ${config.url}: ${e.cause instanceof Error ? e.cause.message : e.message}`)),
            ResponseError: (e) => Effect.fail(fail(`bad response from ${path}: ${e.message}`))
          })
        )
      }

      const get = <A, I>(path: string, schema: Schema.Schema<A, I>, fast?: (body: unknown) => A | undefined) => call(HttpClientRequest.get(path), schema, fast)

      return {
        clusterResources: get("/cluster/resources", ClusterResourcesFromApi, fastClusterResources),
        clusterStatus: get("/cluster/status", Schema.Array(ClusterStatusItem)),
        nodeStatus: (node: string) => get(`/nodes/${encodeURIComponent(node)}/status`, NodeStatusDetail),
        /**
         * The node's tasks, running ones included: PVE lists only finished tasks unless asked with
         * `source=all`, and a shutdown or backup still in progress is exactly what explains a stop.
         * `since` (epoch seconds) bounds the start time.
         */
        nodeTasks: (node: string, options: { readonly since?: number; readonly vmid?: number; readonly limit?: number } = {}) =>
          get(
            `/nodes/${encodeURIComponent(node)}/tasks?source=all&limit=${options.limit ?? 500}${options.since ? `&since=${Math.floor(options.since)}` : ""}${
              options.vmid ? `&vmid=${options.vmid}` : ""
            }`,
            Schema.Array(Task)
          ),
        /** A node's finished vzdump tasks that started at or after `since` (backup runs; running ones are not results yet). */
        vzdumpTasks: (node: string, since: number) =>
          get(`/nodes/${encodeURIComponent(node)}/tasks?typefilter=vzdump&limit=1000&since=${Math.floor(since)}`, Schema.Array(Task)),
        /** Lines `start` onwards of a task's log; PVE gives 50 unless asked for more. */
        taskLogPage: (node: string, upid: string, start: number, limit: number) =>
          get(`/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(upid)}/log?start=${start}&limit=${limit}`, Schema.Array(TaskLogLine)),
        backupJobs: get("/cluster/backup", Schema.Array(BackupJobItem)),
        backupContent: (node: string, storage: string) =>
          get(`/nodes/${encodeURIComponent(node)}/storage/${encodeURIComponent(storage)}/content?content=backup`, Schema.Array(StorageContentItem)),
        haStatus: get("/cluster/ha/status/current", Schema.Array(HaStatusItem)),
        version: get("/version", Version),
        cephStatus: get("/cluster/ceph/status", CephStatus),
        replication: (node: string) => get(`/nodes/${encodeURIComponent(node)}/replication`, Schema.Array(ReplicationItem)),
        aptUpdates: (node: string) => get(`/nodes/${encodeURIComponent(node)}/apt/update`, Schema.Array(AptUpdateItem)),
        disks: (node: string) => get(`/nodes/${encodeURIComponent(node)}/disks/list`, Schema.Array(DiskItem)),
        zfsPools: (node: string) => get(`/nodes/${encodeURIComponent(node)}/disks/zfs`, Schema.Array(ZfsPoolItem)),
        /** The token's effective privileges on the top-level paths and every path an ACL names. */
        permissions: get("/access/permissions", Permissions),
        startGuest: (node: string, kind: "qemu" | "lxc", vmid: number) =>
          call(HttpClientRequest.post(`/nodes/${encodeURIComponent(node)}/${kind}/${vmid}/status/start`), Schema.String),
        taskStatus: (node: string, upid: string) =>
          get(`/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(upid)}/status`, TaskStatus)
      } as const
    })
}) {
  /** The client with its own HTTP agent carrying the TLS options. */
  static readonly layerFor = (config: ProxmoxConfig, timeout: Duration.Duration) =>
    ProxmoxApi.Default(config, timeout).pipe(
      Layer.provide(NodeHttpClient.layerWithoutAgent),
      Layer.provide(agentLayer(config))
    )
}

