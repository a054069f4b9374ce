import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import * as Path from "node:path"
import { environmentWithoutVigil } from "../support/Processes.js"
import { startWebhook } from "../support/Receivers.js"
import { simToken, startSimulator } from "../support/Simulator.js"
import { startVigil, tempDir } from "../support/Vigil.js"

const fixture = (name: string) => Path.join(import.meta.dirname, "..", "fixtures", name)
const tls = { key: readFileSync(fixture("sim-key.pem")), cert: readFileSync(fixture("sim-cert.pem")) }
const fingerprint = "2C:A5:C8:6D:48:02:4D:46:2C:69:19:A4:30:DF:97:7A:D9:16:7B:85:01:DB:12:D4:BD:7B:49:04:33:35:35:77"
const bin = Path.join(import.meta.dirname, "..", "..", "bin", "vigil.mjs")

/** Runs `vigil doctor` as a user would, with only the given VIGIL_* settings; its lines and exit code. */
const doctor = (env: Record<string, string>, args: ReadonlyArray<string> = []) =>
  Effect.promise(() =>
    new Promise<{ readonly lines: ReadonlyArray<string>; readonly code: number }>((resolve) => {
      execFile(process.execPath, [bin, "doctor", ...args], { env: { ...environmentWithoutVigil(), ...env } }, (error, stdout) => {
        resolve({ lines: stdout.trim().split("\n"), code: error === null ? 0 : Number(error.code) })
      })
    })
  )

const line = (lines: ReadonlyArray<string>, check: string) => lines.find((l) => l.slice(2).startsWith(check + " ")) ?? `(no ${check} line in:\n${lines.join("\n")})`

/** A data directory and the simulator over TLS, pinned: the setup every failure below breaks one part of. */
const setup = Effect.gen(function*() {
  const sim = yield* startSimulator({ tls })
  const env = {
    VIGIL_DATA_DIR: yield* tempDir,
    VIGIL_SOURCE: "proxmox",
    VIGIL_PROXMOX_URL: sim.url,
    VIGIL_PROXMOX_TOKEN: simToken,
    VIGIL_PROXMOX_FINGERPRINT: fingerprint
  }
  return { sim, env }
})

