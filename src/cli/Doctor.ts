/**
 * `vigil doctor`: checks a setup with the configuration the service would use, before it is
 * trusted, and says for each check, on one line, what it found and how to fix it. The checks run
 * in the order a person would fix them: the configuration parses; the store is reachable and
 * migrated; the cluster answers, its TLS verifies (or the fingerprint to pin is printed), the token
 * authenticates and holds the privileges what is configured needs, and every node answers; and,
 * with `--send-test`, every notification channel accepts a test message. Nothing is changed.
 */
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { randomUUID } from "node:crypto"
import { hostname } from "node:os"
import { AccessConfig } from "../access/AccessConfig.js"
import { ServerConfig } from "../http/ServerConfig.js"
import { HistoryConfig } from "../monitor/HistoryConfig.js"
import { WatchConfig } from "../monitor/WatchConfig.js"
import type { Message } from "../notify/Alerts.js"
import { NotifyConfig } from "../notify/NotifyConfig.js"
import { Transport } from "../notify/Transport.js"
import { RemediationConfig } from "../remediation/RemediationConfig.js"
import { normalizeFingerprint, ProxmoxApi } from "../sources/ProxmoxApi.js"
import { type ProxmoxConfig, SourceConfig } from "../sources/SourceConfig.js"
import { probe } from "../sources/TlsProbe.js"
import { checkStore } from "../store/StoreCheck.js"
import { StoreConfig } from "../store/StoreConfig.js"
import { grantPath, optionalPrivileges, requiredPrivileges, type Requirement } from "./Privileges.js"

export type Verdict = "ok" | "warn" | "fail"

export interface Finding {
  readonly check: string
  readonly verdict: Verdict
  readonly detail: string
  readonly fix?: string | undefined
}

const marks: Record<Verdict, string> = { ok: "✓", warn: "!", fail: "✗" }

/** One line: mark, check, what was found, and the fix when there is one. */
export const renderFinding = (f: Finding): string =>
  `${marks[f.verdict]} ${f.check.padEnd(11)} ${f.detail}${f.fix === undefined ? "" : ` — fix: ${f.fix}`}`

const ok = (check: string, detail: string): Finding => ({ check, verdict: "ok", detail })
const warn = (check: string, detail: string, fix: string): Finding => ({ check, verdict: "warn", detail, fix })
const fail = (check: string, detail: string, fix: string): Finding => ({ check, verdict: "fail", detail, fix })

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim()

/** Every part of the configuration, each read on its own so one bad variable does not hide the rest. */
const readConfig = Effect.gen(function*() {
  const read = <I, S>(tag: Context.Tag<I, S>, layer: Layer.Layer<I, ConfigError.ConfigError>) => Effect.either(Effect.provide(tag, layer))
  const parts = {
    store: yield* read(StoreConfig, StoreConfig.layer),
    server: yield* read(ServerConfig, ServerConfig.layer),
    access: yield* read(AccessConfig, AccessConfig.layer),
    source: yield* read(SourceConfig, SourceConfig.layer),
    watch: yield* read(WatchConfig, WatchConfig.layer),
    history: yield* read(HistoryConfig, HistoryConfig.layer),
    remediation: yield* read(RemediationConfig, RemediationConfig.layer),
    notify: yield* read(NotifyConfig, NotifyConfig.layer)
  }
  const results: ReadonlyArray<Either.Either<unknown, unknown>> = Object.values(parts)
  const problems = results.flatMap((p) => (Either.isLeft(p) ? [oneLine(String(p.left))] : []))
  return { parts, problems }
})

const storeFinding = (config: StoreConfig["Type"]) =>
  checkStore(config).pipe(
    Effect.map((s) =>
      s.applied === 0
        ? ok("store", `${s.where}: no database yet; vigil creates and migrates it on first start`)
        : s.applied > s.latest
        ? fail("store", `${s.where} is migrated to ${s.applied}, newer than this vigil knows (${s.latest})`, "run the vigil version that migrated it, or a newer one")
        : s.applied < s.latest
        ? ok("store", `${s.where}, migrations ${s.applied} of ${s.latest}: the rest are applied at the next start`)
        : ok("store", `${s.where}, migrated (${s.latest} of ${s.latest})`)
    ),
    Effect.catchAll((reason) =>
      Effect.succeed(fail(
        "store",
        reason,
        Option.isSome(config.databaseUrl)
          ? "check VIGIL_DATABASE_URL, that the server runs, and that it lets this host in (pg_hba.conf)"
          : "set VIGIL_DATA_DIR to a folder vigil's user can write"
      ))
    )
  )

