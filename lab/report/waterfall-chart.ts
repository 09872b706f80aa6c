/**
 * The waterfall of one traced request: a TraceExemplar as an ECharts option, computed here (typed,
 * testable) and shipped to the page as JSON like every other chart of the report.
 *
 * One row per span in tree order (a parent above its children, names indented by depth), under a first
 * row for the load generator's own view of the request. Each bar runs from the span's start to its end,
 * in milliseconds since the load generator sent the request; its colour says which service exported it.
 * A span that failed has a red outline and a red marker labelled with its cause; span events (`retry`,
 * `timeout`, `circuit open`, ...) are markers on the bar. A call whose callee exported no span (the
 * request never reached it, or its span was lost) gets a note row, because an absent row is easy to miss.
 *
 * Bars are drawn as a stack of an invisible offset (the start) and the duration, so the option stays
 * plain data; tooltips are escaped HTML in each datum's `tip`, shown by the page script.
 */
import type { BarSeriesOption, EChartsOption, ScatterSeriesOption } from 'echarts';
import type { SpanRecord, TraceExemplar } from '../tracing/trace-schema.ts';
import { axisStyle, legend } from './charts.ts';
import { formatMs } from './format.ts';
import { html, type SafeHtml } from './html.ts';

/** Each known service has its own colour in every waterfall; cool hues, so none reads as an error. */
export const SERVICE_COLOURS: Readonly<Record<string, string>> = {
  monolith: '#3f6fb5',
  modular: '#c46f2b',
  'signup-service': '#2a9d8f',
  'payment-service': '#8e6cc0',
};
// For services outside SERVICE_COLOURS, in the order they appear in a trace.
const SPARE_SERVICE_COLOURS = ['#5d8aa8', '#6b8e23', '#9c7c38', '#708090', '#4e3f82'];
export const LOAD_GENERATOR_COLOUR = '#9aa3af';
export const ERROR_COLOUR = '#b3261e';
const EVENT_COLOUR = '#1f2630';
const TEXT = '#2b3340';
const MUTED = '#5b6472';

/** Pixels per row, and what the grid needs around the rows (legend and x axis below). */
const ROW_HEIGHT = 24;
const GRID_TOP = 8;
const GRID_BOTTOM = 64;
const LABEL_WIDTH = 230;
// Room right of the plot for the failure marker's label (`upstream_status` at 11 px).
const GRID_RIGHT = 128;
const INDENT = '\u00a0\u00a0\u00a0';
const TIP_VALUE_LIMIT = 160;

/** Series names that are not services: the legend lists them only when the chart has such marks. */
export const LOAD_GENERATOR_SERIES = 'load generator';
export const MISSING_SERIES = 'no span from the callee';
export const EVENT_SERIES = 'span event';
export const ERROR_SERIES = 'error';
const OFFSET_SERIES = 'offset';
const STACK = 'waterfall';

/** One row of a waterfall; times are milliseconds since the load generator sent the request. */
export type WaterfallRow =
  | { kind: 'request'; label: string; depth: 0; startMs: number; endMs: number }
  | { kind: 'span'; label: string; depth: number; startMs: number; endMs: number; span: SpanRecord }
  | { kind: 'missing'; label: string; depth: number; startMs: number; endMs: number; callee: string };

/**
 * The rows of a waterfall: the load generator's request, then every span depth first (children by
 * start time), each CLIENT span without a SERVER child followed by a note row naming the silent callee.
 * A span whose parent is not in the trace (the load generator's own span is never exported) is a root.
 *
 * @example waterfallRows(exemplar).map((row) => row.label) // ['load generator: checkout', '   POST /checkout', ...]
 */
export function waterfallRows(exemplar: TraceExemplar): WaterfallRow[] {
  const relative = (epochMs: number) => epochMs - exemplar.sentAtMs;
  const byId = new Map(exemplar.spans.map((span) => [span.spanId, span]));
  const children = new Map<string, SpanRecord[]>();
  const roots: SpanRecord[] = [];
  for (const span of exemplar.spans) {
    const parent = span.parentSpanId;
    if (parent !== undefined && parent !== span.spanId && byId.has(parent)) {
      children.set(parent, [...(children.get(parent) ?? []), span]);
    } else {
      roots.push(span);
    }
  }
  const byStart = (a: SpanRecord, b: SpanRecord) => a.startMs - b.startMs || a.name.localeCompare(b.name);

  const rows: WaterfallRow[] = [
    {
      kind: 'request',
      label: `${LOAD_GENERATOR_SERIES}: ${exemplar.route}`,
      depth: 0,
      startMs: 0,
      endMs: exemplar.latencyMs,
    },
  ];
  const visited = new Set<string>();
  const visit = (span: SpanRecord, depth: number): void => {
    if (visited.has(span.spanId)) return;
    visited.add(span.spanId);
    const startMs = relative(span.startMs);
    const endMs = startMs + span.durationMs;
    rows.push({ kind: 'span', label: indent(depth) + spanLabel(span), depth, startMs, endMs, span });
    const own = [...(children.get(span.spanId) ?? [])].sort(byStart);
    if (span.kind === 'client' && !own.some((child) => child.kind === 'server')) {
      const callee = calleeOf(span);
      rows.push({
        kind: 'missing',
        label: `${indent(depth + 1)}no span from ${callee}`,
        depth: depth + 1,
        startMs,
        endMs,
        callee,
      });
    }
    for (const child of own) visit(child, depth + 1);
  };
  for (const root of [...roots].sort(byStart)) visit(root, 1);
  // Spans on a parent cycle (malformed, but possible in a file anyone can edit) are reachable from no root.
  for (const span of [...exemplar.spans].sort(byStart)) visit(span, 1);
  return rows;
}

