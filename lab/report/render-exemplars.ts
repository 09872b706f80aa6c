/**
 * The run page's traced requests of one deployment: per route and phase, the exemplars the lab kept
 * (the median success, the slowest success, one failure per cause), each a card with what it is, what
 * the load generator measured, its trace id, its waterfall (lab/report/waterfall-chart.ts) and, below
 * it, the trace's log lines from every service merged by time: one log file for one request.
 *
 * The section carries its own waterfall specs and the small script that draws them, lazily, as each
 * comes into view: a page may hold dozens, and drawing them all up front would stall it. The script
 * runs once per page however many deployments include it, after the page's ECharts has loaded.
 */
import { LAZY_CHARTS_FUNCTION } from './lazy-charts-script.ts';
import type { DeploymentResult } from '../results.ts';
import type { LogLine, SpanRecord, TraceExemplar } from '../tracing/trace-schema.ts';
import { ROUTE_ORDER } from './charts.ts';
import { formatMs } from './format.ts';
import { html, inlineScript, jsonForScript, raw, type SafeHtml } from './html.ts';
import {
  serviceColours,
  signedMs,
  spanLabel,
  waterfallHeight,
  waterfallOption,
  waterfallRows,
} from './waterfall-chart.ts';

/** What a deployment carries for this section; `exemplars` is absent in runs that did not trace. */
export type DeploymentWithExemplars = DeploymentResult & { exemplars?: TraceExemplar[] };

/** Class of the JSON blocks holding the waterfall specs, one per section. */
export const WATERFALLS_SCRIPT_CLASS = 'splitlab-waterfalls';

/** One waterfall the page script draws: into the element `id`, with `option`. */
export interface WaterfallSpec {
  id: string;
  option: ReturnType<typeof waterfallOption>;
}

// More log lines than this for one request is a service logging in a loop; the first ones tell the story.
const LOG_LINE_LIMIT = 60;
const FIELD_VALUE_LIMIT = 200;
// Shown in their own columns (or implied by the card), so not repeated among the fields.
const LOG_KEYS_SHOWN = new Set(['time', 'service', 'level', 'trace_id', 'span_id']);
// The line's name: the services write `event`; `msg` and `message` name a line from other loggers.
const EVENT_KEYS = ['event', 'msg', 'message'] as const;

/**
 * The id of one route and phase's exemplars in a deployment, for the phase tables to link to. Every
 * character outside [A-Za-z0-9] is written as `_<hex>_`, so any variant name (`split/retry`) makes a
 * valid, unique id, and the `-` between the parts cannot be confused with one inside a name.
 *
 * @example exemplarAnchor('split/retry', 'checkout', 'partition') // 'exemplars-split_2f_retry-checkout-partition'
 */
export function exemplarAnchor(deployment: string, route: string, phase: string): string {
  return `${sectionId(deployment)}-${idPart(route)}-${idPart(phase)}`;
}

/**
 * The traced requests of one deployment, as a page section. Without exemplars (a run that did not
 * trace, or results written before the lab did), a short note instead of the cards.
 *
 * @example html`<main>${orderedDeployments(results).map(renderExemplarsSection)}</main>`
 */
export function renderExemplarsSection(deployment: DeploymentWithExemplars): SafeHtml {
  const name = deployment.deployment;
  const exemplars = deployment.exemplars ?? [];
  const heading = html`<h2>Traced requests <span class="tag">${name}</span></h2>`;
  if (exemplars.length === 0) {
    return html`<section id="${sectionId(name)}" class="exemplars">
      ${heading}
      <p class="muted">
        No traced requests for ${name}: the run did not trace its requests, or no trace reached the lab.
      </p>
    </section>`;
  }

  const specs: WaterfallSpec[] = [];
  const groups = groupExemplars(deployment, exemplars).map(({ route, phase, members }) => {
    const anchor = exemplarAnchor(name, route, phase);
    return html`<div class="exemplar-group" id="${anchor}">
      <h3>${route} <span class="muted">·</span> ${phase} <span class="tag">${name}</span></h3>
      ${members.map((exemplar, index) => {
        const cardId = `${anchor}-${index}`;
        specs.push({ id: `${cardId}-waterfall`, option: waterfallOption(exemplar) });
        return exemplarCard(exemplar, cardId);
      })}
    </div>`;
  });

  return html`<section id="${sectionId(name)}" class="exemplars">
    ${heading}
    <p class="muted small">
      Requests the load generator sent to ${name}, joined with the spans every service exported for them: per
      route and phase the median success, the slowest success and one failure per cause. Bars start when a
      span started, in milliseconds since the request was sent; a red outline is a span that failed, a diamond
      a policy event (retry, timeout, circuit open). Below each waterfall, the log lines every service wrote
      for that request, merged by time.
    </p>
    <style>
      ${raw(EXEMPLAR_CSS)}
    </style>
    <noscript
      ><p class="notes">The waterfalls need JavaScript; the log lines below each hold the story.</p></noscript
    >
    ${groups}
    <script type="application/json" class="${WATERFALLS_SCRIPT_CLASS}">
      ${raw(jsonForScript(specs))}
    </script>
    <script>
      ${raw(inlineScript(WATERFALL_SCRIPT))};
    </script>
  </section>`;
}

