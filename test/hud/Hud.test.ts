import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Path from "node:path"
import { MetricHistory } from "../../src/store/MetricHistory.js"
import { launchBrowser } from "../support/Browser.js"
import { startWebhook } from "../support/Receivers.js"
import { runBackupJob } from "../../src/sim/Backups.js"
import { pollRounds, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import { cloudEvent, postEvents, startVigil, tempDir } from "../support/Vigil.js"

const until = (description: string, check: () => Promise<boolean>, timeoutMs = 15_000) =>
  Effect.promise(async () => {
    const deadline = Date.now() + timeoutMs
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${description}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  })

describe("the HUD in a real browser", () => {
  it.scopedLive("shows posted events, crashed VMs and incidents live, approves a proposal, and resumes across a restart", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: { taskMs: 300 } })
      const dir = yield* tempDir
      const env = {
        ...watching(sim, {
          VIGIL_REMEDIATION: "true",
          VIGIL_REMEDIATION_INTERVAL: "300 millis",
          VIGIL_SSE_RETRY: "300 millis",
          VIGIL_RUNBOOKS: JSON.stringify([{ id: "propose-vm", condition: "VM_CRASHED", action: "start_guest", level: 2 }])
        })
      }
      const first = yield* startVigil(env, dir)
      yield* watchSeeded(first.url, sim)
      const browser = yield* launchBrowser
      const page = yield* Effect.promise(() => browser.newPage({ viewport: { width: 1400, height: 1000 } }))
      const errors: Array<string> = []
      page.on("pageerror", (e) => errors.push(String(e)))
      yield* Effect.promise(() => page.goto(first.url))
      yield* until("live", async () => (await page.textContent("#connection"))?.startsWith("live") === true)
      yield* until("the cluster tiles", async () => (await page.locator(".tile.node").count()) === 3)

      // An event posted to the API appears in the feed.
      yield* postEvents(first.url, [cloudEvent({ type: "hud.hello", severity: "warning", data: { summary: "hello from the test" } })])
      yield* until("the event in the feed", async () => (await page.locator('#feed .row[data-type="hud.hello"]').count()) === 1)

      // A crashed VM turns its tile red and opens an incident; a proposal waits for approval.
      sim.crash(100)
      yield* until("the tile turns red", async () => (await page.locator('.tile.guest.down[data-guest="qemu/100"]').count()) === 1)
      yield* until("the incident", async () => (await page.locator('#incidents tr[data-key="VM_CRASHED:qemu/100"]').count()) === 1)
      // Clicking it shows its timeline: the crash and its cause, with the trace id.
      yield* Effect.promise(() => page.locator('#incidents tr[data-key="VM_CRASHED:qemu/100"] .open-timeline').click())
      yield* until("the timeline", async () => (await page.locator("#timeline .entry.event").first().textContent())?.includes("vm.crashed") === true)
      expect(yield* Effect.promise(() => page.locator("#timeline .entry.cause").first().textContent())).toContain("unknown")
      expect(yield* Effect.promise(() => page.textContent("#trace"))).toMatch(/^trace [0-9a-f]{32}$/)

      // An operator's shutdown is no crash: grey, with who stopped it and how; the feed says why.
      sim.operatorStop(101, "shutdown", "root@pam")
      const stoppedTile = page.locator('.tile.guest.stopped[data-guest="qemu/101"]')
      yield* until("the stopped tile in grey", async () => (await stoppedTile.count()) === 1)
      yield* until("its cause", async () => (await stoppedTile.locator(".cause").textContent()) === "stopped by root@pam, qmshutdown")
      const borders = yield* Effect.promise(() => Promise.all([
        stoppedTile.evaluate((el) => getComputedStyle(el).borderLeftColor),
        page.locator('.tile.guest[data-guest="qemu/100"]').evaluate((el) => getComputedStyle(el).borderLeftColor)
      ]))
      expect(borders).toEqual(["rgb(139, 148, 158)", "rgb(248, 81, 73)"])
      yield* until("the cause beside the event", async () =>
        (await page.locator('#feed .row[data-type="vm.stopped"] .cause-tag').textContent()) === "operator")
      expect(yield* Effect.promise(() => page.locator('#feed .row[data-type="vm.crashed"] .cause-tag.unknown').count())).toBe(1)
      yield* until("the proposal", async () => (await page.locator(".proposal button.approve").count()) === 1)
      yield* Effect.promise(() => page.click(".proposal button.approve"))
      yield* until("the approval reached the API and the VM runs", async () => sim.guest(100).status === "running")

      // Producers and a settled view for the screenshot the README shows.
      for (const [kind, id] of [["worker", "gpu-7"], ["agent", "planner-1"], ["hive", "rack-2"]]) {
        yield* Effect.promise(() => fetch(`${first.url}/api/v1/heartbeats/${kind}/${id}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }))
      }
      sim.setNodeMetrics("pve2", { memPercent: 91 })
      yield* until("the producers panel", async () => (await page.locator("#producers tr").count()) === 4, 10_000)
      yield* until("the VM tile back to normal", async () => (await page.locator('.tile.guest.down[data-guest="qemu/100"]').count()) === 0, 10_000)
      // The README's screenshot is refreshed with VIGIL_UPDATE_SCREENSHOT=1; otherwise it goes to a temp dir.
      const shot = process.env.VIGIL_UPDATE_SCREENSHOT === "1"
        ? Path.join(import.meta.dirname, "..", "..", "src", "hud", "screenshot.png")
        : Path.join(dir, "hud.png")
      yield* Effect.promise(() => page.evaluate(() => window.scrollTo(0, 0)))
      yield* Effect.promise(() => page.screenshot({ path: shot }))

      // Restart the server: the page says reconnecting, then resumes without losing an event.
      const before = yield* Effect.promise(() => page.locator("#feed .row").evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-seq")))))
      yield* first.stop
      yield* until("reconnecting", async () => /reconnecting|offline/.test((await page.textContent("#connection")) ?? ""))
      const second = yield* startVigil({ ...env, VIGIL_PORT: String(first.port) }, dir)
      yield* postEvents(second.url, Array.from({ length: 5 }, (_, i) => cloudEvent({ type: "hud.after", data: { summary: `after ${i}` } })))
      yield* until("live again", async () => (await page.textContent("#connection"))?.startsWith("live") === true, 20_000)
      yield* until("the events after the restart", async () => (await page.locator('#feed .row[data-type="hud.after"]').count()) === 5)
      const after = yield* Effect.promise(() => page.locator("#feed .row").evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-seq")))))
      const stored = yield* Effect.promise(() => fetch(`${second.url}/api/v1/events?after=${Math.min(...before) - 1}&limit=1000`).then((r) => r.json() as Promise<Array<any>>))
      expect(after).toEqual(stored.map((e) => e.sequence))
      expect(errors).toEqual([])
    }), 120_000)
})

describe("the HUD's charts of metric history", () => {
  it.scopedLive("draws a sparkline on the tiles and, for a tile clicked, a chart per metric from the recorded history", () =>
    Effect.gen(function*() {
      // The hour before this start, as an earlier run of vigil recorded it (a poll every 12 s);
      // this run rolls it up into minutes when it starts, and records the simulator live on top.
      const dir = yield* tempDir
      const earlier = yield* startVigil({}, dir)
      const start = Date.now()
      yield* earlier.use(Effect.flatMap(MetricHistory, (history) =>
        Effect.forEach(Array.from({ length: 300 }, (_, i) => i), (i) =>
          history.record(start - 3_600_000 + i * 12_000, [
            { resource: "node/pve1", metric: "cpu", value: 0.2 + 0.1 * Math.sin(i / 10) },
            { resource: "qemu/100", metric: "cpu", value: 0.3 + 0.2 * Math.sin(i / 7) },
            { resource: "qemu/100", metric: "mem", value: 1e9 + 1e8 * Math.cos(i / 9) }
          ]), { discard: true })))
      yield* earlier.stop
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim), dir)
      yield* watchSeeded(vigil.url, sim)
      yield* pollRounds(sim, 3)
      // Its upkeep rolled the earlier hour up into minutes as it started.
      const minutes = yield* vigil.use(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT count(*) AS n
        FROM metric_points p JOIN metric_series s ON s.id = p.series WHERE s.resource = 'qemu/100' AND s.metric = 'cpu' AND p.tier = 1`))
      expect(minutes[0]!.n).toBeGreaterThanOrEqual(59)
      const browser = yield* launchBrowser
      // A real browser's language: the headless shell reports the machine's POSIX locale
      // ("en-US@posix"), which Intl (and so uPlot's number format) refuses.
      const page = yield* Effect.promise(() => browser.newPage({ viewport: { width: 1400, height: 1000 }, locale: "en-US" }))
      const errors: Array<string> = []
      page.on("pageerror", (e) => errors.push(String(e)))
      page.on("console", (m) => void (m.type() === "error" && errors.push(`console: ${m.text()}`)))
      yield* Effect.promise(() => page.goto(vigil.url))

      const spark = page.locator('.tile.node[data-node="pve1"] svg.spark')
      yield* until("node pve1's sparkline", async () => Number(await spark.getAttribute("data-points")) > 250)
      expect(yield* Effect.promise(() => spark.locator("path").getAttribute("d"))).toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+$/)

      yield* Effect.promise(() => page.click('.tile.guest[data-guest="qemu/100"]'))
      const cpu = page.locator('#chart[data-resource="qemu/100"] .chart[data-metric="cpu"]')
      yield* until("its cpu chart", async () => (await cpu.locator("canvas").count()) === 1)
      // The chart shows what the API answers for the same range, and its line is drawn on the canvas.
      const shown = Number(yield* Effect.promise(() => cpu.getAttribute("data-points")))
      const answered = yield* Effect.promise(() =>
        fetch(`${vigil.url}/api/v1/metrics/history?resource=qemu/100&metric=cpu`).then((r) => r.json() as Promise<{ points: Array<unknown> }>))
      expect(shown).toBeGreaterThan(250)
      expect(Math.abs(answered.points.length - shown)).toBeLessThanOrEqual(1)
      const linePixels = yield* Effect.promise(() => cpu.locator("canvas").evaluate((c: HTMLCanvasElement) => {
        const { data } = c.getContext("2d")!.getImageData(0, 0, c.width, c.height)
        let n = 0
        for (let i = 0; i < data.length; i += 4) if (data[i]! < 130 && data[i + 2]! > 200 && data[i + 3]! > 200) n++
        return n
      }))
      expect(linePixels).toBeGreaterThan(50)
      expect(yield* Effect.promise(() => page.locator("#chart .chart").evaluateAll((els) => els.map((e) => e.getAttribute("data-metric")))))
        .toEqual(["cpu", "mem", "netin", "netout", "diskread", "diskwrite"])

      // A day's range is read from the minute tier (and, past its last roll-up, the raw points).
      yield* Effect.promise(() => page.click('#chart .ranges button:text("24 h")'))
      yield* until("the minute tier", async () => (await cpu.locator(".meta").textContent())?.includes("minute, 5 min buckets") === true)
      yield* until("drawn again", async () => (await cpu.locator("canvas").count()) === 1)
      yield* Effect.promise(() => page.click("#chart button.close"))
      yield* until("the chart closed", async () => (await page.locator("#chart").count()) === 0)
      expect(errors).toEqual([])
    }), 60_000)
})

