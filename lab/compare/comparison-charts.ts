/**
 * The overlaid charts of a comparison: for each route of each deployment the runs share, successes per
 * second and latency p50/p99 per second, one colour per run. Charts of the same kind and route share
 * their axes, so a taller line is a larger number. Fault windows are shaded as on the run page: one band
 * per window when every run had the same ones on that deployment, else each run's bands in its own
 * colour, labelled with the run. The options are computed here and drawn by the run report's page
 * script (lab/report/page-script.ts), which only needs each spec's `unit`.
 */
import type { LineSeriesOption } from 'echarts';
import type { FaultWindow, RunResults } from '../results.ts';
import {
  axisStyle,
  baseOption,
  faultsFor,
  legend,
  logRange,
  niceCeil,
  timelineEndS,
  verticalName,
  type ChartSpec,
} from '../report/charts.ts';
import type { Comparison } from './comparison.ts';

/** One colour per run, in the order of the runs: A blue, B orange, C green, ... */
export const RUN_COLOURS = [
  '#3f6fb5',
  '#e0702f',
  '#3b8c4f',
  '#7b4fa0',
  '#8c5a3c',
  '#c2185b',
  '#5d6d7e',
  '#b8860b',
];

export function runColour(index: number): string {
  return RUN_COLOURS[index % RUN_COLOURS.length] ?? '#3f6fb5';
}

export interface ComparisonChartGroup {
  deployment: string;
  route: string;
  successes: ChartSpec;
  latency: ChartSpec;
  /** The fault windows on this deployment, as the bands show them. */
  faults: FaultBands;
}

/** One fault window as a chart band. */
export interface FaultBand {
  fault: string;
  link: string;
  startS: number;
  endS: number;
}

/**
 * The fault windows of a deployment in the runs: `shared` when every run had the same windows (drawn
 * once, in the run page's colour), `per-run` when they differ (each run's own, in its colour).
 */
export type FaultBands =
  { kind: 'shared'; bands: FaultBand[] } | { kind: 'per-run'; runs: { label: string; bands: FaultBand[] }[] };

export interface ComparisonCharts {
  groups: ComparisonChartGroup[];
  all: ChartSpec[];
}

const MUTED = '#5b6472';
const PHASE_LINE = '#8a94a6';
// The run page's fault shading (lab/report/charts.ts), so a shared band reads the same on both pages.
const FAULT_FILL = 'rgba(209, 73, 91, 0.13)';
const FAULT_TEXT = '#9b2335';
// A run's own bands: its colour, light enough for two runs' bands to overlap and both lines to show.
const RUN_FAULT_ALPHA = 0.12;
// Height of one two-line band label: each run's labels sit on their own row, so they never overprint.
const LABEL_ROW_PX = 34;

/**
 * Every overlaid chart of the comparison; `results` are the runs in the comparison's order.
 *
 * @example const { groups, all } = buildComparisonCharts(comparison, runs.map((run) => run.results));
 */
export function buildComparisonCharts(
  comparison: Comparison,
  results: readonly RunResults[],
): ComparisonCharts {
  const end = Math.max(1, ...results.map(timelineEndS));
  const labels = comparison.runs.map((run) => run.label);
  const phases = results[0]?.phases ?? [];
  const secondsOf = (deployment: string, route: string) =>
    results.map(
      (r) =>
        r.deployments.find((d) => d.deployment === deployment)?.routes.find((x) => x.route === route)
          ?.seconds ?? [],
    );

  const groups: ComparisonChartGroup[] = [];
  let next = 0;
  const routes = [...new Set(comparison.shared.flatMap((d) => d.routes))];
  for (const route of routes) {
    // Shared per route across deployments and runs: the same height means the same number.
    const all = comparison.shared
      .filter((d) => d.routes.includes(route))
      .flatMap((d) => secondsOf(d.deployment, route).flat());
    const successMax = niceCeil(1.1 * Math.max(0, ...all.map((s) => s.ok)));
    const latency = logRange(all.flatMap((s) => [s.latencyMs.p50, s.latencyMs.p99]));
    for (const { deployment } of comparison.shared.filter((d) => d.routes.includes(route))) {
      const perRun = secondsOf(deployment, route);
      const faults = faultBands(results, labels, deployment);
      const bands = faultSeries(faults);
      const successes: ChartSpec = {
        id: `compare-chart-${next++}`,
        unit: 'requests',
        label: `${deployment}, ${route}: successful requests per second, one line per run${faultText(faults)}`,
        option: {
          ...baseOption(end),
          legend: legend(labels),
          tooltip: { trigger: 'axis' },
          yAxis: {
            type: 'value',
            min: 0,
            max: successMax,
            name: 'successes / s',
            ...axisStyle(),
            ...verticalName(),
          },
          series: [
            ...perRun.map((seconds, index): LineSeriesOption => ({
              name: labels[index] ?? '',
              type: 'line',
              showSymbol: false,
              lineStyle: { width: 2 },
              itemStyle: { color: runColour(index) },
              emphasis: { disabled: true },
              data: seconds.map((s) => [s.t + 0.5, s.ok]),
            })),
            phaseMarks(phases),
            ...bands,
          ],
        },
      };
      const latencyChart: ChartSpec = {
        id: `compare-chart-${next++}`,
        unit: 'ms',
        label: `${deployment}, ${route}: latency p50 (solid) and p99 (dashed) per second, one colour per run, logarithmic milliseconds${faultText(faults)}`,
        option: {
          ...baseOption(end),
          legend: legend(labels.flatMap((label) => [`${label} p50`, `${label} p99`])),
          tooltip: { trigger: 'axis' },
          yAxis: {
            type: 'log',
            logBase: 10,
            min: latency.min,
            max: latency.max,
            name: 'latency (log scale)',
            ...axisStyle(),
            ...verticalName(),
          },
          series: [
            ...perRun.flatMap((seconds, index) =>
              (['p50', 'p99'] as const).map((percentile): LineSeriesOption => ({
                name: `${labels[index] ?? ''} ${percentile}`,
                type: 'line',
                showSymbol: false,
                connectNulls: false,
                lineStyle: {
                  width: percentile === 'p50' ? 2 : 1.5,
                  type: percentile === 'p50' ? 'solid' : 'dashed',
                },
                itemStyle: { color: runColour(index) },
                emphasis: { disabled: true },
                // A log axis cannot place 0; a sub-floor value is drawn on the floor rather than dropped.
                data: seconds.map((s) => {
                  const value = s.latencyMs[percentile];
                  return [s.t + 0.5, value === null ? null : Math.max(value, latency.min)];
                }),
              })),
            ),
            phaseMarks(phases),
            ...bands,
          ],
        },
      };
      groups.push({ deployment, route, successes, latency: latencyChart, faults });
    }
  }
  return { groups, all: groups.flatMap((group) => [group.successes, group.latency]) };
}

