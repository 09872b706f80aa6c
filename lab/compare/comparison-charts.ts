/**
 * The overlaid charts of a comparison: for each route of each deployment the runs share, successes per
 * second and latency p50/p99 per second, one colour per run. Charts of the same kind and route share
 * their axes, so a taller line is a larger number. The options are computed here and drawn by the run
 * report's page script (lab/report/page-script.ts), which only needs each spec's `unit`.
 */
import type { LineSeriesOption } from 'echarts';
import type { RunResults } from '../results.ts';
import {
  axisStyle,
  baseOption,
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
}

export interface ComparisonCharts {
  groups: ComparisonChartGroup[];
  all: ChartSpec[];
}

const MUTED = '#5b6472';
const PHASE_LINE = '#8a94a6';

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
      const successes: ChartSpec = {
        id: `compare-chart-${next++}`,
        unit: 'requests',
        label: `${deployment}, ${route}: successful requests per second, one line per run`,
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
          ],
        },
      };
      const latencyChart: ChartSpec = {
        id: `compare-chart-${next++}`,
        unit: 'ms',
        label: `${deployment}, ${route}: latency p50 (solid) and p99 (dashed) per second, one colour per run, logarithmic milliseconds`,
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
          ],
        },
      };
      groups.push({ deployment, route, successes, latency: latencyChart });
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