describe("vigil doctor", () => {
  it.scopedLive("passes a sound setup, one line per check, and exits 0", () =>
    Effect.gen(function*() {
      const { env } = yield* setup
      const { code, lines } = yield* doctor(env)
      expect(lines).toEqual([
        "✓ config      every VIGIL_* variable parses",
        `✓ store       ${Path.join(env.VIGIL_DATA_DIR, "vigil.db")}: no database yet; vigil creates and migrates it on first start`,
        `✓ pve url     ${env.VIGIL_PROXMOX_URL} answers`,
        "✓ tls         the certificate matches VIGIL_PROXMOX_FINGERPRINT",
        "✓ token       authenticates as root@pam!vigil (Proxmox VE 8.4.1)",
        "✓ privileges  Sys.Audit on /, Sys.Audit on /nodes, VM.Audit on /vms, Datastore.Audit on /storage, VM.PowerMgmt on /vms",
        "✓ optional    Sys.Modify on /nodes, Datastore.Allocate on /storage",
        "✓ node pve1   answers",
        "✓ node pve2   answers",
        "✓ node pve3   answers",
        "✓ notify      no channels: incidents are in the HUD and the API only (VIGIL_NOTIFY_WEBHOOKS, VIGIL_SMTP_URL add some)"
      ])
      expect(code).toBe(0)
    }))

  it.scopedLive("says the store is migrated once vigil has run on it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const vigil = yield* startVigil({}, dir)
      yield* vigil.stop
      const { code, lines } = yield* doctor({ VIGIL_DATA_DIR: dir, VIGIL_SOURCE: "none" })
      expect(line(lines, "store")).toMatch(/^✓ store +\S+vigil\.db, migrated \((\d+) of \1\)$/)
      expect(line(lines, "source")).toMatch(/none \(VIGIL_SOURCE=none\): no cluster is watched/)
      expect(code).toBe(0)
    }))

  it.scopedLive("a bad configuration: the variable and what is wrong with it", () =>
    Effect.gen(function*() {
      const { env } = yield* setup
      const { code, lines } = yield* doctor({ ...env, VIGIL_POLL_CRITICAL: "soon" })
      expect(line(lines, "config")).toMatch(/^✗ config +\(Invalid data at VIGIL_POLL_CRITICAL: "Expected a duration but received "soon""\) — fix: /)
      expect(code).toBe(1)
      const history = yield* doctor({ ...env, VIGIL_HISTORY_RETENTION: '{"weekly": "7 days"}' })
      expect(line(history.lines, "config")).toMatch(/^✗ config +.*VIGIL_HISTORY_RETENTION.*unknown tier "weekly"/)
      expect(history.code).toBe(1)
    }))

  it.scopedLive("an unreachable store", () =>
    Effect.gen(function*() {
      const { code, lines } = yield* doctor({ VIGIL_SOURCE: "none", VIGIL_DATABASE_URL: "postgres://127.0.0.1:1/vigil" })
      expect(line(lines, "store")).toMatch(/^✗ store +cannot connect to PostgreSQL at 127\.0\.0\.1:1\/vigil: .+ — fix: check VIGIL_DATABASE_URL/)
      expect(code).toBe(1)
    }))

  it.scopedLive("a wrong URL", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* setup
      const url = sim.url
      yield* Effect.promise(() => sim.stop())
      const { code, lines } = yield* doctor(env)
      expect(line(lines, "pve url")).toBe(`✗ pve url     ${url}: cannot reach 127.0.0.1:${new URL(url).port} (ECONNREFUSED) — fix: check VIGIL_PROXMOX_URL: a node's API answers on https://NODE:8006`)
      expect(lines.some((l) => l.includes("token"))).toBe(false)
      expect(code).toBe(1)
    }))

  it.scopedLive("a wrong fingerprint, and a self-signed certificate with none pinned: the fingerprint to pin", () =>
    Effect.gen(function*() {
      const { env } = yield* setup
      const wrong = yield* doctor({ ...env, VIGIL_PROXMOX_FINGERPRINT: "AA:".repeat(31) + "AA" })
      expect(line(wrong.lines, "tls")).toBe(
        `✗ tls         the certificate's fingerprint is ${fingerprint}, not the pinned ${"AA:".repeat(31)}AA — fix: if the node's certificate was renewed, pin the new one: VIGIL_PROXMOX_FINGERPRINT=${fingerprint}`
      )
      expect(wrong.code).toBe(1)
      const { VIGIL_PROXMOX_FINGERPRINT: _, ...unpinned } = env
      const selfSigned = yield* doctor(unpinned)
      expect(line(selfSigned.lines, "tls")).toMatch(/^✗ tls +the certificate does not verify against the system's CAs: .*self.signed.*; its fingerprint is 2C:A5:.*:77 — fix: pin it: VIGIL_PROXMOX_FINGERPRINT=2C:A5:/i)
      expect(selfSigned.code).toBe(1)
      const insecure = yield* doctor({ ...unpinned, VIGIL_PROXMOX_INSECURE: "true" })
      expect(line(insecure.lines, "tls")).toBe(`! tls         not verified (VIGIL_PROXMOX_INSECURE=true); the certificate's fingerprint is ${fingerprint} — fix: pin it instead: VIGIL_PROXMOX_FINGERPRINT=${fingerprint}`)
      expect(insecure.code).toBe(0)
    }))

  it.scopedLive("a wrong token", () =>
    Effect.gen(function*() {
      const { env } = yield* setup
      const { code, lines } = yield* doctor({ ...env, VIGIL_PROXMOX_TOKEN: "root@pam!vigil=00000000-0000-0000-0000-000000000000" })
      expect(line(lines, "token")).toMatch(/^✗ token +authentication failed \(401\) on \/version: check VIGIL_PROXMOX_TOKEN — fix: /)
      expect(code).toBe(1)
    }))

  it.scopedLive("a missing privilege, as PVE's /access/permissions reports it, with the grant that gives it", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* setup
      // An auditor token: it may watch, but not start guests.
      sim.state.acl = { "/": { "Sys.Audit": 1, "VM.Audit": 1, "Datastore.Audit": 1 } }
      const acting = yield* doctor(env)
      expect(line(acting.lines, "privileges")).toBe(
        "✗ privileges  missing VM.PowerMgmt on /vms (starting crashed guests: remediation is on) — fix: pveum acl modify /vms --tokens 'root@pam!vigil' --roles PVEVMUser"
      )
      expect(acting.code).toBe(1)
      // Enough when vigil only alerts.
      const alerting = yield* doctor({ ...env, VIGIL_AUTONOMY_CAP: "1" })
      expect(line(alerting.lines, "privileges")).toBe("✓ privileges  Sys.Audit on /, Sys.Audit on /nodes, VM.Audit on /vms, Datastore.Audit on /storage")
      expect(alerting.code).toBe(0)
      // Audit on the guests only, not propagated to /vms' children nor anywhere else.
      sim.state.acl = { "/vms": { "VM.Audit": 0 } }
      const narrow = yield* doctor({ ...env, VIGIL_AUTONOMY_CAP: "1" })
      expect(line(narrow.lines, "optional")).toBe(
        "✓ optional    not held, so not watched: Sys.Modify on /nodes (pending updates: PVE lists them only to those who may install them), Datastore.Allocate on /storage (backup archives: PVE lists them only to those who may use them; backups are judged from the task logs without)"
      )
      expect(line(narrow.lines, "privileges")).toBe(
        "✗ privileges  missing Sys.Audit on / (cluster status and HA), Sys.Audit on /nodes (node status and task logs), Datastore.Audit on /storage (storage) — fix: pveum acl modify / --tokens 'root@pam!vigil' --roles PVEAuditor"
      )
    }))

  it.scopedLive("an unreachable node", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* setup
      sim.failNode("pve2")
      const { code, lines } = yield* doctor(env)
      expect(line(lines, "node pve1")).toBe("✓ node pve1   answers")
      expect(line(lines, "node pve2")).toMatch(/^✗ node pve2 +does not answer: node unreachable behind \/nodes\/pve2\/status \(595\) — fix: check that pve2 is up/)
      expect(code).toBe(1)
    }))

  it.scopedLive("--send-test: each channel's answer to a test message", () =>
    Effect.gen(function*() {
      const good = yield* startWebhook()
      const broken = yield* startWebhook({ failing: true })
      const env = {
        VIGIL_DATA_DIR: yield* tempDir,
        VIGIL_SOURCE: "none",
        VIGIL_NOTIFY_WEBHOOKS: `ops:generic=${good.url},broken:generic=${broken.url}`
      }
      const untried = yield* doctor(env)
      expect(line(untried.lines, "notify")).toBe("✓ notify      channels ops, broken (not tried: --send-test sends each a test message)")
      expect(good.received).toHaveLength(0)
      const { code, lines } = yield* doctor(env, ["--send-test"])
      expect(line(lines, "channel ops")).toBe("✓ channel ops accepted a test message")
      expect(line(lines, "channel broken")).toBe(
        `✗ channel broken refused the test message: HTTP 500 from 127.0.0.1:${new URL(broken.url).port} — fix: check the channel's URL in VIGIL_NOTIFY_WEBHOOKS`
      )
      expect(good.received).toHaveLength(1)
      expect(JSON.parse(good.received[0]!.body)).toMatchObject({ kind: "test" })
      expect(code).toBe(1)
    }))
})