interface ExemplarGroup {
  route: string;
  phase: string;
  members: TraceExemplar[];
}

const KIND_ORDER: readonly TraceExemplar['kind'][] = ['median success', 'slowest success', 'failure'];

/**
 * Groups by route (signup, pay, checkout) and phase (in timeline order, as the deployment's phase tables
 * list them); inside a group, the median success, the slowest, then the failures by cause.
 */
function groupExemplars(deployment: DeploymentResult, exemplars: readonly TraceExemplar[]): ExemplarGroup[] {
  const phaseOrder: string[] = [];
  for (const route of deployment.routes) {
    for (const phase of route.phases) if (!phaseOrder.includes(phase.phase)) phaseOrder.push(phase.phase);
  }
  const groups = new Map<string, ExemplarGroup>();
  for (const exemplar of exemplars) {
    const key = JSON.stringify([exemplar.route, exemplar.phase]);
    const group = groups.get(key) ?? { route: exemplar.route, phase: exemplar.phase, members: [] };
    group.members.push(exemplar);
    groups.set(key, group);
  }
  const rank = (order: readonly string[], value: string) => {
    const index = order.indexOf(value);
    return index === -1 ? order.length : index;
  };
  for (const group of groups.values()) {
    group.members.sort(
      (a, b) =>
        rank(KIND_ORDER, a.kind) - rank(KIND_ORDER, b.kind) || (a.cause ?? '').localeCompare(b.cause ?? ''),
    );
  }
  return [...groups.values()].sort(
    (a, b) =>
      rank(ROUTE_ORDER, a.route) - rank(ROUTE_ORDER, b.route) ||
      a.route.localeCompare(b.route) ||
      rank(phaseOrder, a.phase) - rank(phaseOrder, b.phase) ||
      a.phase.localeCompare(b.phase),
  );
}

/** `median success`, `failure: deadline`. */
export function exemplarTitle(exemplar: TraceExemplar): string {
  return exemplar.kind === 'failure' ? `failure: ${exemplar.cause ?? 'cause unknown'}` : exemplar.kind;
}

function exemplarCard(exemplar: TraceExemplar, cardId: string): SafeHtml {
  const failed = exemplar.kind === 'failure';
  const rows = waterfallRows(exemplar);
  const services = [...new Set(exemplar.spans.map((span) => span.service))];
  return html`<article
    class="exemplar${failed ? ' failed' : ''}"
    id="${cardId}"
    data-trace-id="${exemplar.traceId}"
  >
    <header>
      <strong class="exemplar-kind">${exemplarTitle(exemplar)}</strong>
      <span
        >load generator: <strong>${formatMs(exemplar.latencyMs)}</strong>,
        ${exemplar.status === undefined ? 'no answer' : `HTTP ${exemplar.status}`}</span
      >
      <span>trace <code class="trace-id">${exemplar.traceId}</code></span>
      <span class="muted small"
        >${countOf(exemplar.spans.length, 'span')} from
        ${services.length > 0 ? services.join(', ') : 'no service'}</span
      >
    </header>
    <div class="chart-scroll">
      <div
        class="waterfall-box"
        id="${cardId}-waterfall"
        style="height: ${waterfallHeight(rows.length)}px"
        role="img"
        aria-label="${waterfallLabel(exemplar, rows.length)}"
      ></div>
    </div>
    ${logTable(exemplar)}
  </article>`;
}

function waterfallLabel(exemplar: TraceExemplar, rowCount: number): string {
  return (
    `Waterfall of a ${exemplar.route} request in ${exemplar.phase} (${exemplarTitle(exemplar)}): ` +
    `${rowCount} rows, one per span, over ${formatMs(exemplar.latencyMs)}`
  );
}

/** The trace's log lines from every service, merged by time, as offsets from the send. */
function logTable(exemplar: TraceExemplar): SafeHtml {
  if (exemplar.logs.length === 0) {
    return html`<p class="muted small exemplar-no-logs">No service wrote a log line for this request.</p>`;
  }
  const lines = [...exemplar.logs].sort((a, b) => a.atMs - b.atMs);
  const shown = lines.slice(0, LOG_LINE_LIMIT);
  const spans = new Map(exemplar.spans.map((span) => [span.spanId, span]));
  const colours = serviceColours(exemplar.spans);
  return html`<div class="table-wrap">
      <table class="compact exemplar-logs">
        <thead>
          <tr>
            <th class="num" title="time since the load generator sent the request">at</th>
            <th>service</th>
            <th>event</th>
            <th title="the span that was active when the line was written">span</th>
            <th>fields</th>
          </tr>
        </thead>
        <tbody>
          ${shown.map((line) => logRow(exemplar, line, spans, colours))}
        </tbody>
      </table>
    </div>
    ${
      lines.length > shown.length
        ? html`<p class="muted small">
            ${lines.length - shown.length} more log lines not shown; results.json holds them all.
          </p>`
        : null
    }`;
}

