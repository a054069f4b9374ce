// Metric history in the HUD: a sparkline on each tile (loaded only while the tile is on screen, so
// a thousand guests cost a thousand requests only when someone scrolls past them all), and for the
// resource clicked, one uPlot chart per metric: the min–max band of each bucket, its average as a line.
import { html, useEffect, useRef, useState } from "/hud/vendor/standalone.js"

// uPlot is loaded when the first chart opens: the rest of the HUD never waits for it, nor breaks with it.
let uPlotModule
const loadUPlot = () => (uPlotModule ??= import("/hud/vendor/uPlot.esm.js").then((m) => m.default))

const metricsOf = (resource) =>
  resource.startsWith("node/") ? ["cpu", "mem", "disk"]
    : resource.startsWith("storage/") ? ["used", "total"]
    : ["cpu", "mem", "netin", "netout", "diskread", "diskwrite"]

const sparkMetric = (resource) => (resource.startsWith("storage/") ? "used" : "cpu")

const historyOf = (api, resource, metric, spanMs) =>
  api(`/api/v1/metrics/history?${new URLSearchParams({ resource, metric, from: String(Date.now() - spanMs) })}`)

const human = (n) => {
  const units = ["B", "KB", "MB", "GB", "TB", "PB"]
  let i = 0
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${n.toFixed(i > 0 && Math.abs(n) < 10 ? 1 : 0)} ${units[i]}`
}
const shown = (unit, v) => (v === null || v === undefined ? "–" : unit === "ratio" ? `${(v * 100).toFixed(1)}%` : unit === "bytes/s" ? `${human(v)}/s` : human(v))

const every = (ms) => {
  const s = ms / 1000
  return s < 120 ? `${s} s` : s < 7200 ? `${s / 60} min` : s < 172_800 ? `${s / 3600} h` : `${s / 86_400} d`
}

/** Re-runs `load` every 30 s while `active`; a closed component ignores late answers. */
const usePolling = (active, load, deps) =>
  useEffect(() => {
    if (!active) return
    let live = true
    const run = () => load().then((value) => live && value, () => false)
    run()
    const timer = setInterval(run, 30_000)
    return () => { live = false; clearInterval(timer) }
  }, [active, ...deps])

/** Whether the element has been on screen yet. */
const useSeen = (ref) => {
  const [seen, setSeen] = useState(false)
  useEffect(() => {
    if (seen || !ref.current) return
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setSeen(true))
    observer.observe(ref.current)
    return () => observer.disconnect()
  }, [seen])
  return seen
}

const sparkPath = (points) => {
  const t0 = points[0].t
  const span = points[points.length - 1].t - t0 || 1
  const values = points.map((p) => p.avg)
  const lo = Math.min(...values)
  const range = Math.max(...values) - lo || 1
  return points.map((p, i) => `${i ? "L" : "M"}${(((p.t - t0) / span) * 100).toFixed(2)},${(19 - ((p.avg - lo) / range) * 18).toFixed(2)}`).join("")
}

/** The last hour of a tile's main metric, as a line. */
export const Sparkline = ({ api, resource }) => {
  const ref = useRef(null)
  const seen = useSeen(ref)
  const [points, setPoints] = useState([])
  usePolling(seen, () => historyOf(api, resource, sparkMetric(resource), 3_600_000).then((h) => setPoints(h.points)), [resource])
  return html`<svg ref=${ref} class="spark" viewBox="0 0 100 20" preserveAspectRatio="none" data-points=${points.length}>
    ${points.length > 1 ? html`<path d=${sparkPath(points)} />` : null}
  </svg>`
}

const Plot = ({ history }) => {
  const ref = useRef(null)
  const [failed, setFailed] = useState(null)
  useEffect(() => {
    let plot
    let live = true
    loadUPlot().then((uPlot) => { if (live) plot = draw(uPlot) }, (e) => setFailed(String(e)))
    return () => { live = false; plot?.destroy() }
  }, [history])
  const draw = (uPlot) => {
    const p = history.points
    const data = [p.map((x) => x.t / 1000), p.map((x) => x.min), p.map((x) => x.avg), p.map((x) => x.max)]
    const edge = { stroke: "#30506f", width: 1, points: { show: false } }
    return new uPlot({
      width: ref.current.clientWidth || 600,
      height: 150,
      legend: { show: false },
      // The range asked for, not the data's: a resource with a few points still shows where they are.
      scales: { x: { time: true, range: [history.from / 1000, history.to / 1000] } },
      series: [{}, { label: "min", ...edge }, { label: "avg", stroke: "#58a6ff", width: 1.5 }, { label: "max", ...edge }],
      bands: [{ series: [3, 1], fill: "rgba(88, 166, 255, 0.15)" }],
      axes: [
        { stroke: "#8b949e", grid: { stroke: "#21262d" }, ticks: { stroke: "#21262d" } },
        { stroke: "#8b949e", grid: { stroke: "#21262d" }, ticks: { stroke: "#21262d" }, size: 72, values: (_, ticks) => ticks.map((v) => shown(history.unit, v)) }
      ]
    }, data, ref.current)
  }
  return failed ? html`<div class="dim">chart unavailable: ${failed}</div>` : html`<div class="plot" ref=${ref}></div>`
}

const ranges = [["1 h", 3_600_000], ["6 h", 21_600_000], ["24 h", 86_400_000], ["7 d", 604_800_000], ["30 d", 2_592_000_000], ["1 y", 31_536_000_000]]

/** A resource's history, one chart per metric, over the range chosen (the API picks the tier). */
export const ResourceChart = ({ api, resource, onClose }) => {
  const [span, setSpan] = useState(3_600_000)
  const [histories, setHistories] = useState([])
  usePolling(true, () => Promise.all(metricsOf(resource).map((m) => historyOf(api, resource, m, span).catch(() => null)))
    .then((hs) => setHistories(hs.filter((h) => h !== null))), [resource, span])
  return html`<section id="chart" data-resource=${resource}>
    <h2>History · ${resource}
      <span class="ranges">${ranges.map(([label, ms]) => html`<button class=${ms === span ? "on" : ""} onClick=${() => setSpan(ms)}>${label}</button>`)}</span>
      <button class="close" onClick=${onClose}>close</button></h2>
    <div class="charts">${histories.map((h) => html`<div class="chart" data-metric=${h.metric} data-points=${h.points.length}>
      <div class="meta">${h.metric} · now ${shown(h.unit, h.points[h.points.length - 1]?.avg)} · ${h.tier}, ${every(h.step)} buckets</div>
      ${h.points.length ? html`<${Plot} history=${h} />` : html`<div class="dim">no history in this range</div>`}
    </div>`)}</div>
  </section>`
}
