/**
 * The live view's page: the report's look (its CSS and its outcome colours, imported), filled in by a
 * small script from the snapshots the server streams. The page is static; everything that changes
 * arrives over `/events`, so any number of viewers can open it and none of them can change the run.
 */
import { ROUTE_ORDER, SUCCESS_COLOUR } from '../report/charts.ts';
import { html, jsonForScript, raw } from '../report/html.ts';
import { REPORT_CSS } from '../report/styles.ts';

/**
 * Where the page finds what it loads: all from the server it came from, so it works with no network.
 * The page script is a file of its own rather than inline, so the page's policy can forbid inline code.
 */
export const LIVE_PATHS = {
  page: '/',
  script: '/live.js',
  echarts: '/echarts.js',
  events: '/events',
  state: '/state',
  report: '/report/',
} as const;

/**
 * The page's Content-Security-Policy: scripts and connections to this server only, inline styles (the
 * report's CSS, ECharts' tooltips, the diagram's attributes), canvas exports as data: images.
 */
export const LIVE_PAGE_POLICY =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; " +
  "img-src data: blob:; base-uri 'none'; form-action 'none'";

/** Chart colours the page needs besides the outcome colours that come with every snapshot. */
const CHART_THEME = {
  success: SUCCESS_COLOUR,
  // The report's latency colours for p50 and p99 (lab/report/charts.ts), with p90 between them.
  latency: { p50: '#3f6fb5', p90: '#7b4fa0', p99: '#e0702f' },
  inFlight: ['#3f6fb5', '#e0702f', '#7b4fa0', '#3b8c4f', '#8c5a3c'],
  faultFill: 'rgba(209, 73, 91, 0.13)',
  faultText: '#9b2335',
  phaseLine: '#8a94a6',
  text: '#2b3340',
  muted: '#5b6472',
  axis: '#b8c0cc',
  grid: '#eceff3',
};