function logRow(
  exemplar: TraceExemplar,
  log: LogLine,
  spans: ReadonlyMap<string, SpanRecord>,
  colours: ReadonlyMap<string, string>,
): SafeHtml {
  const { line } = log;
  const eventKey = EVENT_KEYS.find((key) => line[key] !== undefined);
  const event = eventKey === undefined ? '' : text(line[eventKey]);
  const level = typeof line.level === 'string' || typeof line.level === 'number' ? String(line.level) : null;
  const spanId = typeof line.span_id === 'string' ? line.span_id : null;
  const span = spanId === null ? undefined : spans.get(spanId);
  const fields = Object.entries(line).filter(([key]) => !LOG_KEYS_SHOWN.has(key) && key !== eventKey);
  const colour = colours.get(log.service);
  return html`<tr>
    <td class="num">${signedMs(log.atMs - exemplar.sentAtMs)}</td>
    <td class="nowrap">
      ${colour ? html`<span class="service-dot" style="background: ${colour}"></span>` : null}${log.service}
    </td>
    <td>${level === null ? null : html`<span class="muted">${level}</span> `}<strong>${event}</strong></td>
    <td class="small">${span ? spanLabel(span) : spanId === null ? '—' : html`<code>${spanId}</code>`}</td>
    <td class="mono small log-fields">
      ${fields.map(
        ([key, value], index) =>
          html`${index === 0 ? null : ' '}<span class="muted">${key}=</span>${text(value)}`,
      )}
    </td>
  </tr>`;
}

/** A log value as text: strings as they are, anything else as JSON, long ones clipped. */
function text(value: unknown): string {
  const shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return shown.length > FIELD_VALUE_LIMIT ? `${shown.slice(0, FIELD_VALUE_LIMIT)}…` : shown;
}

function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function sectionId(deployment: string): string {
  return `exemplars-${idPart(deployment)}`;
}

function idPart(name: string): string {
  return name.replace(/[^A-Za-z0-9]/gu, (character) => `_${(character.codePointAt(0) ?? 0).toString(16)}_`);
}

/** Styles of the section, scoped to it; the page's shared CSS covers tables, tags and chart boxes. */
export const EXEMPLAR_CSS = `
.exemplars .exemplar-group { margin: 0 0 1.6em; scroll-margin-top: 12px; }
.exemplars .exemplar-group:target > h3 { background: #fff8e6; }
.exemplars .exemplar { margin: 0 0 18px; padding: 10px 12px 4px; border: 1px solid var(--line); border-left: 4px solid var(--good); border-radius: 6px; }
.exemplars .exemplar.failed { border-left-color: var(--bad); }
.exemplars .exemplar header { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: baseline; font-size: 0.9rem; margin: 0 0 4px; }
.exemplars .exemplar-kind { font-size: 0.98rem; }
.exemplars .exemplar.failed .exemplar-kind { color: var(--bad); }
.exemplars .trace-id { user-select: all; }
.exemplars .waterfall-box { width: 100%; min-width: 640px; }
.exemplars .waterfall-box.chart-problem { min-height: 80px; }
.exemplars .exemplar-logs td { vertical-align: top; }
.exemplars .log-fields { word-break: break-word; }
.exemplars .service-dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 5px; }
`;

/**
 * Draws every waterfall of the page as it comes into view. Each section includes it; the first copy to
 * run does the work for all. It waits for DOMContentLoaded because ECharts is inlined at the page's end.
 * The tooltip formatter is the one function JSON cannot carry: it shows the datum's escaped `tip`.
 */
export const WATERFALL_SCRIPT = String.raw`
(function () {
  'use strict';
  if (window.splitlabWaterfalls) return;
  window.splitlabWaterfalls = true;

  ${LAZY_CHARTS_FUNCTION}

  function start() {
    var root = document.documentElement;
    var specs = [];
    document.querySelectorAll('script.${WATERFALLS_SCRIPT_CLASS}').forEach(function (block) {
      specs = specs.concat(JSON.parse(block.textContent || '[]'));
    });
    root.dataset.waterfallsTotal = String(specs.length);
    root.dataset.waterfallsDrawn = '0';
    if (specs.length === 0) return;
    if (typeof echarts === 'undefined') {
      specs.forEach(function (spec) {
        var element = document.getElementById(spec.id);
        if (element) {
          element.classList.add('chart-problem');
          element.textContent = 'The chart library did not load; the log lines below hold the same story.';
        }
      });
      return;
    }

    drawChartsLazily(specs, {
      rootMargin: '400px 0px',
      counter: 'waterfallsDrawn',
      what: 'waterfall',
      prepare: function (option) {
        option.tooltip.formatter = function (params) { return (params.data && params.data.tip) || ''; };
      },
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
