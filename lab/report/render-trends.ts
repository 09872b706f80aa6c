/**
 * Trends on the runs index: per scenario, its verdicts across the runs in the reports folder and each
 * claim's observed value across them. Built from the `RunResults` the index already reads (nothing
 * more is read from disk), so the page stays fast with hundreds of runs; each chart is drawn only when
 * it scrolls into view.
 */
import type { EChartsOption, LineSeriesOption } from 'echarts';
import type { ClaimResult, RunResults } from '../results.ts';
import type { ClaimUnit } from '../vocabulary/claim-metrics.ts';
import {
  describeClaimMetric,
  formatClaimExpected,
  formatClaimObserved,
  formatDuration,
  formatTimestamp,
} from './format.ts';
import { html, type SafeHtml } from './html.ts';
import type { RunIndexEntry } from './run-index-entry.ts';

/** A run's verdict as the index shows it: an invalid run has none. */
export type TrendVerdict = 'held' | 'failed' | 'invalid';

/** One run of a scenario, as its verdict strip shows it. */
export interface TrendRun {
  dir: string;
  startedAt: string;
  runtime: string;
  wallTimeMs: number;
  verdict: TrendVerdict;
  /** A degraded run keeps its verdict, with a warning. */
  degraded: boolean;
  claimsHeld: number;
  claimsTotal: number;
}

/** A claim's outcome in one run, with the tolerance that run applied. */
export interface TrendPoint {
  observed: number | null;
  held: boolean;
  atLeast?: number;
  atMost?: number;
}

/** One claim of a scenario across its runs. */
export interface ClaimTrend {
  /** The claim id, and its unit when the same id was measured in more than one unit. */
  key: string;
  id: string;
  /** From the newest run that has the claim. */
  description: string;
  metric: string;
  /** `split checkout, partition`. */
  where: string;
  unit: ClaimUnit;
  /** A difference (`relativeTo.by: 'difference'`) shows its sign. */
  signed: boolean;
  /** Aligned with {@link ScenarioTrend.runs}; null where a run did not have this claim. */
  points: (TrendPoint | null)[];
}

/** One scenario's history. */
export interface ScenarioTrend {
  name: string;
  /** The newest run's title. */
  title: string;
  /** Oldest first. */
  runs: TrendRun[];
  /** In the newest run's order, then claims only older runs had. */
  claims: ClaimTrend[];
}

/**
 * Groups runs by scenario (sorted by name), each scenario's runs oldest first, and lines up every
 * claim's outcomes with those runs. Runs with different claim sets are fine: a claim is plotted where
 * it exists. A claim id measured in another unit (its metric changed) becomes a separate trend.
 *
 * @example buildTrends(runs)[0].claims[0].points.map((p) => p?.observed ?? null)
 */
export function buildTrends(entries: readonly RunIndexEntry[]): ScenarioTrend[] {
  const byScenario = new Map<string, RunIndexEntry[]>();
  for (const entry of entries) {
    const name = entry.results.scenario.name;
    const group = byScenario.get(name);
    if (group) group.push(entry);
    else byScenario.set(name, [entry]);
  }
  return [...byScenario.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, group]) => scenarioTrend(name, sortRunsOldestFirst(group)));
}

/** Oldest first by start time; a start time that does not parse goes first, by folder name. */
export function sortRunsOldestFirst(entries: readonly RunIndexEntry[]): RunIndexEntry[] {
  const time = (entry: RunIndexEntry) => {
    const parsed = Date.parse(entry.results.startedAt);
    return Number.isNaN(parsed) ? -Infinity : parsed;
  };
  return [...entries].sort((a, b) => time(a) - time(b) || a.dir.localeCompare(b.dir));
}

/** Held, failed or invalid: an invalid run has no verdict whatever its claims say. */
export function runVerdict(results: RunResults): TrendVerdict {
  if (results.validity?.status === 'invalid') return 'invalid';
  return results.hypothesis.held ? 'held' : 'failed';
}

