// The HUD's backups panel: each guest's last backup and its age, red when its latest backup failed
// or is older than its job allows, from GET /api/v1/backups (refreshed with the rest of the page).
import { html, useEffect, useState } from "/hud/vendor/standalone.js"

const age = (seconds) =>
  seconds < 5400 ? `${Math.round(seconds / 60)} min` : seconds < 172_800 ? `${Math.round(seconds / 3600)} h` : `${Math.round(seconds / 86_400)} d`

const sevOf = { failed: "error", stale: "error", uncovered: "warning", none: "debug", ok: "info" }

export const Backups = ({ api, tick }) => {
  const [backups, setBackups] = useState(null)
  useEffect(() => { api("/api/v1/backups").then(setBackups, () => setBackups(null)) }, [tick])
  if (backups === null || backups.judgedAt === null) return null
  const s = backups.summary
  return html`<section>
    <h2>Backups · ${s.ok} ok${s.failed ? ` · ${s.failed} failed` : ""}${s.stale ? ` · ${s.stale} stale` : ""}${s.uncovered ? ` · ${s.uncovered} in no job` : ""}</h2>
    <table id="backups"><tr><th>guest</th><th>state</th><th>last backup</th><th>latest run</th></tr>
      ${backups.guests.map((g) => html`<tr data-backup=${g.guest} class=${`backup ${g.state}`}>
        <td>${g.vmid} ${g.name ?? ""} <span class="dim">${g.node ?? ""}</span></td>
        <td class=${`sev ${sevOf[g.state]}`}>${g.state}</td>
        <td class=${g.state === "stale" ? "sev error" : ""} title=${g.lastBackup?.archive ?? ""}>${g.lastBackup ? `${age(g.lastBackup.ageSeconds)} ago` : "never"}</td>
        <td class="dim" title=${g.lastRun?.task ?? ""}>${g.lastRun ? (g.lastRun.ok ? "ok" : `failed: ${g.lastRun.error}`) : ""}</td>
      </tr>`)}
    </table>
  </section>`
}