describe("the HUD's hand on notifications", () => {
  it.scopedLive("acknowledges and silences from an incident row, lists silences, and shows a failed delivery in red until it is retried", () =>
    Effect.gen(function*() {
      const hook = yield* startWebhook({ failing: true })
      const vigil = yield* startVigil({
        VIGIL_HEARTBEAT_TTL: "300 millis",
        VIGIL_NOTIFY_WEBHOOKS: hook.url,
        VIGIL_NOTIFY_ATTEMPTS: "1",
        VIGIL_NOTIFY_TICK: "50 millis",
        VIGIL_NOTIFY_GROUP_WAIT: "100 millis",
        VIGIL_NOTIFY_GROUP_BY: "target"
      })
      const beat = (id: string) =>
        Effect.promise(() => fetch(`${vigil.url}/api/v1/heartbeats/agent/${id}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }))
      yield* beat("a1")
      const browser = yield* launchBrowser
      const page = yield* Effect.promise(() => browser.newPage({ viewport: { width: 1400, height: 1000 } }))
      const errors: Array<string> = []
      page.on("pageerror", (e) => errors.push(String(e)))
      yield* Effect.promise(() => page.goto(vigil.url))
      const row = (key: string) => page.locator(`#incidents tr[data-key="${key}"]`)
      yield* until("a1's incident", async () => (await row("AGENT_LOST:agent/a1").count()) === 1)

      // Its notice failed (the receiver answers 500): red in the delivery log.
      const dead = page.locator("#deliveries tr.delivery.dead")
      yield* until("the dead delivery", async () => (await dead.count()) === 1)
      expect(yield* Effect.promise(() => dead.locator(".status").evaluate((el) => getComputedStyle(el).color))).toBe("rgb(248, 81, 73)")
      expect(yield* Effect.promise(() => dead.locator(".status").textContent())).toContain("HTTP 500")

      // Acknowledge: stored as the HUD's, shown on the row.
      yield* Effect.promise(() => row("AGENT_LOST:agent/a1").locator("button.ack").click())
      yield* until("acked on the row", async () => (await row("AGENT_LOST:agent/a1").locator(".acked").textContent()) === "acked by hud")
      const [incident] = yield* Effect.promise(() => fetch(`${vigil.url}/api/v1/incidents?status=open`).then((r) => r.json() as Promise<Array<any>>))
      expect(incident.acknowledged).toMatchObject({ by: "hud" })

      // Silence until resolved: listed in the panel, with who and why.
      yield* Effect.promise(() => row("AGENT_LOST:agent/a1").locator("button.silence").click())
      yield* until("the silence in the panel", async () => (await page.locator("#silences tr[data-silence]").count()) === 1)
      expect(yield* Effect.promise(() => page.locator("#silences tr[data-silence]").textContent())).toContain("target=agent/a1")

      // The receiver works again: an admin's retry sends the dead letter.
      hook.setFailing(false)
      yield* Effect.promise(() => dead.locator("button.retry").click())
      yield* until("the retry arrives", async () => hook.received.length === 1)
      yield* until("sent, in green", async () => (await page.locator("#deliveries tr.delivery.sent").count()) === 1)
      expect(errors).toEqual([])
    }), 60_000)
})

describe("the HUD with no cluster watched", () => {
  it.scopedLive("says no cluster is watched, and makes no failed request and no console error", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_SOURCE: "none" })
      const browser = yield* launchBrowser
      const page = yield* Effect.promise(() => browser.newPage())
      const problems: Array<string> = []
      let incidentRequests = 0
      page.on("pageerror", (e) => problems.push(`page error: ${e}`))
      page.on("console", (m) => void (m.type() === "error" && problems.push(`console: ${m.text()}`)))
      page.on("requestfailed", (r) => problems.push(`failed: ${r.url()}`))
      page.on("response", (r) => void (r.status() >= 400 && problems.push(`${r.status()}: ${r.url()}`)))
      page.on("request", (r) => void (r.url().includes("/api/v1/incidents") && incidentRequests++))
      yield* Effect.promise(() => page.goto(vigil.url))
      yield* until("live", async () => (await page.textContent("#connection"))?.startsWith("live") === true)
      expect(yield* Effect.promise(() => page.textContent("#no-cluster"))).toBe("no cluster is watched (VIGIL_SOURCE=none): events come from producers only")
      yield* postEvents(vigil.url, [cloudEvent({ type: "hud.alone", data: { summary: "an event with no cluster" } })])
      yield* until("the event in the feed", async () => (await page.locator('#feed .row[data-type="hud.alone"]').count()) === 1)
      // Two more refresh rounds (the HUD refreshes its panels every 5 s): still nothing failed.
      const seen = incidentRequests
      yield* until("two refresh rounds", async () => incidentRequests >= seen + 2, 20_000)
      expect(problems).toEqual([])
      // The API says it plainly too.
      const cluster = yield* Effect.promise(() => fetch(`${vigil.url}/api/v1/cluster`).then(async (r) => ({ status: r.status, body: await r.json() })))
      expect(cluster).toEqual({ status: 404, body: { _tag: "NotFound", message: "no cluster is watched (VIGIL_SOURCE=none)" } })
    }), 60_000)
})

