// An incident's timeline in the HUD: what vigil saw, why, what it did, whom it told, who took it
// on, in order, from GET /api/v1/incidents/{id}/timeline; shown when an incident row is clicked.
import { html, useEffect, useState } from "/hud/vendor/standalone.js"

const clock = (iso) => (iso ?? "").slice(11, 23)

export const Timeline = ({ id, api, onClose }) => {
  const [timeline, setTimeline] = useState(null)
  const [error, setError] = useState(null)
  useEffect(() => {
    setTimeline(null)
    setError(null)
    api(`/api/v1/incidents/${encodeURIComponent(id)}/timeline`).then(setTimeline, (e) => setError(e.message))
  }, [id])
  return html`<section id="timeline">
    <h2>Timeline <button class="close" onClick=${onClose}>close</button></h2>
    ${error ? html`<p class="dim">${error}</p>` : timeline === null ? html`<p class="dim">loading…</p>` : html`
      <p><strong>${timeline.incident.key}</strong> <span class="dim">${timeline.incident.summary}</span></p>
      <p class="dim" id="trace">trace ${timeline.traceId ?? "none"}</p>
      <table>
        <tr><th>time</th><th>what</th><th></th><th>detail</th></tr>
        ${timeline.entries.map((e) => html`<tr class=${`entry ${e.kind}`} title=${e.traceId ? `trace ${e.traceId}` : ""}>
          <td class="dim">${clock(e.at)}</td><td class="kind">${e.kind}</td><td>${e.title}</td><td class="dim">${e.detail ?? ""}</td>
        </tr>`)}
      </table>`}
  </section>`
}
