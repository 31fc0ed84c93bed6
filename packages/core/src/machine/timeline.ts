/**
 * A run as one self-contained HTML page: per-CPU lanes of thread slices, report markers, flow
 * arrows (waker → wakee), a legend. The page needs no network: its CSS, its script and its data
 * are inline, and it draws on one <canvas>.
 *
 * The input is a small model (TimelineModel), built here from what the CPUs record today (their
 * switch records) and the log's reports; flows are part of the model so that wakeup records, when
 * the trace has them, draw as arrows without a change to the page.
 *
 * Large runs: the page draws only the slices in view (binary search for the first), and a lane's
 * slices narrower than a pixel are decimated to one 1-pixel column each, coloured by the thread
 * that covered most of it: a frame costs O(slices in view) arithmetic and O(width) fills.
 */
import { traced_wakeups } from './trace-export.ts';
import type { LogRecord } from '../printk/logbuf.ts';
import type { CpuTrace } from './cpu-protocol.ts';

/** One stretch a thread ran on a lane's CPU, in ms since boot; start <= end. */
export interface TimelineSlice {
  start: number;
  end: number;
  pid: number;
}

export interface TimelineLane {
  name: string;
  /** In start order, not overlapping. */
  slices: TimelineSlice[];
}

export interface TimelineThread {
  pid: number;
  name: string;
  /** A CSS colour, a function of the pid alone (thread_colour). */
  colour: string;
}

/** An instant with a text to read: a kernel report. */
export interface TimelineMarker {
  ms: number;
  /** The lane of the CPU it was printed on; -1: none (the coordinator). */
  lane: number;
  kind: string;
  /** One line: the report's headline. */
  title: string;
  /** The whole report. */
  text: string;
}

/** An arrow from one lane and time to another (a wakeup: waker → wakee). */
export interface TimelineFlow {
  from: { lane: number; ms: number };
  to: { lane: number; ms: number };
  label: string;
}

export interface TimelineModel {
  title: string;
  /** ms since boot at which the run's last slices end. */
  endMs: number;
  lanes: TimelineLane[];
  /** Every thread a slice names, in pid order. */
  threads: TimelineThread[];
  markers: TimelineMarker[];
  flows: TimelineFlow[];
}