/** How tall a waterfall of `rowCount` rows is drawn, in pixels. */
export function waterfallHeight(rowCount: number): number {
  return GRID_TOP + rowCount * ROW_HEIGHT + GRID_BOTTOM;
}

/**
 * The colour of each service of a trace: its own from SERVICE_COLOURS, else a spare in order of
 * appearance, so the same trace always gets the same colours.
 */
export function serviceColours(spans: readonly SpanRecord[]): Map<string, string> {
  const colours = new Map<string, string>();
  let spare = 0;
  for (const span of [...spans].sort((a, b) => a.startMs - b.startMs)) {
    if (colours.has(span.service)) continue;
    const known = SERVICE_COLOURS[span.service];
    colours.set(
      span.service,
      known ?? SPARE_SERVICE_COLOURS[spare++ % SPARE_SERVICE_COLOURS.length] ?? LOAD_GENERATOR_COLOUR,
    );
  }
  return colours;
}

/** A bar's datum: its length, a red outline when it failed, and its tooltip as escaped HTML. */
interface BarDatum {
  value: number;
  itemStyle?: typeof FAILED_OUTLINE;
  tip: string;
}

// The datum's colour comes from its series (its service); a failure only adds the outline.
const FAILED_OUTLINE = { borderColor: ERROR_COLOUR, borderWidth: 2 };

/** A marker's datum: [ms, row]; `name` is a failure marker's label (its cause), drawn on the canvas. */
interface MarkerDatum {
  name?: string;
  value: [number, number];
  tip: string;
}

/**
 * The ECharts option of one exemplar's waterfall. Plain data, no functions: the page script attaches
 * the tooltip formatter that shows each datum's `tip`.
 *
 * @example const option = waterfallOption(exemplar); // JSON.stringify(option) loses nothing
 */