/** A data-less series with a dashed line and the phase's name at each phase start of the first run. */
function phaseMarks(phases: RunResults['phases']): LineSeriesOption {
  return {
    name: 'phases',
    type: 'line',
    data: [],
    silent: true,
    markLine: {
      silent: true,
      symbol: ['none', 'none'],
      animation: false,
      lineStyle: { color: PHASE_LINE, type: 'dashed', width: 1 },
      label: { show: true, position: 'end', formatter: '{b}', color: MUTED, fontSize: 11 },
      data: phases.map((phase) => ({ name: phase.name, xAxis: phase.startS })),
    },
  };
}

function bandOf(fault: FaultWindow): FaultBand {
  return { fault: fault.fault, link: fault.link, startS: fault.startS, endS: fault.endS };
}

function bandKey(band: FaultBand): string {
  return `${band.fault}|${band.link}|${band.startS}|${band.endS}`;
}

/**
 * The fault windows that touched `deployment` in each run. A window is the fault, what it was aimed at,
 * and when: runs whose windows all match share one set of bands. (A fault's strength, e.g. 50 ms or
 * 200 ms, is not a window: the page's table of what made the runs shows it.)
 *
 * @example faultBands(results, ['A', 'B'], 'split') // { kind: 'shared', bands: [{ fault: 'partition', ... }] }
 */
export function faultBands(
  results: readonly RunResults[],
  labels: readonly string[],
  deployment: string,
): FaultBands {
  const perRun = results.map((r) =>
    faultsFor(r, deployment)
      .map(bandOf)
      .sort((a, b) => a.startS - b.startS || a.endS - b.endS || bandKey(a).localeCompare(bandKey(b))),
  );
  const keys = perRun.map((bands) => bands.map(bandKey).join(','));
  if (new Set(keys).size <= 1) return { kind: 'shared', bands: perRun[0] ?? [] };
  return { kind: 'per-run', runs: perRun.map((bands, index) => ({ label: labels[index] ?? '', bands })) };
}

function windowText(band: FaultBand): string {
  return `${band.fault} on ${band.link} ${band.startS}–${band.endS} s`;
}

/** The bands in words, for the chart's text for screen readers. */
function faultText(faults: FaultBands): string {
  if (faults.kind === 'shared') {
    return faults.bands.length === 0 ? '' : `; shaded: ${faults.bands.map(windowText).join(', ')}`;
  }
  const runs = faults.runs.map(
    (run) => `${run.label}: ${run.bands.length === 0 ? 'no fault' : run.bands.map(windowText).join(', ')}`,
  );
  return `; the runs' faults differ, each shaded in its run's colour (${runs.join('; ')})`;
}

/** `#3f6fb5` at `alpha` as `rgba(63, 111, 181, alpha)`. */
function translucent(hex: string, alpha: number): string {
  const value = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255}, ${alpha})`;
}

/** Data-less series that shade the fault windows: one for shared bands, else one per run that had faults. */
function faultSeries(faults: FaultBands): LineSeriesOption[] {
  const series = (
    name: string,
    bands: FaultBand[],
    look: { fill: string; text: string; row: number; prefix: string },
  ): LineSeriesOption => ({
    name,
    type: 'line',
    data: [],
    silent: true,
    // Under the lines: a band tints the seconds, the lines stay on top.
    z: 1,
    markArea: {
      silent: true,
      animation: false,
      itemStyle: { color: look.fill },
      label: {
        show: true,
        position: 'insideTop',
        offset: [0, look.row * LABEL_ROW_PX],
        formatter: '{b}',
        color: look.text,
        fontSize: 11,
        fontWeight: 'bold',
        lineHeight: 14,
        backgroundColor: 'rgba(255, 255, 255, 0.75)',
        borderRadius: 3,
        padding: [2, 5],
      },
      data: bands.map((band) => [
        { name: `${look.prefix}${band.fault}\n${band.link}`, xAxis: band.startS },
        { xAxis: band.endS },
      ]),
    },
  });
  if (faults.kind === 'shared') {
    return faults.bands.length === 0
      ? []
      : [series('faults', faults.bands, { fill: FAULT_FILL, text: FAULT_TEXT, row: 0, prefix: '' })];
  }
  let row = 0;
  return faults.runs.flatMap((run, index) => {
    if (run.bands.length === 0) return [];
    const colour = runColour(index);
    return [
      series(`${run.label} faults`, run.bands, {
        fill: translucent(colour, RUN_FAULT_ALPHA),
        text: colour,
        row: row++,
        prefix: `${run.label}: `,
      }),
    ];
  });
}