/** The TLS verdict for what the node presented, under the configured choice (pin, CA, insecure). */
const tlsFinding = (config: ProxmoxConfig, facts: Option.Option<{ fingerprint: string; untrusted: string | undefined }>): Finding => {
  if (Option.isNone(facts)) return warn("tls", "plain HTTP: the token crosses the network unencrypted", "use the node's https://…:8006 address")
  const { fingerprint, untrusted } = facts.value
  if (config.insecure) return warn("tls", `not verified (VIGIL_PROXMOX_INSECURE=true); the certificate's fingerprint is ${fingerprint}`, `pin it instead: VIGIL_PROXMOX_FINGERPRINT=${fingerprint}`)
  if (Option.isSome(config.fingerprint)) {
    return normalizeFingerprint(config.fingerprint.value) === normalizeFingerprint(fingerprint)
      ? ok("tls", `the certificate matches VIGIL_PROXMOX_FINGERPRINT`)
      : fail("tls", `the certificate's fingerprint is ${fingerprint}, not the pinned ${config.fingerprint.value}`, `if the node's certificate was renewed, pin the new one: VIGIL_PROXMOX_FINGERPRINT=${fingerprint}`)
  }
  const against = Option.match(config.caFile, { onNone: () => "the system's CAs", onSome: (file) => file })
  return untrusted === undefined
    ? ok("tls", `the certificate verifies against ${against}`)
    : fail(
      "tls",
      `the certificate does not verify against ${against}: ${untrusted}; its fingerprint is ${fingerprint}`,
      `pin it: VIGIL_PROXMOX_FINGERPRINT=${fingerprint} (a node's own self-signed certificate), or give its CA: VIGIL_PROXMOX_CA_FILE=<a copy of the node's /etc/pve/pve-root-ca.pem>`
    )
}

const privilegesFinding = (held: Readonly<Record<string, Readonly<Record<string, unknown>>>>, required: ReadonlyArray<Requirement>, tokenId: string): Finding => {
  const missing = required.filter((r) => held[r.path]?.[r.privilege] === undefined)
  if (missing.length === 0) return ok("privileges", required.map((r) => `${r.privilege} on ${r.path}`).join(", "))
  // One grant per role, where it covers every path that lacks one of its privileges.
  const grants = [...new Set(missing.map((r) => r.role))].map((role) => `pveum acl modify ${grantPath[role]} --tokens '${tokenId}' --roles ${role}`)
  return fail("privileges", `missing ${missing.map((r) => `${r.privilege} on ${r.path} (${r.for})`).join(", ")}`, grants.join("; "))
}

/** Optional privileges are never a failure: what lacks one is a check that stays off, said here and once by vigil. */
const optionalFinding = (held: Readonly<Record<string, Readonly<Record<string, unknown>>>>): Finding => {
  const lacking = optionalPrivileges.filter((r) => held[r.path]?.[r.privilege] === undefined)
  return lacking.length === 0
    ? ok("optional", optionalPrivileges.map((r) => `${r.privilege} on ${r.path}`).join(", "))
    : ok("optional", `not held, so not watched: ${lacking.map((r) => `${r.privilege} on ${r.path} (${r.for})`).join(", ")}`)
}