export function waterfallOption(exemplar: TraceExemplar): EChartsOption {
  const rows = waterfallRows(exemplar);
  const colours = serviceColours(exemplar.spans);
  const only = <T>(pick: (row: WaterfallRow, index: number) => T | null) => rows.map(pick);

  const bar = (
    name: string,
    data: (BarDatum | null)[],
    extra: Partial<BarSeriesOption> = {},
  ): BarSeriesOption => ({
    name,
    type: 'bar',
    // The default 'samesign' strategy stacks each bar on the nearest series with a positive value in its
    // row: its offset. ('all' would stack on the series just before it, which is empty in that row.)
    stack: STACK,
    barWidth: 12,
    // A 0.1 ms span on a 5 s axis would vanish; 2 px keeps it visible (its tooltip has the true value).
    barMinHeight: 2,
    emphasis: { disabled: true },
    data: data as BarSeriesOption['data'],
    ...extra,
  });

  const failed = exemplar.kind === 'failure';
  const requestBar = bar(
    LOAD_GENERATOR_SERIES,
    only((row) =>
      row.kind === 'request'
        ? {
            value: round(row.endMs - row.startMs),
            ...(failed ? { itemStyle: FAILED_OUTLINE } : {}),
            tip: requestTip(exemplar),
          }
        : null,
    ),
    { itemStyle: { color: LOAD_GENERATOR_COLOUR } },
  );
  const serviceBars = [...colours].map(([service, colour]) =>
    bar(
      service,
      only((row) =>
        row.kind === 'span' && row.span.service === service
          ? {
              value: round(row.span.durationMs),
              ...(row.span.status === 'error' ? { itemStyle: FAILED_OUTLINE } : {}),
              tip: spanTip(row.span, row.startMs),
            }
          : null,
      ),
      { itemStyle: { color: colour } },
    ),
  );
  const hasMissing = rows.some((row) => row.kind === 'missing');
  const missingBar = bar(
    MISSING_SERIES,
    only((row) =>
      row.kind === 'missing'
        ? {
            value: round(row.endMs - row.startMs),
            tip: missingTip(row.callee),
          }
        : null,
    ),
    { itemStyle: { color: 'rgba(0, 0, 0, 0)', borderColor: MUTED, borderWidth: 1, borderType: 'dashed' } },
  );
  // The invisible first part of each row's stack: where its bar starts. A span that starts before the
  // send (clocks a hair apart) is drawn from 0, as a stack cannot start below it; its tooltip tells.
  const offsets: BarSeriesOption = {
    ...bar(OFFSET_SERIES, []),
    data: rows.map((row) => round(Math.max(0, row.startMs))),
    silent: true,
    tooltip: { show: false },
    barMinHeight: 0,
    itemStyle: { color: 'rgba(0, 0, 0, 0)' },
  };

  const events: MarkerDatum[] = [];
  const errors: MarkerDatum[] = [];
  rows.forEach((row, index) => {
    if (row.kind === 'request' && failed) {
      const cause = exemplar.cause ?? 'failure';
      errors.push({
        name: cause,
        value: [round(row.endMs), index],
        tip: failureTip(LOAD_GENERATOR_SERIES, cause),
      });
    }
    if (row.kind !== 'span') return;
    for (const event of row.span.events) {
      events.push({
        value: [round(event.atMs - exemplar.sentAtMs), index],
        tip: eventTip(row.span, event, event.atMs - exemplar.sentAtMs),
      });
    }
    if (row.span.status === 'error') {
      errors.push({
        name: row.span.statusMessage ?? 'error',
        value: [round(row.endMs), index],
        tip: failureTip(spanLabel(row.span), row.span.statusMessage ?? 'no message'),
      });
    }
  });
  const marker = (name: string, data: MarkerDatum[], extra: Partial<ScatterSeriesOption>) =>
    ({
      name,
      type: 'scatter',
      z: 4,
      emphasis: { scale: 1.4 },
      data: data as ScatterSeriesOption['data'],
      ...extra,
    }) satisfies ScatterSeriesOption;
  const eventMarkers = marker(EVENT_SERIES, events, {
    symbol: 'diamond',
    symbolSize: 11,
    itemStyle: { color: EVENT_COLOUR, borderColor: '#fff', borderWidth: 1 },
  });
  const errorMarkers = marker(ERROR_SERIES, errors, {
    symbol: 'circle',
    symbolSize: 8,
    itemStyle: { color: ERROR_COLOUR, borderColor: '#fff', borderWidth: 1 },
    label: {
      show: true,
      position: 'right',
      formatter: '{b}',
      color: ERROR_COLOUR,
      fontSize: 11,
      fontWeight: 'bold',
      width: GRID_RIGHT - 10,
      overflow: 'truncate',
    },
  });

  const earliest = Math.min(0, ...rows.map((row) => row.startMs));
  const legendNames = [
    LOAD_GENERATOR_SERIES,
    ...colours.keys(),
    ...(hasMissing ? [MISSING_SERIES] : []),
    ...(events.length > 0 ? [EVENT_SERIES] : []),
    ...(errors.length > 0 ? [ERROR_SERIES] : []),
  ];
  const style = axisStyle();
  return {
    animation: false,
    textStyle: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', color: TEXT },
    grid: {
      left: LABEL_WIDTH + 8,
      right: GRID_RIGHT,
      top: GRID_TOP,
      bottom: GRID_BOTTOM,
      // The margins are sized for the labels; ECharts' own fitting misreads left-aligned labels and
      // would move the plot by each chart's longest one, so waterfalls above each other would not line up.
      outerBoundsMode: 'none',
    },
    legend: legend(legendNames),
    tooltip: { trigger: 'item', confine: true },
    xAxis: {
      type: 'value',
      // An event or a marker before the send (clocks a hair apart) stays on the axis.
      min: earliest < 0 ? Math.floor(earliest) : 0,
      name: 'ms since the load generator sent the request',
      nameLocation: 'middle',
      nameGap: 24,
      ...style,
    },
    yAxis: {
      type: 'category',
      inverse: true,
      data: rows.map((row) => categoryLabel(row)),
      axisTick: { show: false },
      axisLine: style.axisLine,
      // Left-aligned from the chart's edge, so the indentation shows the tree.
      axisLabel: {
        ...style.axisLabel,
        color: TEXT,
        align: 'left',
        margin: LABEL_WIDTH,
        width: LABEL_WIDTH - 6,
        overflow: 'truncate',
      },
    },
    series: [
      offsets,
      requestBar,
      ...serviceBars,
      ...(hasMissing ? [missingBar] : []),
      eventMarkers,
      errorMarkers,
    ],
  };
}