describe("the HUD's backups and storage health", () => {
  it.scopedLive("lists each guest's last backup, red when it failed, and shows disks, ZFS and Ceph on the node tiles", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      const browser = yield* launchBrowser
      const page = yield* Effect.promise(() => browser.newPage({ viewport: { width: 1400, height: 1000 } }))
      const errors: Array<string> = []
      page.on("pageerror", (e) => errors.push(String(e)))
      yield* Effect.promise(() => page.goto(vigil.url))

      const row = (guest: string) => page.locator(`#backups tr[data-backup="${guest}"]`)
      yield* until("the backups panel", async () => (await row("qemu/100").count()) === 1)
      expect(yield* Effect.promise(() => row("qemu/100").locator("td").allTextContents())).toEqual(["100 web pve1", "ok", "4 h ago", ""])
      const health = page.locator('.tile.node[data-node="pve2"] .storage-health')
      yield* until("the node's storage health", async () => (await health.textContent()) === "disks ok · zfs ok · ceph ok")

      // A failed backup turns its row red; a degraded pool and Ceph show on the tiles.
      sim.guest(101).backupFails = "vma_queue_write: write error - Broken pipe"
      runBackupJob(sim.cluster, sim.state.backupJobs![0]!)
      sim.node("pve2").zfs![0]!.health = "DEGRADED"
      sim.state.ceph = { status: "HEALTH_WARN", checks: { OSD_DOWN: { severity: "HEALTH_WARN", message: "1 osds down" } } }
      // The panel refreshes every 30 s; a reload shows it at once.
      yield* until("the failure is read", async () =>
        ((await fetch(`${vigil.url}/api/v1/backups`).then((r) => r.json())) as any).summary.failed === 1)
      yield* Effect.promise(() => page.reload())
      yield* until("the failed row", async () => (await page.locator('#backups tr.backup.failed[data-backup="qemu/101"]').count()) === 1)
      expect(yield* Effect.promise(() => row("qemu/101").locator("td").nth(3).textContent())).toBe("failed: vma_queue_write: write error - Broken pipe")
      expect(yield* Effect.promise(() => row("qemu/101").locator("td.sev").evaluate((el) => getComputedStyle(el).color))).toBe("rgb(248, 81, 73)")
      yield* until("the degraded pool and Ceph on pve2's tile", async () => (await health.textContent()) === "disks ok · zfs degraded · ceph warn")
      expect(errors).toEqual([])
    }), 60_000)
})