/** The Proxmox checks, in order; each one stops the chain where the next could not run. */
const proxmoxFindings = (config: ProxmoxConfig, timeout: Duration.Duration, remediation: Option.Option<RemediationConfig["Type"]>) =>
  Effect.gen(function*() {
    const out: Array<Finding> = []
    const reached = yield* Effect.either(probe(new URL(config.url), config.caFile, timeout))
    if (Either.isLeft(reached)) {
      return [fail("pve url", `${config.url}: ${reached.left}`, "check VIGIL_PROXMOX_URL: a node's API answers on https://NODE:8006")]
    }
    out.push(ok("pve url", `${config.url} answers`))
    const tls = tlsFinding(config, reached.right)
    out.push(tls)
    if (tls.verdict === "fail") return out

    const tokenId = Redacted.value(config.token).split("=")[0]!
    const checks = Effect.gen(function*() {
      const api = yield* ProxmoxApi
      const version = yield* Effect.either(api.version)
      if (Either.isLeft(version)) {
        out.push(fail("token", version.left.reason, "VIGIL_PROXMOX_TOKEN must be USER@REALM!TOKENID=SECRET of an existing token (Datacenter → Permissions → API Tokens)"))
        return
      }
      out.push(ok("token", `authenticates as ${tokenId} (Proxmox VE ${version.right.version})`))
      const held = yield* Effect.either(api.permissions)
      out.push(Either.match(held, {
        onLeft: (e) => fail("privileges", e.reason, "let the token read its own permissions (every PVE user and token may)"),
        onRight: (perms) => privilegesFinding(perms, requiredPrivileges(remediation), tokenId)
      }))
      if (Either.isRight(held)) out.push(optionalFinding(held.right))
      const status = yield* Effect.either(api.clusterStatus)
      if (Either.isLeft(status)) {
        out.push(fail("nodes", status.left.reason, "grant Sys.Audit on / (see privileges)"))
        return
      }
      for (const node of status.right.filter((i) => i.type === "node" && i.name !== undefined)) {
        const name = node.name!
        const answer = yield* Effect.either(api.nodeStatus(name))
        out.push(Either.match(answer, {
          onLeft: (e) => fail(`node ${name}`, `does not answer: ${e.reason}`, `check that ${name} is up and that its pveproxy runs; vigil reports it offline meanwhile`),
          onRight: () => ok(`node ${name}`, "answers")
        }))
      }
    })
    yield* checks.pipe(Effect.provide(ProxmoxApi.layerFor(config, timeout)))
    return out
  })

const sourceFindings = (source: SourceConfig["Type"], remediation: Option.Option<RemediationConfig["Type"]>) => {
  switch (source.source) {
    case "none":
      return Effect.succeed([ok("source", "none (VIGIL_SOURCE=none): no cluster is watched; events come from ingest and heartbeats")])
    case "localhost":
      return Effect.succeed([ok("source", `this host (${hostname()}): load, memory, disks${source.localServices.length > 0 ? `, processes ${source.localServices.join(", ")}` : ""}`)])
    case "proxmox":
      return Option.match(source.proxmox, {
        onNone: () => Effect.succeed([]),
        onSome: (proxmox) => proxmoxFindings(proxmox, source.sourceTimeout, remediation)
      })
  }
}

const testMessage = (channel: string): Message => ({ channel, kind: "test", items: [] })

const notifyFindings = (notify: NotifyConfig["Type"], sendTest: boolean) => {
  if (notify.channels.length === 0) {
    return Effect.succeed([ok("notify", "no channels: incidents are in the HUD and the API only (VIGIL_NOTIFY_WEBHOOKS, VIGIL_SMTP_URL add some)")])
  }
  if (!sendTest) {
    return Effect.succeed([ok("notify", `channels ${notify.channels.map((c) => c.name).join(", ")} (not tried: --send-test sends each a test message)`)])
  }
  return Effect.gen(function*() {
    const transport = yield* Transport
    return yield* Effect.forEach(notify.channels, (channel) => {
      const message = testMessage(channel.name)
      return transport.send(channel, message, transport.words(message), randomUUID()).pipe(
        Effect.as(ok(`channel ${channel.name}`, "accepted a test message")),
        Effect.catchAll((e) =>
          Effect.succeed(fail(`channel ${channel.name}`, `refused the test message: ${e.reason}`, channel._tag === "Email" ? "check VIGIL_SMTP_URL and the recipients" : "check the channel's URL in VIGIL_NOTIFY_WEBHOOKS"))
        )
      )
    })
  }).pipe(Effect.provide(Transport.Default), Effect.provide(Layer.succeed(NotifyConfig, notify)), Effect.scoped)
}

/** Runs every check, handing each finding to `report` as it is made; succeeds with whether all passed. */
export const doctor = (options: { readonly sendTest: boolean }, report: (finding: Finding) => Effect.Effect<void>) =>
  Effect.gen(function*() {
    let passed = true
    const emit = (findings: ReadonlyArray<Finding>) =>
      Effect.forEach(findings, (f) => {
        if (f.verdict === "fail") passed = false
        return report(f)
      }, { discard: true })

    const { parts, problems } = yield* readConfig
    yield* emit(problems.length === 0
      ? [ok("config", "every VIGIL_* variable parses")]
      : problems.map((p) => fail("config", p, "correct the variable named (README: Configuration)")))
    if (Either.isRight(parts.store)) yield* emit([yield* storeFinding(parts.store.right)])
    if (Either.isRight(parts.source)) yield* emit(yield* sourceFindings(parts.source.right, Either.getRight(parts.remediation)))
    if (Either.isRight(parts.notify)) yield* emit(yield* notifyFindings(parts.notify.right, options.sendTest))
    return passed
  })