/** Styles the live view adds to the report's. */
const LIVE_CSS = `
main.live { max-width: 1480px; }
main.live h2 { margin-top: 1.4em; }
.live-status { display: flex; flex-direction: column; gap: 10px; align-items: stretch; min-width: 300px; }
.verdict.running { background: #eaf0f8; color: var(--accent); border: 2px solid var(--accent); font-size: 1.25rem; }
.verdict.waiting { background: var(--soft); color: var(--muted); border: 2px dashed var(--line); font-size: 1.2rem; }
.verdict.stopped { background: var(--soft); color: var(--text); border: 2px solid var(--line); font-size: 1.2rem; }
.verdict .clock { display: block; font-size: 2rem; font-variant-numeric: tabular-nums; margin-top: 4px; }
a.report-link {
  display: block;
  padding: 12px 18px;
  border-radius: 8px;
  background: var(--accent);
  color: #fff;
  font-weight: 700;
  font-size: 1.1rem;
  text-align: center;
  text-decoration: none;
}
a.report-link:hover { background: #234a80; }
.conn { display: inline-flex; align-items: center; gap: 6px; margin-left: 10px; text-transform: none; letter-spacing: 0; }
.conn::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: #b8c0cc; }
.conn[data-state="live"]::before { background: var(--good); box-shadow: 0 0 0 3px var(--good-bg); }
.conn[data-state="reconnecting"]::before { background: #e0b84a; }
.progress { height: 6px; border-radius: 3px; background: var(--line); overflow: hidden; margin-top: 10px; }
.progress > div { height: 100%; background: var(--accent); width: 0; transition: width 0.4s linear; }
.verdict.running .progress { background: #c9d6ea; }
nav.columns { display: flex; flex-wrap: wrap; gap: 8px; margin: 18px 0 0; }
.column-pill {
  display: inline-flex;
  align-items: center;
  gap: 8px;
  padding: 5px 12px;
  border-radius: 16px;
  border: 1px solid var(--line);
  background: var(--soft);
  color: var(--muted);
  font-size: 0.9rem;
}
.column-pill .state { font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.05em; }
.column-pill[data-status="running"] { border-color: var(--accent); background: #eaf0f8; color: var(--accent); font-weight: 600; }
.column-pill[data-status="done"] { border-color: #b9dcc2; background: var(--good-bg); color: var(--good); }
.column-pill[data-current="true"] { box-shadow: 0 0 0 2px var(--accent); }
.now-line { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 14px; margin: 0 0 10px; }
#phase { font-size: 1.15rem; }
#phase strong { font-size: 1.3rem; }
.phase-story { color: var(--muted); font-size: 0.95rem; }
#fault-banners { display: grid; gap: 8px; margin: 0 0 12px; }
.fault-banner {
  display: grid;
  grid-template-columns: auto minmax(0, 1fr) auto;
  gap: 4px 14px;
  align-items: center;
  padding: 10px 16px;
  border-radius: 8px;
  border: 1px solid #e3a1ab;
  border-left: 6px solid var(--bad);
  background: var(--bad-bg);
  color: var(--fault-text);
}
.fault-banner .kind { font-weight: 700; font-size: 1.05rem; }
.fault-banner .what { color: var(--text); }
.fault-banner .since { font-size: 0.85rem; color: var(--fault-text); white-space: nowrap; font-variant-numeric: tabular-nums; }
.no-faults { color: var(--muted); font-size: 0.92rem; margin: 0 0 12px; }
.timeline .now { position: absolute; top: -4px; bottom: -4px; width: 2px; margin-left: -1px; background: var(--accent); border-radius: 1px; }
.timeline .phase.current { background: #cfdcf0; border-color: var(--accent); font-weight: 600; }
.timeline .fault.active { background: rgba(209, 73, 91, 0.28); }
.live-grid { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0 32px; }
@media (min-width: 1100px) { .live-grid { grid-template-columns: minmax(0, 1.15fr) minmax(0, 1fr); } }
#topology svg { display: block; width: 100%; height: auto; max-height: 460px; }
#topology .chart-empty { min-height: 200px; }
.circuit { display: inline-block; padding: 0 8px; border-radius: 9px; font-size: 0.82rem; font-weight: 600; border: 1px solid var(--line); background: var(--soft); }
.circuit[data-circuit="closed"] { color: var(--good); background: var(--good-bg); border-color: #b9dcc2; }
.circuit[data-circuit="open"], .circuit[data-circuit="isolated"] { color: var(--bad); background: var(--bad-bg); border-color: #e3a1ab; }
.circuit[data-circuit="halfOpen"] { color: #7a5200; background: #fff8e6; border-color: #f0d79a; }
.routes { display: grid; gap: 8px; }
.route { border-top: 4px solid var(--accent); padding-top: 8px; }
.route-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 18px; margin: 0 0 4px; }
.route-head h3 { margin: 0; }
.route-head .counts { font-variant-numeric: tabular-nums; }
.route-head .counts b { font-size: 1.15rem; }
.route-head .counts .ok-count { color: var(--good); }
.route-head .counts .failed-count { color: var(--bad); }
.causes { display: inline-flex; flex-wrap: wrap; gap: 4px 12px; font-size: 0.88rem; color: var(--text); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: baseline; }
.route-charts { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0 24px; }
@media (min-width: 1000px) { .route-charts { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); } }
main.live .chart-box { min-width: 0; height: 250px; }
#chart-in-flight { height: 220px; }
.problem { background: var(--bad-bg); border: 1px solid var(--bad); color: var(--bad); border-radius: 6px; padding: 8px 12px; }
`;

/**
 * The whole page. Static: the same bytes for every viewer and every moment of the run.
 *
 * @example response.end(renderLivePage())
 */