function scenarioTrend(name: string, runs: RunIndexEntry[]): ScenarioTrend {
  const claims = new Map<string, ClaimTrend>();
  const keyOf = (claim: ClaimResult) =>
    `${claim.id}\u0000${claim.unit}${claim.relativeTo?.by === 'difference' ? '\u0000difference' : ''}`;
  // Newest first, so the newest run's claim order and wording win.
  for (let index = runs.length - 1; index >= 0; index--) {
    for (const claim of runs[index]?.results.hypothesis.claims ?? []) {
      const key = keyOf(claim);
      let trend = claims.get(key);
      if (!trend) {
        trend = {
          key,
          id: claim.id,
          description: claim.description,
          metric: describeClaimMetric(claim),
          where: `${claim.deployment} ${claim.route}, ${claim.phase}`,
          unit: claim.unit,
          signed: claim.relativeTo?.by === 'difference',
          points: runs.map(() => null),
        };
        claims.set(key, trend);
      }
      // A run that lists the same claim twice keeps its first.
      trend.points[index] ??= {
        observed: claim.observed,
        held: claim.held,
        ...(claim.atLeast !== undefined ? { atLeast: claim.atLeast } : {}),
        ...(claim.atMost !== undefined ? { atMost: claim.atMost } : {}),
      };
    }
  }
  const trends = [...claims.values()];
  // Only an id that appears in several units needs its unit in its name.
  for (const trend of trends) {
    const sameId = trends.filter((other) => other.id === trend.id);
    trend.key =
      sameId.length > 1 ? `${trend.id} (${trend.unit}${trend.signed ? ', difference' : ''})` : trend.id;
  }
  const newest = runs.at(-1)?.results;
  return {
    name,
    title: newest?.scenario.title ?? name,
    runs: runs.map(({ dir, results }) => ({
      dir,
      startedAt: results.startedAt,
      runtime: results.runtime.name,
      wallTimeMs: results.wallTimeMs,
      verdict: runVerdict(results),
      degraded: results.validity?.status === 'degraded',
      claimsHeld: results.hypothesis.claims.filter((claim) => claim.held).length,
      claimsTotal: results.hypothesis.claims.length,
    })),
    claims: trends,
  };
}

/** A trend chart as the page script draws it: options computed here, formatters attached there. */
export interface TrendChartSpec {
  id: string;
  /** Text for screen readers; the chart itself is a canvas. */
  label: string;
  unit: ClaimUnit;
  signed: boolean;
  option: EChartsOption;
}

const VERDICT_COLOURS: Record<TrendVerdict, string> = {
  held: '#1f7a3a',
  failed: '#b3261e',
  invalid: '#8a94a6',
};
const TOLERANCE_FILL = 'rgba(31, 122, 58, 0.09)';
const TOLERANCE_LINE = '#5e9c6d';
const TEXT = '#2b3340';
const MUTED = '#5b6472';

/** A point's datum: its value, its colour by verdict, and its tooltip as escaped HTML. */
interface TrendDatum {
  value: number;
  symbol: string;
  itemStyle: { color: string; borderColor: string };
  tip: string;
}

/**
 * The ECharts option of one claim's trend: x is the scenario's runs in time order (the same columns in
 * every chart of the scenario), y the observed value; points are green when the claim held, red when
 * it did not, hollow grey in an invalid run. A tolerance that is the same in every run is a shaded
 * band with its bounds drawn as dashed lines; one that changed is a stepped dashed line per bound.
 *
 * @example trendChart('trend-chart-0', scenario, scenario.claims[0])
 */
