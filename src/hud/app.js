// vigil HUD: the page the operator keeps open. Preact and htm (one 5 KB module, no build step),
// talking to vigil's own API and stream. A token, when auth is on, comes from ?token= or storage.
import { html, render, useEffect, useRef, useState } from "/hud/vendor/standalone.js"
import { ResourceChart, Sparkline } from "/hud/charts.js"
import { Timeline } from "/hud/timeline.js"
import { Backups } from "/hud/backups.js"

const params = new URLSearchParams(location.search)
const token = params.get("token") ?? localStorage.getItem("vigil_token") ?? ""
if (params.get("token")) localStorage.setItem("vigil_token", token)

const api = async (path, init = {}) => {
  const headers = { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }
  const response = await fetch(path, { ...init, headers })
  if (!response.ok) throw new Error(`${response.status} ${path}`)
  return response.status === 204 ? null : response.json()
}

const pct = (used, total) => (total ? Math.round((used / total) * 1000) / 10 : null)
const time = (iso) => (iso ?? "").slice(11, 19)
const since = (iso) => {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
  return s < 90 ? `${s}s` : s < 5400 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`
}

const Bar = ({ value }) =>
  value === null || value === undefined
    ? null
    : html`<div class="bar"><span class=${value > 95 ? "full" : value > 85 ? "high" : ""} style=${`width:${Math.min(100, value)}%`}></span></div>`

const Cluster = ({ cluster, watching, select }) => {
  if (watching === "none") return html`<section><h2>Cluster</h2><div class="dim" id="no-cluster">no cluster is watched (VIGIL_SOURCE=none): events come from producers only</div></section>`
  if (!cluster) return html`<section><h2>Cluster</h2><div class="dim">no snapshot yet</div></section>`
  const s = cluster.summary
  return html`<section>
    <h2>Cluster · ${cluster.source} · ${s.nodesOnline}/${s.nodesTotal} nodes · ${s.guestsRunning}/${s.guestsTotal} guests running${
      cluster.sourceHealth.status === "degraded" ? ` · source degraded: ${cluster.sourceHealth.reason}` : ""
    }</h2>
    <div class="tiles">
      ${cluster.nodes.map((n) => html`<div class=${`tile node ${n.status !== "online" ? "down" : n.incidents.length ? "alerting" : ""}`} data-node=${n.name} onClick=${() => select(`node/${n.name}`)}>
        <div class="name">${n.name}</div><div class="meta">${n.status}${n.hastate && n.hastate !== "online" ? ` · HA ${n.hastate}` : ""}${n.detail ? ` · ${n.detail}` : ""}${n.updates?.count ? ` · ${n.updates.count} updates` : ""}</div>
        <${StorageHealth} health=${n.storageHealth} />
        <div class="meta">cpu ${n.usage.cpu ?? "–"}%</div><${Bar} value=${n.usage.cpu} />
        <div class="meta">mem ${n.usage.mem ?? "–"}%</div><${Bar} value=${n.usage.mem} />
        <div class="meta">disk ${n.usage.disk ?? "–"}%</div><${Bar} value=${n.usage.disk} />
        <${Sparkline} api=${api} resource=${`node/${n.name}`} />
      </div>`)}
      ${cluster.guests.filter((g) => !g.template).map((g) => html`<div
        class=${`tile guest ${guestClass(g)}`}
        data-guest=${`${g.kind}/${g.vmid}`} onClick=${() => select(`${g.kind}/${g.vmid}`)}>
        <div class="name">${g.vmid} ${g.name}</div>
        <div class="meta">${g.kind} · ${g.node} · ${g.status}${g.lock ? ` · ${g.lock}` : ""}</div>
        ${g.affected ? html`<div class="cause affected">its node is down: followed</div>` : g.cause && g.status !== "running"
          ? html`<div class=${`cause ${g.cause.kind}`} title=${g.cause.summary}>${causeText(g)}</div>`
          : html`<div class="meta">mem ${g.usage.mem ?? "–"}%</div><${Bar} value=${g.usage.mem} />`}
        <${Sparkline} api=${api} resource=${`${g.kind}/${g.vmid}`} />
      </div>`)}
      ${cluster.storage.map((p) => html`<div class=${`tile ${p.affected ? "stopped" : p.status !== "available" && p.status !== "active" ? "down" : p.incidents.length ? "alerting" : ""}`}
        data-storage=${`storage/${p.node}/${p.storage}`} onClick=${() => select(`storage/${p.node}/${p.storage}`)}>
        <div class="name">${p.node}/${p.storage}</div><div class="meta">${p.type ?? ""} ${p.shared ? "· shared" : ""}${p.status !== "available" ? ` · ${p.status}` : ""}</div>
        <div class="meta">${p.percent ?? "–"}% used</div><${Bar} value=${p.percent} />
        <${Sparkline} api=${api} resource=${`storage/${p.node}/${p.storage}`} />
      </div>`)}
    </div>
  </section>`
}

/** A node's disks, ZFS pools and Ceph, as its tile shows them: quiet when all is well. */
const StorageHealth = ({ health }) => health ? html`<div class="meta storage-health">${[
  health.disks !== "ok" ? html`<span class="sev error">disk ${health.disks}</span>` : "disks ok",
  health.zfs !== "ok" ? html`<span class="sev error">zfs ${health.zfs}</span>` : "zfs ok",
  health.ceph === null ? null : health.ceph === "HEALTH_OK" ? "ceph ok" : html`<span class=${`sev ${health.ceph === "HEALTH_ERR" ? "error" : "warning"}`}>ceph ${health.ceph.slice(7).toLowerCase()}</span>`
].filter((x) => x !== null).map((x, i) => html`${i ? " · " : ""}${x}`)}</div>` : null

/**
 * A guest tile: red when it crashed (an open incident, or a stop nothing explains), grey when it
 * is stopped for a known reason or its node is down, plain while it runs.
 */
const guestClass = (g) => {
  if (g.incidents.length || (g.status !== "running" && g.cause?.kind === "unknown")) return "down"
  return g.status === "running" && !g.affected ? "" : "stopped"
}

/** "stopped by root@pam, qmshutdown": who and which task, when a task says; else the summary. */
const causeText = (g) => {
  const c = g.cause
  if (c.kind === "unknown") return `crashed: ${c.summary}`
  return c.user ? `${g.status} by ${c.user}, ${c.task}` : c.summary
}

const severities = ["debug", "info", "warning", "error", "critical"]

const Feed = ({ events, paused, setPaused }) => {
  const [type, setType] = useState("")
  const [severity, setSeverity] = useState("debug")
  const [node, setNode] = useState("")
  const shown = events.filter((e) =>
    (type === "" || (type.endsWith("*") ? e.type.startsWith(type.slice(0, -1)) : e.type === type)) &&
    severities.indexOf(e.severity) >= severities.indexOf(severity) &&
    (node === "" || e.node === node))
  return html`<section>
    <h2>Activity</h2>
    <div class="filters">
      <input placeholder="type (vm.*)" value=${type} onInput=${(e) => setType(e.target.value)} />
      <select value=${severity} onChange=${(e) => setSeverity(e.target.value)}>${severities.map((s) => html`<option value=${s}>${s}+</option>`)}</select>
      <input placeholder="node" value=${node} onInput=${(e) => setNode(e.target.value)} />
      <button id="pause" onClick=${() => setPaused(!paused)}>${paused ? "resume" : "pause"}</button>
    </div>
    <div class="feed" id="feed">
      ${shown.slice(0, 300).map((e) => html`<div class="row" data-seq=${e.sequence} data-type=${e.type}>
        <span class="dim">${time(e.time)}</span><span class=${`sev ${e.severity}`}>${e.severity}</span>
        <span class="dim">#${e.sequence}</span><span>${e.type} ${e.subject ?? e.node ?? ""}${e.cause
          ? html` <span class=${`cause-tag ${e.cause}`} title=${e.data?.cause?.summary ?? ""}>${e.cause}</span>`
          : null} <span class="dim">${e.data?.summary ?? e.data?.title ?? ""}</span></span>
      </div>`)}
    </div>
  </section>`
}

/** An operator's hand on an incident: take it on (no more repeats), or silence it until it resolves. */
const act = (refresh, request) => request.then(refresh, (e) => alert(e.message))

const Incidents = ({ incidents, refresh, show }) => html`<section>
  <h2>Incidents</h2>
  <table id="incidents"><tr><th>status</th><th>condition</th><th>target</th><th>for</th><th>count</th><th></th></tr>
    ${incidents.map((i) => html`<tr data-key=${i.key} class=${i.status}>
      <td class=${`sev ${i.status === "open" ? i.severity : "debug"}`}>${i.status}</td>
      <td class="open-timeline" title="show its timeline" onClick=${() => show(i.id)}>${i.condition}</td><td>${i.target}</td>
      <td>${i.status === "open" ? since(i.openedAt) : `${i.durationSeconds}s`}</td><td>${i.count}</td>
      <td class="row-actions">${i.status !== "open" ? null : i.acknowledged
        ? html`<span class="acked" title=${i.acknowledged.comment ?? ""}>acked by ${i.acknowledged.by}</span>
            <button class="unack" onClick=${() => act(refresh, api(`/api/v1/incidents/${i.id}/ack`, { method: "DELETE" }))}>unack</button>`
        : html`<button class="ack" onClick=${() => act(refresh, api(`/api/v1/incidents/${i.id}/ack`, { method: "POST", body: JSON.stringify({ by: "hud" }) }))}>ack</button>`}
        ${i.status === "open" ? html`<button class="silence" onClick=${() => act(refresh, api("/api/v1/silences", {
          method: "POST",
          body: JSON.stringify({ matchers: { condition: i.condition, target: i.target }, untilResolved: true, createdBy: "hud", comment: `silenced from the HUD: ${i.summary}` })
        }))}>silence</button>` : null}</td>
    </tr>`)}
  </table>
</section>`

const matcherText = (m) => Object.entries(m).map(([k, v]) => `${k}=${v}`).join(" ")
const until = (s) => s.recurring ? `${s.recurring.days.join(",")} ${s.recurring.start}–${s.recurring.end} ${s.recurring.timeZone}`
  : s.untilResolved ? "until resolved" : s.endsAt ? `until ${s.endsAt.slice(0, 16).replace("T", " ")}` : ""

const Silences = ({ silences, refresh }) => html`<section>
  <h2>Silences</h2>
  <table id="silences"><tr><th>matches</th><th>when</th><th>by</th><th>why</th><th></th></tr>
    ${silences.every((s) => s.endedAt !== null) ? html`<tr><td colspan="5" class="dim">nothing silenced</td></tr>` : null}
    ${silences.filter((s) => s.endedAt === null).map((s) => html`<tr data-silence=${s.id}>
      <td>${matcherText(s.matchers)}</td><td class="dim">${until(s)}</td><td>${s.createdBy}</td><td class="dim">${s.comment}</td>
      <td>${s.origin === "api" ? html`<button class="end" onClick=${() => act(refresh, api(`/api/v1/silences/${s.id}`, { method: "DELETE" }))}>end</button>` : null}</td>
    </tr>`)}
  </table>
</section>`

const Deliveries = ({ deliveries, refresh }) => html`<section>
  <h2>Notifications sent</h2>
  <table id="deliveries"><tr><th>time</th><th>channel</th><th>what</th><th>status</th><th></th></tr>
    ${deliveries.length === 0 ? html`<tr><td colspan="5" class="dim">none yet</td></tr>` : null}
    ${deliveries.map((d) => html`<tr data-delivery=${d.id} class=${`delivery ${d.status}`}>
      <td class="dim">${time(d.createdAt)}</td><td>${d.channel}</td><td title=${d.incidents.join(", ")}>${d.title}</td>
      <td class="status" title=${d.error ?? ""}>${d.status}${d.attempts > 1 ? ` (${d.attempts} tries)` : ""}${d.status === "dead" && d.error ? `: ${d.error}` : ""}</td>
      <td>${d.status === "dead" ? html`<button class="retry" onClick=${() => act(refresh, api(`/api/v1/deliveries/${d.id}/retry`, { method: "POST" }))}>retry</button>` : null}</td>
    </tr>`)}
  </table>
</section>`

const Remediation = ({ actions, proposals, refresh }) => {
  const decide = async (id, verdict) => {
    await api(`/api/v1/proposals/${id}/${verdict}`, { method: "POST", body: JSON.stringify({ by: "hud" }) })
    refresh()
  }
  return html`<section>
    <h2>Remediation</h2>
    ${proposals.map((p) => html`<div class="proposal" data-proposal=${p.id}>
      Proposed: ${p.action} ${p.actionArgs} for ${p.incidentKey}
      <button class="approve" onClick=${() => decide(p.id, "approve")}>approve</button>
      <button class="reject" onClick=${() => decide(p.id, "reject")}>reject</button>
    </div>`)}
    <table id="actions"><tr><th>time</th><th>incident</th><th>action</th><th>result</th><th>details</th></tr>
      ${actions.map((a) => html`<tr><td class="dim">${time(a.timestamp)}</td><td>${a.incidentKey}</td><td>${a.action}</td><td>${a.result}</td>
        <td class="dim">${a.resultDetails ?? ""} ${a.verificationResult ?? ""}</td></tr>`)}
    </table>
  </section>`
}

const Producers = ({ producers }) => html`<section>
  <h2>Producers</h2>
  <table id="producers"><tr><th>kind</th><th>id</th><th>status</th><th>last beat</th></tr>
    ${producers.map((p) => html`<tr><td>${p.kind}</td><td>${p.id}</td><td class=${`sev ${p.alive ? "info" : "error"}`}>${p.alive ? p.status : "lost"}</td>
      <td class="dim">${since(p.lastBeatAt)} ago</td></tr>`)}
  </table>
</section>`

const App = () => {
  const [events, setEvents] = useState([])
  const [cluster, setCluster] = useState(null)
  // What is watched, from /api/v1/health: with none there is no cluster view to ask for.
  const [watching, setWatching] = useState(undefined)
  const watchingRef = useRef(undefined)
  const [incidents, setIncidents] = useState([])
  const [actions, setActions] = useState([])
  const [proposals, setProposals] = useState([])
  const [producers, setProducers] = useState([])
  const [silences, setSilences] = useState([])
  const [deliveries, setDeliveries] = useState([])
  const [shown, setShown] = useState(null)
  const [connection, setConnection] = useState("offline")
  const [lastHub, setLastHub] = useState(0)
  const [paused, setPaused] = useState(false)
  // The resource whose history is charted (a tile clicked), if any.
  const [selected, setSelected] = useState(null)
  const pausedRef = useRef(false)
  const held = useRef([])
  const lastSeq = useRef(0)
  pausedRef.current = paused

  const refresh = () => {
    if (watchingRef.current !== undefined && watchingRef.current !== "none") api("/api/v1/cluster").then(setCluster, () => {})
    api("/api/v1/incidents?limit=50").then(setIncidents, () => {})
    api("/api/v1/actions?limit=30").then(setActions, () => {})
    api("/api/v1/proposals?status=pending").then(setProposals, () => {})
    api("/api/v1/heartbeats").then(setProducers, () => {})
    api("/api/v1/silences").then(setSilences, () => {})
    api("/api/v1/deliveries?limit=30").then(setDeliveries, () => {})
  }

  useEffect(() => {
    if (!paused && held.current.length) {
      setEvents((es) => [...held.current.reverse(), ...es].slice(0, 1000))
      held.current = []
    }
  }, [paused])

  useEffect(() => {
    let source
    let closed = false
    let refreshTimer
    const add = (e) => {
      if (e.sequence <= lastSeq.current) return
      lastSeq.current = e.sequence
      if (pausedRef.current) held.current.push(e)
      else setEvents((es) => [e, ...es].slice(0, 1000))
      clearTimeout(refreshTimer)
      refreshTimer = setTimeout(refresh, 150)
    }
    const connect = () => {
      // Resume from the newest sequence shown, so a reconnect misses nothing and repeats nothing.
      const q = new URLSearchParams({ last_event_id: String(lastSeq.current) })
      if (token) q.set("access_token", token)
      source = new EventSource(`/api/v1/events/stream?${q}`)
      source.onopen = () => setConnection("live")
      source.onmessage = (m) => add(JSON.parse(m.data))
      source.addEventListener("heartbeat", (m) => {
        const beat = JSON.parse(m.data)
        if (beat.type === "hub") setLastHub(Date.now())
      })
      source.onerror = () => {
        if (closed) return
        setConnection(source.readyState === EventSource.CLOSED ? "offline" : "reconnecting")
        if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000)
      }
    }
    api("/api/v1/events?limit=100").then((recent) => {
      setEvents(recent)
      lastSeq.current = recent.length ? recent[0].sequence : 0
      connect()
    }, () => { setConnection("offline"); setTimeout(() => location.reload(), 3000) })
    api("/api/v1/health").then((h) => {
      watchingRef.current = h.source
      setWatching(h.source)
      refresh()
    }, () => {
      watchingRef.current = "unknown"
      refresh()
    })
    const tick = setInterval(refresh, 5000)
    return () => { closed = true; source?.close(); clearInterval(tick) }
  }, [])

  const [, setNow] = useState(0)
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), 1000); return () => clearInterval(t) }, [])
  const hubAlive = Date.now() - lastHub < 7500

  return html`
    <header>
      <h1>vigil</h1>
      <span class=${`conn ${connection}`} id="connection">${connection}${connection === "reconnecting" ? ` (resuming after #${lastSeq.current})` : ""}</span>
      <span class=${`hub ${hubAlive ? "alive" : "silent"}`} id="hub">hub ${hubAlive ? "alive" : "silent"}</span>
      <span class="dim">last #${lastSeq.current}</span>
    </header>
    <main>
      <div class="wide"><${Cluster} cluster=${cluster} watching=${watching} select=${setSelected} /></div>
      ${selected ? html`<div class="wide"><${ResourceChart} api=${api} resource=${selected} onClose=${() => setSelected(null)} /></div>` : null}
      <${Feed} events=${events} paused=${paused} setPaused=${setPaused} />
      <div>
        <${Incidents} incidents=${incidents} refresh=${refresh} show=${setShown} />
        ${watching !== undefined && watching !== "none" ? html`<${Backups} api=${api} tick=${Math.floor(Date.now() / 30_000)} />` : null}
        ${shown === null ? null : html`<${Timeline} id=${shown} api=${api} onClose=${() => setShown(null)} />`}
        <${Silences} silences=${silences} refresh=${refresh} />
        <${Remediation} actions=${actions} proposals=${proposals} refresh=${refresh} />
        <${Deliveries} deliveries=${deliveries} refresh=${refresh} />
        <${Producers} producers=${producers} />
      </div>
    </main>`
}

render(html`<${App} />`, document.getElementById("app"))