export function renderLivePage(): string {
  const config = { paths: LIVE_PATHS, routes: ROUTE_ORDER, theme: CHART_THEME };
  const routes = ROUTE_ORDER.map(
    (route) =>
      html`<article class="route" data-route="${route}">
        <div class="route-head">
          <h3>Route <code>${route}</code></h3>
          <span class="counts"
            ><b class="ok-count" data-count="ok">0</b> ok ·
            <b class="failed-count" data-count="failed">0</b> failed
            <span class="muted small">since this column started</span></span
          >
          <span class="causes" data-causes></span>
        </div>
        <div class="route-charts">
          <figure class="chart">
            <figcaption>
              Successes and failures per second <span class="muted">(failures stacked by cause)</span>
            </figcaption>
            <div
              class="chart-box"
              data-chart="outcomes"
              role="img"
              aria-label="${route}: outcomes per second"
            ></div>
          </figure>
          <figure class="chart">
            <figcaption>Latency per second <span class="muted">(p50, p90, p99; log scale)</span></figcaption>
            <div
              class="chart-box"
              data-chart="latency"
              role="img"
              aria-label="${route}: latency per second"
            ></div>
          </figure>
        </div>
      </article>`,
  );
  const body = html`<main class="live">
      <header class="run">
        <div>
          <p class="eyebrow">
            splitlab live view · <span id="scenario-name">no run yet</span>
            <span id="connection" class="conn" data-state="connecting">connecting…</span>
          </p>
          <h1 id="title">Waiting for the lab to start a run…</h1>
          <blockquote class="claim" id="claim" hidden></blockquote>
          <dl class="meta">
            <dt>Runtime</dt>
            <dd id="runtime">—</dd>
            <dt>Column</dt>
            <dd id="column-status">—</dd>
          </dl>
          <nav class="columns" id="columns" aria-label="Columns of the run"></nav>
        </div>
        <div class="live-status">
          <div id="verdict" class="verdict waiting" data-verdict="waiting" role="status">Waiting</div>
        </div>
      </header>

      <section id="now">
        <h2>Now <span class="muted small" id="now-column"></span></h2>
        <div class="now-line">
          <div id="phase" data-phase="">—</div>
          <div class="phase-story" id="phase-story"></div>
        </div>
        <div id="fault-banners" aria-live="polite"></div>
        <div class="timeline" id="timeline"></div>
      </section>

      <div class="live-grid">
        <section id="topology-section">
          <h2>Topology <span class="muted small" id="topology-label"></span></h2>
          <div id="topology"><div class="chart-empty">The diagram appears when a column starts.</div></div>
        </section>
        <section id="services-section">
          <h2>Services</h2>
          <div class="table-wrap">
            <table class="compact" id="services">
              <thead>
                <tr>
                  <th>Service</th>
                  <th class="num" title="Requests the service is answering right now">Requests in flight</th>
                  <th class="num" title="Calls to payment-service not answered yet">Outbound in flight</th>
                  <th>Circuit</th>
                </tr>
              </thead>
              <tbody></tbody>
            </table>
          </div>
          <figure class="chart">
            <figcaption>
              Calls in flight <span class="muted">(requests being answered, outbound calls waiting)</span>
            </figcaption>
            <div
              class="chart-box"
              id="chart-in-flight"
              role="img"
              aria-label="Calls in flight per service"
            ></div>
          </figure>
        </section>
      </div>

      <section id="routes">
        <h2>Routes <span class="muted small" id="routes-label"></span></h2>
        <p class="muted small">
          Bars count requests by the second they <em>completed</em> in, so a request that waits out a 5 s
          deadline shows 5 s after it was sent (the report counts by the second sent). Shaded: faults in
          effect.
        </p>
        <div class="routes">${routes}</div>
      </section>

      <footer>
        <p>
          A live view of a splitlab run: read-only, updated at most four times a second, drawn with Apache
          ECharts served by the lab itself. When the run ends, its report opens from here.
        </p>
      </footer>
    </main>
    <script type="application/json" id="live-config">
      ${raw(jsonForScript(config))}
    </script>
    <script src="${LIVE_PATHS.echarts}"></script>
    <script src="${LIVE_PATHS.script}"></script>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>splitlab live</title>
<style>${REPORT_CSS}${LIVE_CSS}</style>
</head>
<body>
${body.text}
</body>
</html>
`;
}

/**
 * The page's script: listen to `/events` and draw each snapshot. Every text from the run goes in through
 * textContent; the one markup it inserts is the diagram the server drew. EventSource reconnects by
 * itself, and the first message after a reconnect is a whole snapshot, so nothing is ever out of step.
 */