export function trendChart(id: string, scenario: ScenarioTrend, claim: ClaimTrend): TrendChartSpec {
  const present = claim.points.filter((point): point is TrendPoint => point !== null);
  const boundsOf = (pick: (point: TrendPoint) => number | undefined) =>
    present.map(pick).filter((value): value is number => value !== undefined);
  const lows = boundsOf((point) => point.atLeast);
  const highs = boundsOf((point) => point.atMost);
  const observed = present.map((point) => point.observed).filter((value): value is number => value !== null);
  const axis = niceRange([...observed, ...lows, ...highs]);
  const constant = present.every(
    (point) => point.atLeast === present[0]?.atLeast && point.atMost === present[0]?.atMost,
  );
  const first = present[0];

  const data = claim.points.map((point, index): TrendDatum | null => {
    const run = scenario.runs[index];
    if (!point || point.observed === null || !run) return null;
    const colour =
      run.verdict === 'invalid'
        ? VERDICT_COLOURS.invalid
        : point.held
          ? VERDICT_COLOURS.held
          : VERDICT_COLOURS.failed;
    return {
      value: point.observed,
      symbol: run.verdict === 'invalid' ? 'emptyCircle' : 'circle',
      itemStyle: { color: colour, borderColor: colour },
      tip: pointTip(run, claim, point),
    };
  });

  const boundLine = (name: string, pick: (point: TrendPoint) => number | undefined): LineSeriesOption => ({
    name,
    type: 'line',
    step: 'middle',
    silent: true,
    showSymbol: false,
    connectNulls: true,
    tooltip: { show: false },
    lineStyle: { color: TOLERANCE_LINE, type: 'dashed', width: 1 },
    itemStyle: { color: TOLERANCE_LINE },
    emphasis: { disabled: true },
    data: claim.points.map((point) => (point ? (pick(point) ?? null) : null)),
  });

  const observedSeries: LineSeriesOption = {
    name: 'observed',
    type: 'line',
    connectNulls: true,
    symbolSize: 8,
    z: 3,
    lineStyle: { color: '#b8c0cc', width: 1 },
    emphasis: { scale: 1.4 },
    data: data as LineSeriesOption['data'],
  };
  const series: LineSeriesOption[] = [observedSeries];
  if (constant && first && (first.atLeast !== undefined || first.atMost !== undefined)) {
    const low = first.atLeast ?? axis.min;
    const high = first.atMost ?? axis.max;
    observedSeries.markArea = {
      silent: true,
      animation: false,
      itemStyle: { color: TOLERANCE_FILL },
      data: [[{ yAxis: low }, { yAxis: high }]],
    };
    observedSeries.markLine = {
      silent: true,
      animation: false,
      symbol: ['none', 'none'],
      label: { show: false },
      lineStyle: { color: TOLERANCE_LINE, type: 'dashed', width: 1 },
      data: [first.atLeast, first.atMost]
        .filter((bound): bound is number => bound !== undefined)
        .map((bound) => ({ yAxis: bound })),
    };
  } else {
    if (lows.length > 0) series.push(boundLine('at least', (point) => point.atLeast));
    if (highs.length > 0) series.push(boundLine('at most', (point) => point.atMost));
  }

  return {
    id,
    unit: claim.unit,
    signed: claim.signed,
    label:
      `${claim.key}: ${claim.metric} (${claim.where}) in each of ${scenario.runs.length} runs of ` +
      `${scenario.name}, oldest first, with its tolerance`,
    option: {
      animation: false,
      textStyle: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', color: TEXT },
      grid: { left: 62, right: 14, top: 12, bottom: 26 },
      tooltip: { trigger: 'item', confine: true },
      xAxis: {
        type: 'category',
        data: scenario.runs.map(shortRunLabel),
        boundaryGap: true,
        axisTick: { alignWithLabel: true },
        axisLabel: { color: MUTED, fontSize: 10, hideOverlap: true },
        axisLine: { lineStyle: { color: '#b8c0cc' } },
      },
      yAxis: {
        type: 'value',
        min: axis.min,
        max: axis.max,
        interval: axis.interval,
        axisLabel: { color: MUTED, fontSize: 10 },
        splitLine: { lineStyle: { color: '#eceff3' } },
      },
      series,
    },
  };
}

/** `11-30 17:41` from the start time, or the folder name when the start time does not parse. */
function shortRunLabel(run: TrendRun): string {
  const time = Date.parse(run.startedAt);
  return Number.isNaN(time) ? run.dir : new Date(time).toISOString().slice(5, 16).replace('T', ' ');
}

/** A point's tooltip as escaped HTML, one line per fact (the tooltip renders HTML). */
function pointTip(run: TrendRun, claim: ClaimTrend, point: TrendPoint): string {
  const claimValues = {
    unit: claim.unit,
    observed: point.observed,
    atLeast: point.atLeast,
    atMost: point.atMost,
    relativeTo: claim.signed ? { by: 'difference' as const } : undefined,
  };
  const verdict =
    run.verdict === 'invalid'
      ? 'invalid run: no verdict'
      : `${point.held ? '✓ held' : '✗ did not hold'}${run.degraded ? ', measurement degraded' : ''}`;
  const lines = [
    html`<b>${formatTimestamp(run.startedAt)}</b> · ${run.runtime}, ${formatDuration(run.wallTimeMs)}`,
    html`${formatClaimObserved(claimValues)} (tolerance ${formatClaimExpected(claimValues)})`,
    html`${verdict}`,
    html`<span style="color: ${MUTED}">${run.dir}</span>`,
  ];
  return lines.map((line) => line.text).join('<br>');
}

/**
 * Axis bounds that include every value with half a step of room, on round steps (1, 2, 2.5, 5 times
 * a power of ten), so the tolerance band can run exactly to the frame and the ticks stay readable.
 *
 * @example niceRange([0.95, 1]) // { min: 0.94, max: 1.01, interval: 0.01 }
 */