/** A colour per pid: hue, saturation and lightness from a multiplicative hash, so neighbours differ. */
export function thread_colour(pid: number): string {
  const h = Math.imul(pid ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
  return `hsl(${h % 360} ${55 + ((h >>> 9) % 30)}% ${42 + ((h >>> 17) % 20)}%)`;
}

/** The headline of a report: its BUG/WARNING/INFO/Oops line, else its kind. */
export function report_title(r: LogRecord): string {
  return r.msg.split('\n').find((l) => /BUG|WARNING|INFO|Oops/.test(l)) ?? String(r.report);
}

/**
 * The model of a run: a lane per CPU with a slice per stretch a thread ran (from one switch to the
 * CPU's next, the last one to `endMs`; idle, pid 0, is left out), a marker per kernel report, an
 * arrow per recorded wakeup from the waker's CPU to where the wakee next ran.
 */
export function timeline_model(traces: CpuTrace[], endMs: number, log: LogRecord[], title = 'kmodel run'): TimelineModel {
  const names = new Map<number, string>();
  const lanes = traces.map(({ events: ev, names: n }, cpu): TimelineLane => {
    for (const [pid, name] of n) if (!names.has(pid)) names.set(pid, name);
    const slices: TimelineSlice[] = [];
    for (let i = 0; i < ev.length; i += 2) {
      const pid = ev[i + 1];
      if (pid === 0) continue;
      const start = ev[i];
      const end = i + 2 < ev.length ? ev[i + 2] : Math.max(start, endMs);
      slices.push({ start, end: Math.max(start, end), pid });
    }
    return { name: `cpu${cpu}`, slices };
  });
  const pids = new Set<number>();
  for (const l of lanes) for (const s of l.slices) pids.add(s.pid);
  const threads = [...pids].sort((a, b) => a - b).map((pid) => ({ pid, name: names.get(pid) ?? '?', colour: thread_colour(pid) }));
  const markers = log.filter((r) => r.report).map((r): TimelineMarker => ({
    ms: r.uptime * 1000, lane: r.cpu >= 0 && r.cpu < lanes.length ? r.cpu : -1, kind: String(r.report), title: report_title(r), text: r.msg,
  }));
  const flows = traced_wakeups(traces).filter((w) => w.at >= 0 && w.waker !== 0).map((w): TimelineFlow => ({
    from: { lane: w.cpu, ms: w.ms }, to: { lane: w.target, ms: w.at }, label: `${names.get(w.waker) ?? '?'}/${w.waker} → ${names.get(w.wakee) ?? '?'}/${w.wakee}`,
  }));
  return { title, endMs, lanes, threads, markers, flows };
}

/**
 * What the page's script reads: times in integer ns (a controlled run's virtual clock moves in
 * steps of a µs or less), each lane's starts delta-coded, so a slice costs about 20 bytes
 * (1e5 switches: about 2 MB).
 */
function page_data(m: TimelineModel): object {
  const ns = (ms: number) => Math.round(ms * 1e6);
  return {
    title: m.title,
    end: ns(m.endMs),
    lanes: m.lanes.map((l) => {
      const s: number[] = new Array(l.slices.length);
      const d: number[] = new Array(l.slices.length);
      const p: number[] = new Array(l.slices.length);
      let last = 0;
      l.slices.forEach((x, i) => {
        const start = ns(x.start);
        s[i] = start - last;
        last = start;
        d[i] = Math.max(0, ns(x.end) - start);
        p[i] = x.pid;
      });
      return { name: l.name, s, d, p };
    }),
    threads: m.threads.map((t) => [t.pid, t.name, t.colour]),
    markers: m.markers.map((k) => ({ t: ns(k.ms), lane: k.lane, kind: k.kind, title: k.title, text: k.text })),
    flows: m.flows.map((f) => ({ a: f.from.lane, ta: ns(f.from.ms), b: f.to.lane, tb: ns(f.to.ms), label: f.label })),
  };
}

/** JSON that may sit inside <script>: no "</script", no "<!--". */
function script_json(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function html_text(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The page: one HTML document, everything inline. */
export function timeline_html(m: TimelineModel): string {
  return TEMPLATE.replace('%TITLE%', () => html_text(m.title)).replace('%DATA%', () => script_json(page_data(m)));
}

const TEMPLATE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%TITLE%</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
:root { --lane: 26px; --axis: 22px; --label: 64px; font: 13px/1.35 system-ui, sans-serif; color: #222; }
body { margin: 0; background: #fafafa; }
header { padding: 8px 12px; border-bottom: 1px solid #ddd; background: #fff; display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 15px; margin: 0; }
header .help { color: #666; font-size: 12px; }
#view { display: grid; grid-template-columns: var(--label) 1fr; margin: 8px 12px; background: #fff; border: 1px solid #ddd; }
#labels { border-right: 1px solid #ddd; }
#labels .axis { height: var(--axis); border-bottom: 1px solid #eee; box-sizing: border-box; }
.lane { height: var(--lane); line-height: var(--lane); padding: 0 6px; font: 12px ui-monospace, monospace; border-bottom: 1px solid #f0f0f0; box-sizing: border-box; }
#plot { position: relative; overflow: hidden; cursor: grab; user-select: none; }
#plot.dragging { cursor: grabbing; }
canvas { display: block; }
#markers { position: absolute; left: 0; top: 0; right: 0; height: var(--axis); pointer-events: none; }
.marker { position: absolute; top: 2px; width: 14px; height: 16px; margin-left: -7px; padding: 0; border: 0; cursor: pointer; pointer-events: auto;
  background: #d32f2f; clip-path: polygon(0 0, 100% 0, 50% 100%); }
.marker.on { background: #7b1fa2; }
#tip { position: absolute; pointer-events: none; background: rgba(20,20,20,.88); color: #fff; padding: 3px 6px; border-radius: 3px; font: 12px ui-monospace, monospace; white-space: pre; display: none; z-index: 2; }
#below { display: grid; grid-template-columns: minmax(240px, 1fr) minmax(240px, 1.4fr); gap: 12px; margin: 0 12px 12px; }
section, aside { background: #fff; border: 1px solid #ddd; padding: 8px 10px; }
h2 { font-size: 13px; margin: 0 0 6px; }
#legend ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 12px; max-height: 240px; overflow: auto; }
#legend li { cursor: pointer; font: 12px ui-monospace, monospace; }
#legend li.on { font-weight: bold; text-decoration: underline; }
.sw { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; border-radius: 2px; }
#legend p { margin: 6px 0 0; color: #555; font-size: 12px; }
#report pre { white-space: pre-wrap; font: 12px ui-monospace, monospace; margin: 0; max-height: 360px; overflow: auto; }
#report .none { color: #777; }
</style></head>
<body>
<header><h1 id="title"></h1><span id="summary"></span>
<span class="help">wheel: zoom · drag: pan · double-click: whole run · click a ▼ marker: its report · click a thread in the legend: highlight it</span></header>
<div id="view" data-testid="timeline">
  <div id="labels"><div class="axis"></div></div>
  <div id="plot"><canvas id="c"></canvas><div id="markers"></div><div id="tip"></div></div>
</div>
<div id="below">
  <section id="legend" data-testid="legend"><h2>Threads</h2><ul></ul><p id="flows-note"></p></section>
  <aside id="report" data-testid="report-panel"><h2 id="report-title">Report</h2><pre data-testid="report-text" class="none">Click a ▼ marker to read its report.</pre></aside>
</div>
<script id="data" type="application/json">%DATA%</script>
<script>
(function () {
  'use strict';
  var t0 = performance.now();
  var D = JSON.parse(document.getElementById('data').textContent);
  var LANE = 26, AXIS = 22;
  var colour = new Map(), tname = new Map();
  D.threads.forEach(function (t) { colour.set(t[0], t[2]); tname.set(t[0], t[1]); });
  // Lanes decoded: absolute starts and ends in ns.
  var lanes = D.lanes.map(function (l) {
    var n = l.s.length, s = new Float64Array(n), e = new Float64Array(n), p = new Int32Array(n), at = 0;
    for (var i = 0; i < n; i++) { at += l.s[i]; s[i] = at; e[i] = at + l.d[i]; p[i] = l.p[i]; }
    return { name: l.name, s: s, e: e, p: p };
  });
  var total = lanes.reduce(function (a, l) { return a + l.s.length; }, 0);
  var end = Math.max(D.end, 1);
  D.markers.forEach(function (m) { if (m.t > end) end = m.t; });
  var view = { a: 0, b: end }, highlight = null;

  document.title = D.title;
  document.getElementById('title').textContent = D.title;
  document.getElementById('summary').textContent = lanes.length + ' CPUs · ' + D.threads.length + ' threads · ' + total + ' slices · '
    + D.markers.length + ' report' + (D.markers.length === 1 ? '' : 's') + ' · ' + ms_text(end, 1000);

  var labels = document.getElementById('labels');
  lanes.forEach(function (l, i) {
    var d = document.createElement('div');
    d.className = 'lane'; d.textContent = l.name; d.dataset.cpu = String(i);
    d.setAttribute('data-testid', 'lane');
    labels.appendChild(d);
  });

  var legend = document.querySelector('#legend ul');
  var SHOWN = 400;
  D.threads.slice(0, SHOWN).forEach(function (t) {
    var li = document.createElement('li');
    li.setAttribute('data-testid', 'legend-thread'); li.dataset.pid = String(t[0]);
    var sw = document.createElement('span'); sw.className = 'sw'; sw.style.background = t[2];
    li.appendChild(sw); li.appendChild(document.createTextNode(t[1] + '/' + t[0]));
    li.onclick = function () {
      highlight = highlight === t[0] ? null : t[0];
      legend.querySelectorAll('li').forEach(function (x) { x.classList.toggle('on', highlight !== null && x.dataset.pid === String(highlight)); });
      draw();
    };
    legend.appendChild(li);
  });
  if (D.threads.length > SHOWN) {
    var more = document.createElement('li'); more.textContent = '… ' + (D.threads.length - SHOWN) + ' more'; legend.appendChild(more);
  }
  document.getElementById('flows-note').textContent = D.flows.length
    ? 'Arrows: ' + D.flows.length + ' wakeups (waker → wakee). ▼ red: kernel reports.'
    : 'Arrows: none: this trace has no wakeup records (only context switches). ▼ red: kernel reports.';

  var plot = document.getElementById('plot'), cv = document.getElementById('c'), cx = cv.getContext('2d');
  var tip = document.getElementById('tip'), mk = document.getElementById('markers');
  var W = 0, H = AXIS + LANE * lanes.length;
  var buttons = D.markers.map(function (m, i) {
    var b = document.createElement('button');
    b.className = 'marker'; b.title = m.kind + ': ' + m.title; b.setAttribute('data-testid', 'report-marker'); b.dataset.kind = m.kind;
    b.setAttribute('aria-label', 'report ' + (i + 1) + ': ' + m.title);
    b.onclick = function (ev) { ev.stopPropagation(); show(i); };
    mk.appendChild(b);
    return b;
  });
  function show(i) {
    var m = D.markers[i];
    buttons.forEach(function (b, j) { b.classList.toggle('on', j === i); });
    document.getElementById('report-title').textContent = m.kind + ' at ' + ms_text(m.t, 1000) + (m.lane >= 0 ? ' on ' + lanes[m.lane].name : '');
    var pre = document.querySelector('#report pre');
    pre.className = ''; pre.textContent = m.text;
  }

  /** t ns as ms, with the decimals a resolution of res ns needs. */
  function ms_text(t, res) { return (t / 1e6).toFixed(Math.min(6, Math.max(0, Math.ceil(6 - Math.log10(res) - 1e-9)))) + ' ms'; }
  function x_of(t) { return (t - view.a) * W / (view.b - view.a); }
  function t_of(x) { return view.a + x * (view.b - view.a) / W; }
  /** First slice of the lane that ends at or after t. */
  function first(l, t) {
    var lo = 0, hi = l.e.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (l.e[mid] < t) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function fill(pid) {
    var c = colour.get(pid) || '#999';
    cx.globalAlpha = highlight === null || highlight === pid ? 1 : 0.18;
    cx.fillStyle = c;
  }
  function ticks() {
    var span = view.b - view.a, step = Math.pow(10, Math.floor(Math.log10(span / 8)));
    if (span / step > 16) step *= 5; else if (span / step > 8) step *= 2;
    cx.fillStyle = '#666'; cx.strokeStyle = '#eee'; cx.font = '11px ui-monospace, monospace'; cx.textBaseline = 'middle';
    for (var t = Math.ceil(view.a / step) * step; t <= view.b; t += step) {
      var x = Math.round(x_of(t)) + 0.5;
      cx.beginPath(); cx.moveTo(x, AXIS - 5); cx.lineTo(x, H); cx.stroke();
      cx.fillText(ms_text(t, step), x + 3, 8);
    }
  }
  function lane_draw(l, y) {
    var n = l.s.length, i = first(l, view.a);
    var col = -1, best = 0, bestPid = 0, k = (W / (view.b - view.a));
    for (; i < n && l.s[i] <= view.b; i++) {
      var x0 = (l.s[i] - view.a) * k, x1 = (l.e[i] - view.a) * k;
      if (x1 - x0 >= 1) {
        if (col >= 0) { fill(bestPid); cx.fillRect(col, y, 1, LANE - 4); col = -1; }
        fill(l.p[i]); cx.fillRect(x0, y, x1 - x0, LANE - 4);
        if (x1 - x0 > 50) {
          cx.globalAlpha = 1; cx.fillStyle = '#fff'; cx.font = '11px ui-monospace, monospace'; cx.textBaseline = 'middle';
          cx.save(); cx.beginPath(); cx.rect(x0, y, x1 - x0, LANE - 4); cx.clip();
          cx.fillText((tname.get(l.p[i]) || '?') + '/' + l.p[i], Math.max(x0, 0) + 3, y + (LANE - 4) / 2); cx.restore();
        }
        continue;
      }
      // Narrower than a pixel: one column per pixel, in the colour of the thread that covered most of it.
      var c = Math.floor(x0), w = x1 - x0;
      if (c !== col) {
        if (col >= 0) { fill(bestPid); cx.fillRect(col, y, 1, LANE - 4); }
        col = c; best = w; bestPid = l.p[i];
      } else if (w > best) { best = w; bestPid = l.p[i]; }
    }
    if (col >= 0) { fill(bestPid); cx.fillRect(col, y, 1, LANE - 4); }
    cx.globalAlpha = 1;
  }
  function arrow(xa, ya, xb, yb) {
    cx.beginPath(); cx.moveTo(xa, ya); cx.lineTo(xb, yb); cx.stroke();
    var a = Math.atan2(yb - ya, xb - xa);
    cx.beginPath(); cx.moveTo(xb, yb);
    cx.lineTo(xb - 7 * Math.cos(a - 0.4), yb - 7 * Math.sin(a - 0.4));
    cx.lineTo(xb - 7 * Math.cos(a + 0.4), yb - 7 * Math.sin(a + 0.4));
    cx.closePath(); cx.fill();
  }
  function draw() {
    var dpr = window.devicePixelRatio || 1;
    W = Math.max(100, plot.clientWidth);
    if (cv.width !== Math.round(W * dpr) || cv.height !== Math.round(H * dpr)) {
      cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr); cv.style.width = W + 'px'; cv.style.height = H + 'px';
    }
    cx.setTransform(dpr, 0, 0, dpr, 0, 0);
    cx.clearRect(0, 0, W, H);
    ticks();
    lanes.forEach(function (l, i) { lane_draw(l, AXIS + i * LANE + 2); });
    cx.strokeStyle = 'rgba(0,0,0,.6)'; cx.fillStyle = 'rgba(0,0,0,.6)'; cx.lineWidth = 1.2;
    D.flows.forEach(function (f) {
      if (Math.max(f.ta, f.tb) < view.a || Math.min(f.ta, f.tb) > view.b) return;
      arrow(x_of(f.ta), AXIS + f.a * LANE + LANE / 2, x_of(f.tb), AXIS + f.b * LANE + LANE / 2);
    });
    cx.lineWidth = 1;
    D.markers.forEach(function (m, i) {
      var x = x_of(m.t), b = buttons[i];
      var inside = x >= -7 && x <= W + 7;
      b.style.display = inside ? '' : 'none';
      if (!inside) return;
      b.style.left = x + 'px';
      cx.strokeStyle = 'rgba(211,47,47,.75)'; cx.beginPath(); cx.moveTo(Math.round(x) + 0.5, AXIS); cx.lineTo(Math.round(x) + 0.5, H); cx.stroke();
      if (m.lane >= 0) { cx.fillStyle = 'rgba(211,47,47,.9)'; cx.fillRect(Math.round(x) - 1, AXIS + m.lane * LANE, 3, LANE); }
    });
  }
  var pending = false;
  function redraw() { if (!pending) { pending = true; requestAnimationFrame(function () { pending = false; draw(); }); } }
  function clamp() {
    var span = Math.min(Math.max(view.b - view.a, 20), end * 1.2);
    if (view.a < -end * 0.1) view.a = -end * 0.1;
    view.b = view.a + span;
    if (view.b > end * 1.1) { view.b = end * 1.1; view.a = view.b - span; }
  }
  plot.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var r = plot.getBoundingClientRect(), t = t_of(ev.clientX - r.left), f = Math.exp((ev.deltaY || ev.deltaX) * 0.0015);
    view.a = t - (t - view.a) * f; view.b = t + (view.b - t) * f; clamp(); redraw();
  }, { passive: false });
  var drag = null;
  plot.addEventListener('mousedown', function (ev) { drag = { x: ev.clientX, a: view.a, b: view.b }; plot.classList.add('dragging'); });
  window.addEventListener('mouseup', function () { drag = null; plot.classList.remove('dragging'); });
  window.addEventListener('mousemove', function (ev) {
    if (drag) {
      var dt = (ev.clientX - drag.x) * (drag.b - drag.a) / W;
      view.a = drag.a - dt; view.b = drag.b - dt; clamp(); redraw(); tip.style.display = 'none'; return;
    }
    var r = plot.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    var li = Math.floor((y - AXIS) / LANE);
    if (x < 0 || x > W || li < 0 || li >= lanes.length) { tip.style.display = 'none'; return; }
    var l = lanes[li], t = t_of(x), i = first(l, t);
    if (i < l.s.length && l.s[i] <= t) {
      tip.textContent = (tname.get(l.p[i]) || '?') + '/' + l.p[i] + ' on ' + l.name + '\\n' + ms_text(l.s[i], 1000) + ' – ' + ms_text(l.e[i], 1000);
    } else tip.textContent = l.name + ': idle\\n' + ms_text(t, 1000);
    tip.style.display = 'block'; tip.style.left = Math.min(x + 12, W - 200) + 'px'; tip.style.top = (y + 14) + 'px';
  });
  plot.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  plot.addEventListener('dblclick', function () { view.a = 0; view.b = end; redraw(); });
  window.addEventListener('resize', redraw);
  draw();
  var ms = performance.now() - t0;
  document.documentElement.dataset.renderMs = ms.toFixed(1);
  // For a test driver: the first frame's cost and the view in ns.
  window.__timeline = { rendered: true, renderMs: ms, slices: total, view: function () { return { a: view.a, b: view.b }; } };
})();
</script>
</body></html>
`;