export const LIVE_PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('live-config').textContent);
  var theme = config.theme;
  var hasCharts = typeof echarts !== 'undefined';
  var charts = {};
  var last = { topology: '', banners: '', timeline: '', columns: '' };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function seconds(value) {
    if (value === null || value === undefined) return '—';
    var v = Math.round(Number(value) * 10) / 10;
    return (v % 1 === 0 ? String(v) : v.toFixed(1)) + ' s';
  }
  function count(value) {
    if (value === null || value === undefined) return '—';
    return Number(value).toLocaleString('en-US');
  }
  function formatMs(value) {
    if (value === null || value === undefined || isNaN(value)) return '—';
    var v = Number(value);
    if (v >= 1000) return (Math.round(v / 10) / 100) + ' s';
    if (v >= 10) return Math.round(v) + ' ms';
    return (Math.round(v * 10) / 10) + ' ms';
  }
  function sum(record) {
    return Object.keys(record || {}).reduce(function (total, key) { return total + record[key]; }, 0);
  }
  function currentColumn(state) {
    var found = null;
    state.columns.forEach(function (column) { if (column.label === state.current) found = column; });
    return found || state.columns[0] || null;
  }
  function activeFaults(column) {
    return column ? column.faults.filter(function (fault) { return fault.untilS === null; }) : [];
  }

  // ---- header, columns, verdict --------------------------------------------------------------------
  function drawHeader(state, column) {
    var run = state.run;
    $('scenario-name').textContent = run ? run.scenario.name : 'no run yet';
    $('title').textContent = run ? run.scenario.title : 'Waiting for the lab to start a run…';
    document.title = (run ? run.scenario.name + ' · ' : '') + 'splitlab live';
    var claim = $('claim');
    claim.hidden = !run || !run.scenario.claim;
    claim.textContent = run ? run.scenario.claim : '';
    $('runtime').textContent = run
      ? run.runtime + (run.batch ? ' · scenario ' + (run.batch.index + 1) + ' of ' + run.batch.count : '')
      : '—';
    var index = column ? state.columns.indexOf(column) : -1;
    $('column-status').textContent = column
      ? column.label + ' (' + column.deployment + ') · column ' + (index + 1) + ' of ' + state.columns.length
      : '—';
    var key = JSON.stringify(state.columns.map(function (c) { return [c.label, c.status, c.label === state.current]; }));
    if (key !== last.columns) {
      last.columns = key;
      var nav = $('columns');
      nav.replaceChildren();
      state.columns.forEach(function (c) {
        var pill = el('span', { class: 'column-pill', 'data-column': c.label, 'data-status': c.status,
          'data-current': String(c.label === state.current) });
        pill.appendChild(el('span', {}, c.label));
        pill.appendChild(el('span', { class: 'state' },
          c.status === 'done' ? '✓ done' : c.status === 'running' ? '● running' : 'waiting'));
        nav.appendChild(pill);
      });
    }
  }

  function drawVerdict(state, column) {
    var box = $('verdict');
    var finished = state.finished;
    var status = finished ? (finished.verdict || 'stopped') : column && column.status === 'running' ? 'running' : 'waiting';
    box.dataset.verdict = status;
    box.className = 'verdict ' + (status === 'held' ? 'held' : status === 'failed' ? 'failed'
      : status === 'invalid' ? 'invalid' : status);
    box.replaceChildren();
    if (finished) {
      box.appendChild(document.createTextNode(
        status === 'held' ? '✓ Hypothesis held' : status === 'failed' ? '✗ Hypothesis did not hold'
          : status === 'invalid' ? 'No verdict' : 'Run stopped'));
      box.appendChild(el('span', { class: 'sub' },
        status === 'invalid' ? 'the run is invalid: the lab could not do what the scenario asked'
          : finished.error ? finished.error : finished.reportHref ? 'the run is over' : 'no report was written'));
    } else if (status === 'running') {
      box.appendChild(document.createTextNode('● Running ' + column.label));
      var duration = state.run && state.run.durationS;
      box.appendChild(el('span', { class: 'clock' },
        't = ' + seconds(Math.floor(column.t)) + (duration ? ' of ' + seconds(duration) : '')));
      if (duration) {
        var bar = el('div', { class: 'progress' });
        var fill = el('div');
        fill.style.width = Math.min(100, (100 * column.t) / duration).toFixed(1) + '%';
        bar.appendChild(fill);
        box.appendChild(bar);
      }
    } else {
      box.appendChild(document.createTextNode(state.run ? 'Starting…' : 'Waiting'));
      box.appendChild(el('span', { class: 'sub' }, state.run ? 'the services are starting' : 'no run yet'));
    }
    var link = $('report-link');
    if (finished && finished.reportHref) {
      if (!link) {
        link = el('a', { id: 'report-link', class: 'report-link' }, 'Open the report →');
        box.parentNode.appendChild(link);
      }
      link.setAttribute('href', finished.reportHref);
    } else if (link) {
      link.remove();
    }
  }

  // ---- now: phase, fault banners, timeline ---------------------------------------------------------
  function drawNow(state, column) {
    $('now-column').textContent = column ? column.label : '';
    var phase = column && column.phase;
    var phaseBox = $('phase');
    phaseBox.dataset.phase = phase ? phase.name : '';
    phaseBox.replaceChildren();
    if (phase) {
      phaseBox.appendChild(document.createTextNode('Phase '));
      phaseBox.appendChild(el('strong', {}, phase.name));
      phaseBox.appendChild(el('span', { class: 'muted' }, '  ' + seconds(phase.startS) + ' – ' + seconds(phase.endS)));
    } else {
      phaseBox.textContent = column && column.status === 'running' && state.run && state.run.phases.length === 0
        ? 'Open-ended: faults are applied by hand' : '—';
    }
    var story = '';
    if (phase && state.run) {
      state.run.phases.forEach(function (p) { if (p.name === phase.name && p.story) story = p.story; });
    }
    $('phase-story').textContent = story;

    var active = activeFaults(column);
    var bannerKey = JSON.stringify(active.map(function (f) { return f.id; }));
    if (bannerKey !== last.banners) {
      last.banners = bannerKey;
      var banners = $('fault-banners');
      banners.replaceChildren();
      active.forEach(function (fault) {
        var banner = el('div', { class: 'fault-banner', role: 'alert', 'data-fault-id': fault.id,
          'data-fault-kind': fault.fault.kind });
        banner.appendChild(el('span', { class: 'kind' }, '⚡ ' + fault.fault.kind + ' · ' + fault.target));
        banner.appendChild(el('span', { class: 'what' }, fault.description));
        banner.appendChild(el('span', { class: 'since' },
          (fault.source === 'hand' ? 'by hand' : 'timeline') + ' · since t = ' + seconds(fault.fromS)));
        banners.appendChild(banner);
      });
      if (active.length === 0 && column) {
        banners.appendChild(el('p', { class: 'no-faults' }, 'No fault in effect.'));
      }
    }
    drawTimeline(state, column);
  }

  function timeWindow(state, column) {
    var duration = state.run && state.run.durationS;
    if (duration) return { from: 0, to: duration };
    var t = column ? column.t : 0;
    var to = Math.max(60, Math.ceil(t / 10) * 10);
    return { from: Math.max(0, to - 300), to: to };
  }

  function drawTimeline(state, column) {
    var box = $('timeline');
    var range = timeWindow(state, column);
    var t = column ? column.t : 0;
    var width = Math.max(1, range.to - range.from);
    function pct(s) { return (100 * (Math.min(Math.max(s, range.from), range.to) - range.from) / width).toFixed(3) + '%'; }
    function span(cls, name, from, to) {
      var node = el('div', { class: 'span ' + cls, title: name + ': ' + seconds(from) + '–' + seconds(to) }, name);
      node.style.left = pct(from);
      node.style.width = 'calc(' + pct(to) + ' - ' + pct(from) + ')';
      return node;
    }
    function row(label, children) {
      var r = el('div', { class: 'row' });
      r.appendChild(el('div', { class: 'label', title: label }, label));
      var track = el('div', { class: 'track' });
      children.forEach(function (child) { track.appendChild(child); });
      if (column && column.status === 'running') {
        var now = el('div', { class: 'now' });
        now.style.left = pct(t);
        track.appendChild(now);
      }
      r.appendChild(track);
      return r;
    }
    var rows = [];
    var phases = state.run ? state.run.phases : [];
    if (phases.length > 0) {
      rows.push(row('phases', phases.map(function (p) {
        var current = column && column.phase && column.phase.name === p.name && column.status === 'running';
        return span('phase' + (current ? ' current' : ''), p.name, p.startS, p.endS);
      })));
    }
    var planned = state.run && column ? state.run.faults.filter(function (f) {
      return f.deployments.indexOf(column.label) !== -1;
    }) : [];
    var activeIds = activeFaults(column).map(function (f) { return f.fault.kind; });
    planned.forEach(function (f) {
      var on = column && column.status === 'running' && t >= f.startS && t < f.endS && activeIds.indexOf(f.fault) !== -1;
      rows.push(row(f.fault + ' · ' + f.link, [span('fault' + (on ? ' active' : ''), f.fault + ' on ' + f.link, f.startS, f.endS)]));
    });
    var byHand = column ? column.faults.filter(function (f) { return f.source === 'hand'; }) : [];
    byHand.forEach(function (f) {
      rows.push(row(f.fault.kind + ' · by hand', [span('fault' + (f.untilS === null ? ' active' : ''),
        f.description, f.fromS, f.untilS === null ? t : f.untilS)]));
    });
    var axis = el('div', { class: 'axis' });
    var step = niceCeil(width / 10);
    for (var s = Math.ceil(range.from / step) * step; s <= range.to + 1e-9; s += step) {
      var tick = el('span', {}, seconds(s));
      tick.style.left = pct(s);
      axis.appendChild(tick);
    }
    var axisRow = el('div', { class: 'row' });
    axisRow.appendChild(el('div'));
    axisRow.appendChild(axis);
    rows.push(axisRow);
    box.replaceChildren.apply(box, rows);
  }

  function niceCeil(value) {
    if (!(value > 0)) return 1;
    var magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (value <= steps[i] * magnitude) return steps[i] * magnitude;
    return 10 * magnitude;
  }

  // ---- topology and services -----------------------------------------------------------------------
  function drawTopology(snapshot) {
    var topology = snapshot.topology;
    var svg = topology ? topology.svg : '';
    $('topology-label').textContent = topology ? topology.label + ' (' + topology.deployment + ')' : '';
    if (svg === last.topology) return;
    last.topology = svg;
    // The one markup from the server: drawn by renderTopologyDiagram, every text in it escaped.
    if (svg) $('topology').innerHTML = svg;
  }

  function drawServices(state, column) {
    var body = $('services').tBodies[0];
    body.replaceChildren();
    (column ? column.services : []).forEach(function (service) {
      var tr = el('tr', { 'data-service': service.service });
      tr.appendChild(el('td', {}, service.service));
      tr.appendChild(el('td', { class: 'num', 'data-metric': 'requestsInFlight' }, count(service.requestsInFlight)));
      tr.appendChild(el('td', { class: 'num', 'data-metric': 'outboundInFlight' }, count(service.outboundInFlight)));
      var cell = el('td');
      cell.appendChild(service.circuitState === null
        ? el('span', { class: 'muted' }, '—')
        : el('span', { class: 'circuit', 'data-circuit': service.circuitState }, service.circuitState));
      tr.appendChild(cell);
      body.appendChild(tr);
    });
    if (!column || column.services.length === 0) {
      var empty = el('tr');
      empty.appendChild(el('td', { colspan: '4', class: 'muted' }, 'No figures yet: they arrive once a second.'));
      body.appendChild(empty);
    }
    if (!hasCharts) return;
    var range = timeWindow(state, column);
    var series = [];
    var colourIndex = 0;
    (column ? column.services : []).forEach(function (service) {
      var colour = theme.inFlight[colourIndex++ % theme.inFlight.length];
      series.push(line(service.service, colour, false, service.history.map(function (s) { return [s.t, s.requestsInFlight]; })));
      if (service.history.some(function (s) { return s.outboundInFlight !== null; })) {
        series.push(line(service.service + ' outbound', colour, true,
          service.history.map(function (s) { return [s.t, s.outboundInFlight]; })));
      }
    });
    series.push(timelineSeries(state, column));
    setChart($('chart-in-flight'), {
      grid: { left: 56, right: 16, top: 30, bottom: 64 },
      legend: legend(series.filter(function (s) { return s.name !== 'timeline'; }).map(function (s) { return s.name; })),
      tooltip: { trigger: 'axis', valueFormatter: count },
      xAxis: xAxis(range),
      yAxis: valueAxis('in flight', 0),
      series: series,
    });
  }

  // ---- routes --------------------------------------------------------------------------------------
  function drawRoutes(snapshot, column) {
    $('routes-label').textContent = column ? column.label : '';
    config.routes.forEach(function (name) {
      var article = document.querySelector('[data-route="' + name + '"]');
      if (!article) return;
      var route = null;
      (column ? column.routes : []).forEach(function (r) { if (r.route === name) route = r; });
      var totals = route ? route.totals : { ok: 0, failures: {} };
      article.querySelector('[data-count="ok"]').textContent = count(totals.ok);
      article.querySelector('[data-count="failed"]').textContent = count(sum(totals.failures));
      var causes = article.querySelector('[data-causes]');
      causes.replaceChildren();
      snapshot.causes.forEach(function (cause) {
        var n = totals.failures[cause];
        if (!n) return;
        var item = el('span', { 'data-cause': cause, 'data-value': String(n) });
        var swatch = el('span', { class: 'swatch' });
        swatch.style.background = snapshot.colours[cause];
        item.appendChild(swatch);
        item.appendChild(document.createTextNode(cause + ' ' + count(n)));
        causes.appendChild(item);
      });
      if (!hasCharts) return;
      var tallies = route ? route.seconds : [];
      var range = timeWindow(snapshot, column);
      var present = snapshot.causes.filter(function (cause) {
        return tallies.some(function (s) { return (s.failures[cause] || 0) > 0; });
      });
      function bar(name, value) {
        return {
          name: name, type: 'bar', stack: 'outcome', barCategoryGap: '15%', barMaxWidth: 28,
          itemStyle: { color: snapshot.colours[name] || theme.success }, emphasis: { disabled: true },
          // A second's tally ends at t: its bar covers (t - 1, t].
          data: tallies.map(function (s) { return [s.t - 0.5, value(s)]; }),
        };
      }
      var bars = [bar('success', function (s) { return s.ok; })].concat(present.map(function (cause) {
        return bar(cause, function (s) { return s.failures[cause] || 0; });
      }));
      setChart(article.querySelector('[data-chart="outcomes"]'), {
        grid: { left: 56, right: 16, top: 30, bottom: 64 },
        legend: legend(['success'].concat(present)),
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: count },
        xAxis: xAxis(range),
        yAxis: valueAxis('requests / s', 0),
        series: bars.concat([timelineSeries(snapshot, column)]),
      });
      var latencies = ['p50', 'p90', 'p99'].map(function (p) {
        return line(p, theme.latency[p], p !== 'p50', tallies.map(function (s) {
          return [s.t - 0.5, s.latencyMs ? Math.max(s.latencyMs[p], 0.1) : null];
        }));
      });
      var axis = valueAxis('latency (log)', null);
      axis.type = 'log';
      axis.axisLabel.formatter = formatMs;
      setChart(article.querySelector('[data-chart="latency"]'), {
        grid: { left: 64, right: 16, top: 30, bottom: 64 },
        legend: legend(['p50', 'p90', 'p99']),
        tooltip: { trigger: 'axis', valueFormatter: formatMs },
        xAxis: xAxis(range),
        yAxis: axis,
        series: latencies.concat([timelineSeries(snapshot, column)]),
      });
    });
  }

  // ---- chart building blocks (the report's look: lab/report/charts.ts) ------------------------------
  function axisStyle() {
    return {
      nameTextStyle: { color: theme.muted, fontSize: 11 },
      axisLabel: { color: theme.muted, fontSize: 11 },
      axisLine: { lineStyle: { color: theme.axis } },
      splitLine: { lineStyle: { color: theme.grid } },
    };
  }
  function xAxis(range) {
    var axis = axisStyle();
    axis.type = 'value'; axis.min = range.from; axis.max = range.to;
    axis.name = 'seconds since the column started'; axis.nameLocation = 'middle'; axis.nameGap = 26;
    axis.splitLine = { show: false };
    return axis;
  }
  function valueAxis(name, min) {
    var axis = axisStyle();
    axis.type = 'value'; axis.name = name; axis.nameLocation = 'middle'; axis.nameRotate = 90; axis.nameGap = 44;
    if (min !== null) {
      axis.min = min;
      // Headroom, so full bars do not touch the frame and the fault's label stays readable.
      axis.max = function (extent) { return niceCeil(Math.max(1, extent.max) * 1.15); };
    }
    axis.minInterval = 1;
    return axis;
  }
  function legend(names) {
    return { data: names, bottom: 0, left: 'center', type: 'scroll', itemWidth: 14, itemHeight: 10,
      textStyle: { color: theme.text, fontSize: 12 } };
  }
  function line(name, colour, dashed, data) {
    return { name: name, type: 'line', showSymbol: false, connectNulls: false, emphasis: { disabled: true },
      lineStyle: { width: dashed ? 1.5 : 2, type: dashed ? 'dashed' : 'solid' }, itemStyle: { color: colour }, data: data };
  }
  /** Phase starts as dashed lines, faults (planned and by hand) as red bands while they were in effect. */
  function timelineSeries(state, column) {
    var t = column ? column.t : 0;
    var phases = state.run ? state.run.phases : [];
    var faults = column ? column.faults : [];
    return {
      name: 'timeline', type: 'line', data: [], silent: true, z: 5,
      markLine: { silent: true, symbol: ['none', 'none'], animation: false,
        lineStyle: { color: theme.phaseLine, type: 'dashed', width: 1 },
        label: { show: true, position: 'end', formatter: '{b}', color: theme.muted, fontSize: 11 },
        data: phases.map(function (p) { return { name: p.name, xAxis: p.startS }; }) },
      markArea: { silent: true, animation: false, itemStyle: { color: theme.faultFill },
        label: { show: true, position: 'insideTop', formatter: '{b}', color: theme.faultText, fontSize: 11,
          fontWeight: 'bold', backgroundColor: 'rgba(255, 255, 255, 0.75)', borderRadius: 3, padding: [2, 5] },
        data: faults.map(function (f) {
          return [{ name: f.fault.kind + '\n' + f.target, xAxis: f.fromS },
            { xAxis: f.untilS === null ? Math.max(t, f.fromS) : f.untilS }];
        }) },
    };
  }
  function setChart(element, option) {
    if (!element) return;
    try {
      var chart = charts[element.id || element.closest('[data-route]').dataset.route + ':' + element.dataset.chart];
      if (!chart) {
        chart = echarts.init(element, null, { renderer: 'canvas' });
        charts[element.id || element.closest('[data-route]').dataset.route + ':' + element.dataset.chart] = chart;
      }
      option.animation = false;
      option.textStyle = { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', color: theme.text };
      chart.setOption(option, { replaceMerge: ['series'] });
    } catch (error) {
      element.classList.add('chart-problem');
      element.textContent = 'This chart could not be drawn: ' + error;
    }
  }

  // ---- the stream ----------------------------------------------------------------------------------
  function draw(snapshot) {
    var column = currentColumn(snapshot);
    drawHeader(snapshot, column);
    drawVerdict(snapshot, column);
    drawNow(snapshot, column);
    drawTopology(snapshot);
    drawServices(snapshot, column);
    drawRoutes(snapshot, column);
    document.documentElement.dataset.version = String(snapshot.version);
  }

  var connection = $('connection');
  function connectionState(state, text) {
    connection.dataset.state = state;
    connection.textContent = text;
  }
  var source = new EventSource(config.paths.events);
  source.onopen = function () { connectionState('live', 'live'); };
  source.onerror = function () {
    // EventSource retries by itself; the server's first message after a reconnect is a whole snapshot.
    connectionState('reconnecting', source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…');
  };
  source.onmessage = function (message) {
    var snapshot;
    try { snapshot = JSON.parse(message.data); } catch (error) { return; }
    connectionState('live', 'live');
    draw(snapshot);
  };
  if (!hasCharts) {
    document.querySelectorAll('.chart-box').forEach(function (box) {
      box.classList.add('chart-problem');
      box.textContent = 'The chart library did not load; the numbers above still update.';
    });
  }
  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      Object.keys(charts).forEach(function (key) { charts[key].resize(); });
    });
  });
})();
`;