export function niceRange(values: readonly number[]): { min: number; max: number; interval: number } {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return { min: 0, max: 1, interval: 0.25 };
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const span = high - low || Math.abs(high) || 1;
  const interval = niceStep(span / 4);
  const round = (value: number) => Number(value.toPrecision(12));
  // The epsilon keeps 0.94 / 0.02 = 46.999… from flooring a whole step too far.
  let min = round(Math.floor((low - interval / 2) / interval + 1e-9) * interval);
  // A count, a rate or a latency cannot go below zero; the axis does not pretend it could.
  if (low >= 0 && min < 0) min = 0;
  const max = round(Math.ceil((high + interval / 2) / interval - 1e-9) * interval);
  return { min, max, interval };
}

function niceStep(rough: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  for (const step of [1, 2, 2.5, 5])
    if (rough <= step * magnitude) return Number((step * magnitude).toPrecision(12));
  return 10 * magnitude;
}

/**
 * The trends section: per scenario, its verdict strip and (from its second run on) one small chart
 * per claim. Returns the markup and the charts' specs for the page's JSON block.
 *
 * @example const { markup, charts } = renderTrends(buildTrends(runs));
 */
export function renderTrends(trends: readonly ScenarioTrend[]): {
  markup: SafeHtml;
  charts: TrendChartSpec[];
} {
  const charts: TrendChartSpec[] = [];
  const runtimes = [...new Set(trends.flatMap((trend) => trend.runs.map((run) => run.runtime)))].sort();
  const scenarios = trends.map((trend) => {
    const claimCharts =
      trend.runs.length < 2
        ? html`<p class="muted small">One run so far: its claims are charted from the second run on.</p>`
        : html`<div class="trend-charts">
            ${trend.claims.map((claim) => {
              const chart = trendChart(`trend-chart-${charts.length}`, trend, claim);
              charts.push(chart);
              return html`<figure class="trend-chart" data-claim="${claim.key}">
                <figcaption>
                  <code>${claim.key}</code>
                  <span class="muted">${claim.metric}, ${claim.where}</span>
                  <span class="claim-text">${claim.description}</span>
                </figcaption>
                <div class="trend-box" id="${chart.id}" role="img" aria-label="${chart.label}"></div>
              </figure>`;
            })}
          </div>`;
    return html`<section class="trend" id="trend-${trend.name}" data-scenario="${trend.name}">
      <h3><code>${trend.name}</code> <span class="trend-title">${trend.title}</span></h3>
      ${verdictStrip(trend)} ${claimCharts}
    </section>`;
  });
  const markup = html`<section id="trends">
    <h2>Trends by scenario</h2>
    <p class="muted small">
      Each scenario's verdicts, oldest run first, and each claim's observed value in every run: a green point
      held, a red one did not, a hollow grey one is from an invalid run (no verdict). The shaded band and
      dashed lines are the tolerance. The letter under a verdict is the runtime
      (${runtimes.map((runtime, index) => html`${index > 0 ? ', ' : ''}<b>${runtimeLetter(runtime)}</b> ${runtime}`)}).
    </p>
    ${scenarios}
  </section>`;
  return { markup, charts };
}

const VERDICT_MARKS: Record<TrendVerdict, string> = { held: '✓', failed: '✗', invalid: '!' };

function verdictStrip(trend: ScenarioTrend): SafeHtml {
  const counts = { held: 0, failed: 0, invalid: 0 };
  for (const run of trend.runs) counts[run.verdict]++;
  const summary = `${trend.runs.length} ${trend.runs.length === 1 ? 'run' : 'runs'}: ${counts.held} held, ${counts.failed} did not, ${counts.invalid} invalid`;
  return html`<div class="verdict-strip">
    <ol class="run-marks" aria-label="Verdicts of ${trend.name}, oldest first">
      ${trend.runs.map((run) => {
        const verdict =
          run.verdict === 'invalid'
            ? 'invalid: no verdict'
            : `${run.verdict === 'held' ? 'held' : 'did not hold'} (${run.claimsHeld}/${run.claimsTotal} claims)` +
              (run.degraded ? ', measurement degraded' : '');
        const title = `${formatTimestamp(run.startedAt)} · ${run.runtime}, ${formatDuration(run.wallTimeMs)} · ${verdict} · ${run.dir}`;
        return html`<li>
          <a
            class="run-mark ${run.verdict}${run.degraded ? ' degraded' : ''}"
            href="${encodeURIComponent(run.dir)}/index.html"
            title="${title}"
            data-run-dir="${run.dir}"
            ><span class="symbol">${VERDICT_MARKS[run.verdict]}</span
            ><span class="runtime">${runtimeLetter(run.runtime)}</span></a
          >
        </li>`;
      })}
    </ol>
    <span class="muted small">${summary}</span>
  </div>`;
}

function runtimeLetter(runtime: string): string {
  return (runtime[0] ?? '?').toUpperCase();
}