/** A row's label on the y axis: red for a failed span, grey italics for a note. */
function categoryLabel(row: WaterfallRow): string | { value: string; textStyle: CategoryTextStyle } {
  // A datum's text style replaces the axis label's, alignment included.
  if (row.kind === 'missing') {
    return { value: row.label, textStyle: { color: MUTED, fontStyle: 'italic', align: 'left' } };
  }
  if (row.kind === 'span' && row.span.status === 'error') {
    return { value: row.label, textStyle: { color: ERROR_COLOUR, align: 'left' } };
  }
  return row.label;
}

interface CategoryTextStyle {
  color: string;
  fontStyle?: 'italic';
  align: 'left';
}

/** `POST /charge (attempt 2)` for a retried call, the span's name otherwise. */
export function spanLabel(span: SpanRecord): string {
  const attempt = span.attributes['splitlab.attempt'];
  return attempt === undefined ? span.name : `${span.name} (attempt ${attempt})`;
}

/** Who a CLIENT span called: `server.address`, else the host of `url.full`, else "the callee". */
export function calleeOf(span: SpanRecord): string {
  const address = span.attributes['server.address'];
  if (typeof address === 'string' && address !== '') return address;
  const url = span.attributes['url.full'];
  if (typeof url === 'string' && URL.canParse(url)) return new URL(url).hostname;
  return 'the callee';
}

function indent(depth: number): string {
  return INDENT.repeat(depth);
}

// Already in the row's label (`POST /charge (attempt 2)`) or in `url.full`; the tooltip shows the rest.
const ATTRIBUTES_SHOWN_ELSEWHERE = new Set([
  'http.request.method',
  'url.path',
  'splitlab.attempt',
  'server.address',
  'server.port',
]);

function spanTip(span: SpanRecord, startMs: number): string {
  const attributes = Object.entries(span.attributes).filter(([key]) => !ATTRIBUTES_SHOWN_ELSEWHERE.has(key));
  return tipLines([
    html`<b>${spanLabel(span)}</b> · ${span.service}`,
    html`${span.kind} span, from ${signedMs(startMs)} for ${formatMs(span.durationMs)}`,
    span.status === 'error'
      ? html`<span style="color: ${ERROR_COLOUR}">error: ${clip(span.statusMessage ?? 'no message')}</span>`
      : null,
    ...attributes.map(([key, value]) => html`${key}: ${clip(String(value))}`),
  ]);
}

/** A failure marker's tooltip: the span and its cause (the bar's own tooltip has the rest). */
function failureTip(label: string, cause: string): string {
  return tipLines([
    html`<b>${label}</b>`,
    html`<span style="color: ${ERROR_COLOUR}">failed: ${clip(cause)}</span>`,
  ]);
}

function eventTip(span: SpanRecord, event: SpanRecord['events'][number], atMs: number): string {
  return tipLines([
    html`<b>${event.name}</b> at ${signedMs(atMs)}`,
    html`on ${spanLabel(span)} · ${span.service}`,
    ...Object.entries(event.attributes).map(([key, value]) => html`${key}: ${clip(String(value))}`),
  ]);
}

function requestTip(exemplar: TraceExemplar): string {
  const answer = exemplar.status === undefined ? 'no answer' : `HTTP ${exemplar.status}`;
  return tipLines([
    html`<b>${LOAD_GENERATOR_SERIES}</b> · ${exemplar.route}, ${exemplar.phase}`,
    html`${answer} after ${formatMs(exemplar.latencyMs)}`,
    exemplar.kind === 'failure'
      ? html`<span style="color: ${ERROR_COLOUR}">failed: ${exemplar.cause ?? 'cause unknown'}</span>`
      : html`${exemplar.kind}`,
  ]);
}

function missingTip(callee: string): string {
  return tipLines([
    html`<b>No span from ${callee}</b>`,
    html`${callee} exported no span for this call: the request never reached it (a partition drops it),`,
    html`or it never finished handling it, or its span was lost.`,
  ]);
}

function tipLines(lines: (SafeHtml | null)[]): string {
  return lines
    .filter((line): line is SafeHtml => line !== null)
    .map((line) => line.text)
    .join('<br>');
}

/** `+12 ms`, `−0.30 ms`: an offset from the send. */
export function signedMs(ms: number): string {
  return ms < 0 ? `−${formatMs(-ms)}` : `+${formatMs(ms)}`;
}

/** Hundredths of a millisecond are plenty on the page and keep its JSON short. */
function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function clip(text: string): string {
  return text.length > TIP_VALUE_LIMIT ? `${text.slice(0, TIP_VALUE_LIMIT)}…` : text;
}
