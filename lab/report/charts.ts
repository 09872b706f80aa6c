/**
 * ECharts options for the run report, computed here (typed, testable) and shipped to the page as JSON.
 * The page only calls `echarts.init(...).setOption(...)`, so nothing about what a chart shows lives in
 * untyped browser code.
 */
import type { EChartsOption, LineSeriesOption, BarSeriesOption } from 'echarts';
import type { DeploymentResult, FaultWindow, RouteResult, RunResults, ServiceResult } from '../results.ts';
import type { VariantName, RouteName } from '../vocabulary/topology.ts';

/** How the page formats values in tooltips and on the y axis of a chart. */
export type ChartUnit = 'requests' | 'ms' | 'service';

export interface ChartSpec {
  /** DOM id of the element the chart is drawn into. */
  id: string;
  /** Text for screen readers; the chart itself is a canvas. */
  label: string;
  unit: ChartUnit;
  option: EChartsOption;
}

/** Charts of one route: one of each kind per deployment, y axes shared inside each kind. */
export interface RouteCharts {
  route: RouteName;
  throughput: { deployment: VariantName; chart: ChartSpec | null }[];
  latency: { deployment: VariantName; chart: ChartSpec | null }[];
  /**
   * The route's closed-model requests (autocannon) where a deployment had them: the same kinds of chart on
   * the same axes as the open model's, so the two views of the same seconds compare line by line.
   */
  closed: {
    deployment: VariantName;
    connections: number;
    throughput: ChartSpec;
    latency: ChartSpec;
  }[];
}

export interface ServiceCharts {
  deployment: VariantName;
  charts: { service: string; chart: ChartSpec }[];
}

export interface ReportCharts {
  routes: RouteCharts[];
  services: ServiceCharts[];
  /** Every chart, for the page's JSON block. */
  all: ChartSpec[];
  /** Colour of each outcome (`success` and every failure cause), the same in every chart. */
  outcomeColours: Record<string, string>;
}

export const DEPLOYMENT_ORDER: readonly VariantName[] = ['monolith', 'modular', 'modular/worker', 'split'];
export const ROUTE_ORDER: readonly RouteName[] = ['signup', 'pay', 'checkout'];

export const SUCCESS_COLOUR = '#3b8c4f';
// Warm and dark hues only, so no failure cause is mistaken for success.
export const FAILURE_PALETTE = [
  '#d1495b',
  '#e8a33d',
  '#7b4fa0',
  '#e0702f',
  '#8c5a3c',
  '#c2185b',
  '#5d6d7e',
  '#b8860b',
  '#4e3f82',
  '#a33c3c',
  // Spares for causes outside CAUSE_COLOURS.
  '#8e3b6e',
  '#6b4226',
  '#c0504d',
  '#7a5c00',
];
/**
 * Each known failure cause has its own colour, the same in every report and in the live view, so `deadline`
 * is amber wherever a reader meets it. Causes outside this table (`http_<status>`, a service's own cause)
 * take the palette's colours that no known cause uses, most frequent first.
 */
export const CAUSE_COLOURS: Readonly<Record<string, string>> = {
  deadline: '#e8a33d',
  reset: '#d1495b',
  refused: '#7b4fa0',
  dns: '#4e3f82',
  database: '#8c5a3c',
  circuit_open: '#c2185b',
  bulkhead_full: '#b8860b',
  upstream_status: '#e0702f',
  client_timeout: '#a33c3c',
  generator_limit: '#5d6d7e',
};
const SPARE_FAILURE_COLOURS = FAILURE_PALETTE.filter(
  (colour) => !Object.values(CAUSE_COLOURS).includes(colour),
);

/** The colour of a failure cause: its own when known, else the `index`-th spare colour. */
export function causeColour(cause: string, index: number): string {
  return (
    CAUSE_COLOURS[cause] ??
    SPARE_FAILURE_COLOURS[index % Math.max(1, SPARE_FAILURE_COLOURS.length)] ??
    '#d1495b'
  );
}

export const LATENCY_COLOURS = { p50: '#3f6fb5', p99: '#e0702f', max: '#9b2c2c' } as const;
const SERVICE_COLOURS = { eventLoop: '#7b4fa0', inFlight: '#3f6fb5', outbound: '#e0702f' } as const;
const FAULT_FILL = 'rgba(209, 73, 91, 0.13)';
const FAULT_TEXT = '#9b2335';
const PHASE_LINE = '#8a94a6';
const TEXT = '#2b3340';
const MUTED = '#5b6472';

/** Deployments in the order the page shows them: monolith left, split right. */
export function orderedDeployments(results: RunResults): DeploymentResult[] {
  return [...results.deployments].sort(
    (a, b) => rank(DEPLOYMENT_ORDER, a.deployment) - rank(DEPLOYMENT_ORDER, b.deployment),
  );
}

/** Routes present in any deployment, in the order signup, pay, checkout (unknown names last). */
export function orderedRoutes(results: RunResults): RouteName[] {
  const names = new Set<RouteName>();
  for (const load of results.load) names.add(load.route);
  for (const deployment of results.deployments) for (const route of deployment.routes) names.add(route.route);
  return [...names].sort((a, b) => rank(ROUTE_ORDER, a) - rank(ROUTE_ORDER, b) || a.localeCompare(b));
}

/** Faults whose link exists in this deployment; the others did not touch it and are not shaded. */
export function faultsFor(results: RunResults, deployment: VariantName): FaultWindow[] {
  return results.faults.filter((fault) => fault.deployments.includes(deployment));
}

/** Last second of the timeline: every chart spans 0..this, so charts above each other line up. */
export function timelineEndS(results: RunResults): number {
  let end = 0;
  for (const phase of results.phases) end = Math.max(end, phase.endS);
  for (const fault of results.faults) end = Math.max(end, fault.endS);
  for (const deployment of results.deployments) {
    for (const route of deployment.routes) for (const s of route.seconds) end = Math.max(end, s.t + 1);
    for (const service of deployment.services) for (const s of service.samples) end = Math.max(end, s.t);
  }
  return Math.ceil(end);
}

/** Failure causes of the whole run, most frequent first, each with its colour (see CAUSE_COLOURS). */
export function outcomeColours(results: RunResults): Record<string, string> {
  const totals = new Map<string, number>();
  for (const deployment of results.deployments) {
    for (const route of deployment.routes) {
      for (const second of route.seconds) {
        for (const [cause, count] of Object.entries(second.failures)) {
          totals.set(cause, (totals.get(cause) ?? 0) + count);
        }
      }
    }
  }
  const causes = [...totals.entries()].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).map(([c]) => c);
  const colours: Record<string, string> = { success: SUCCESS_COLOUR };
  causes
    .filter((cause) => cause in CAUSE_COLOURS)
    .forEach((cause) => (colours[cause] = causeColour(cause, 0)));
  causes
    .filter((cause) => !(cause in CAUSE_COLOURS))
    .forEach((cause, index) => (colours[cause] = causeColour(cause, index)));
  return colours;
}

/**
 * Every chart of the report.
 *
 * @example const { routes, services, all } = buildReportCharts(results);
 */
export function buildReportCharts(results: RunResults): ReportCharts {
  const ids = idGenerator();
  const colours = outcomeColours(results);
  const end = timelineEndS(results);
  const deployments = orderedDeployments(results);
  const all: ChartSpec[] = [];
  const keep = (chart: ChartSpec | null): ChartSpec | null => {
    if (chart) all.push(chart);
    return chart;
  };

  // A route no column sent anything on (coordinated-omission drives pay alone) gets no empty charts.
  const driven = (route: RouteName): boolean =>
    deployments.some((d) => {
      const data = d.routes.find((r) => r.route === route);
      return data?.closedModel !== undefined || (data?.seconds ?? []).some((second) => second.completed > 0);
    });
  const routes = orderedRoutes(results)
    .filter(driven)
    .map((route): RouteCharts => {
      const perDeployment = deployments.map((d) => ({ d, data: d.routes.find((r) => r.route === route) }));
      // 10 % headroom so full-rate bars do not touch the frame and the fault label has room.
      const allSeconds = perDeployment.flatMap(({ data }) => [
        ...(data?.seconds ?? []),
        ...(data?.closedModel?.seconds ?? []),
      ]);
      const requestsMax = niceCeil(
        1.1 *
          Math.max(0, ...perDeployment.flatMap(({ data }) => (data?.seconds ?? []).map((s) => s.completed))),
      );
      // A closed model sends as fast as it is answered: its own scale, or the open bars would vanish.
      const closedRequestsMax = niceCeil(
        1.1 *
          Math.max(
            0,
            ...perDeployment.flatMap(({ data }) =>
              (data?.closedModel?.seconds ?? []).map((s) => s.completed),
            ),
          ),
      );
      const latencyRange = logRange(
        allSeconds.flatMap((s) => [s.latencyMs.p50, s.latencyMs.p99, s.latencyMs.max]),
      );
      return {
        route,
        throughput: perDeployment.map(({ d, data }) => ({
          deployment: d.deployment,
          chart: keep(
            data
              ? throughputChart(ids(), results, d.deployment, data, { end, yMax: requestsMax, colours })
              : null,
          ),
        })),
        latency: perDeployment.map(({ d, data }) => ({
          deployment: d.deployment,
          chart: keep(
            data ? latencyChart(ids(), results, d.deployment, data, { end, ...latencyRange }) : null,
          ),
        })),
        closed: perDeployment.flatMap(({ d, data }) => {
          if (!data?.closedModel) return [];
          const closed: RouteResult = { ...data, seconds: data.closedModel.seconds };
          const throughput = throughputChart(ids(), results, d.deployment, closed, {
            end,
            yMax: closedRequestsMax,
            colours,
          });
          const latency = latencyChart(ids(), results, d.deployment, closed, { end, ...latencyRange });
          all.push(throughput, latency);
          return [
            { deployment: d.deployment, connections: data.closedModel.connections, throughput, latency },
          ];
        }),
      };
    });

  const allSamples = deployments.flatMap((d) => d.services.flatMap((s) => s.samples));
  const lagMax = niceCeil(Math.max(0, ...allSamples.map((s) => s.eventLoopDelayP99Ms ?? 0)));
  const inFlightMax = niceCeil(
    Math.max(0, ...allSamples.flatMap((s) => [s.requestsInFlight ?? 0, s.outboundInFlight ?? 0])),
  );
  const services = deployments.map((d): ServiceCharts => ({
    deployment: d.deployment,
    charts: d.services.map((service) => {
      const chart = serviceChart(ids(), results, d.deployment, service, { end, lagMax, inFlightMax });
      all.push(chart);
      return { service: service.service, chart };
    }),
  }));

  return { routes, services, all, outcomeColours: colours };
}

function throughputChart(
  id: string,
  results: RunResults,
  deployment: VariantName,
  route: RouteResult,
  scale: { end: number; yMax: number; colours: Record<string, string> },
): ChartSpec {
  const causes = Object.keys(scale.colours).filter(
    (cause) => cause !== 'success' && route.seconds.some((s) => (s.failures[cause] ?? 0) > 0),
  );
  const bar = (name: string, value: (s: RouteResult['seconds'][number]) => number): BarSeriesOption => ({
    name,
    type: 'bar',
    stack: 'outcome',
    barCategoryGap: '15%',
    itemStyle: { color: scale.colours[name] ?? SUCCESS_COLOUR },
    emphasis: { disabled: true },
    // Centre each bar on its second: requests sent during [t, t+1) are drawn over that interval.
    data: route.seconds.map((s) => [s.t + 0.5, value(s)]),
  });
  const series: (BarSeriesOption | LineSeriesOption)[] = [
    bar('success', (s) => s.ok),
    ...causes.map((cause) => bar(cause, (s) => s.failures[cause] ?? 0)),
    timelineSeries(results, deployment),
  ];
  return {
    id,
    unit: 'requests',
    label: `${deployment}, ${route.route}: successful and failed requests per second, failures stacked by cause`,
    option: {
      ...baseOption(scale.end),
      legend: legend(['success', ...causes]),
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      yAxis: {
        type: 'value',
        min: 0,
        max: scale.yMax,
        name: 'requests / s',
        ...axisStyle(),
        ...verticalName(),
      },
      series,
    },
  };
}

function latencyChart(
  id: string,
  results: RunResults,
  deployment: VariantName,
  route: RouteResult,
  scale: { end: number; min: number; max: number },
): ChartSpec {
  const line = (name: keyof typeof LATENCY_COLOURS, dashed = false): LineSeriesOption => ({
    name,
    type: 'line',
    showSymbol: false,
    connectNulls: false,
    lineStyle: { width: name === 'p50' ? 2 : 1.5, type: dashed ? 'dashed' : 'solid' },
    itemStyle: { color: LATENCY_COLOURS[name] },
    emphasis: { disabled: true },
    // A log axis cannot place 0; a sub-floor value is drawn on the floor rather than dropped.
    data: route.seconds.map((s) => {
      const value = s.latencyMs[name];
      return [s.t + 0.5, value === null ? null : Math.max(value, scale.min)];
    }),
  });
  return {
    id,
    unit: 'ms',
    label: `${deployment}, ${route.route}: latency p50, p99 and max per second, logarithmic milliseconds`,
    option: {
      ...baseOption(scale.end),
      legend: legend(['p50', 'p99', 'max']),
      tooltip: { trigger: 'axis' },
      yAxis: {
        type: 'log',
        logBase: 10,
        min: scale.min,
        max: scale.max,
        name: 'latency (log scale)',
        ...axisStyle(),
        ...verticalName(),
      },
      series: [line('p50'), line('p99'), line('max', true), timelineSeries(results, deployment)],
    },
  };
}

function serviceChart(
  id: string,
  results: RunResults,
  deployment: VariantName,
  service: ServiceResult,
  scale: { end: number; lagMax: number; inFlightMax: number },
): ChartSpec {
  const line = (
    name: string,
    colour: string,
    yAxisIndex: number,
    value: (s: ServiceResult['samples'][number]) => number | null,
    dashed = false,
  ): LineSeriesOption => ({
    name,
    type: 'line',
    yAxisIndex,
    showSymbol: false,
    connectNulls: false,
    lineStyle: { width: 1.5, type: dashed ? 'dashed' : 'solid' },
    itemStyle: { color: colour },
    emphasis: { disabled: true },
    data: service.samples.map((s) => [s.t, value(s)]),
  });
  // A service that makes no outbound calls reports null; an empty legend entry would suggest zero.
  const lines = [
    line('event-loop delay p99 (ms)', SERVICE_COLOURS.eventLoop, 0, (s) => s.eventLoopDelayP99Ms),
    line('requests in flight', SERVICE_COLOURS.inFlight, 1, (s) => s.requestsInFlight),
    line('outbound in flight', SERVICE_COLOURS.outbound, 1, (s) => s.outboundInFlight, true),
  ].filter((series) => (series.data as [number, number | null][]).some(([, value]) => value !== null));
  return {
    id,
    unit: 'service',
    label: `${service.service} (${deployment}): event-loop delay p99 and requests in flight per second`,
    option: {
      ...baseOption(scale.end),
      legend: legend(lines.map((l) => String(l.name))),
      tooltip: { trigger: 'axis' },
      grid: { left: 64, right: 64, top: 44, bottom: 72 },
      yAxis: [
        {
          type: 'value',
          min: 0,
          max: scale.lagMax,
          name: 'event-loop delay p99 (ms)',
          ...axisStyle(),
          ...verticalName(),
        },
        {
          type: 'value',
          min: 0,
          max: scale.inFlightMax,
          name: 'in flight',
          ...axisStyle(),
          ...verticalName(),
          splitLine: { show: false },
        },
      ],
      series: [...lines, timelineSeries(results, deployment)],
    },
  };
}

/**
 * A data-less series that carries the timeline: a dashed line with the phase name at each phase start
 * (above the plot), and a shaded band per fault that touched this deployment (labelled inside the plot,
 * so the two kinds of label never share a row).
 */
function timelineSeries(results: RunResults, deployment: VariantName): LineSeriesOption {
  return {
    name: 'timeline',
    type: 'line',
    data: [],
    silent: true,
    // Above the bars: the translucent band tints the faulted seconds and its label stays readable.
    z: 5,
    markLine: {
      silent: true,
      symbol: ['none', 'none'],
      animation: false,
      lineStyle: { color: PHASE_LINE, type: 'dashed', width: 1 },
      label: { show: true, position: 'end', formatter: '{b}', color: MUTED, fontSize: 11 },
      data: results.phases.map((phase) => ({ name: phase.name, xAxis: phase.startS })),
    },
    markArea: {
      silent: true,
      animation: false,
      itemStyle: { color: FAULT_FILL },
      label: {
        show: true,
        position: 'insideTop',
        formatter: '{b}',
        color: FAULT_TEXT,
        fontSize: 11,
        fontWeight: 'bold',
        lineHeight: 14,
        backgroundColor: 'rgba(255, 255, 255, 0.75)',
        borderRadius: 3,
        padding: [2, 5],
      },
      data: faultsFor(results, deployment).map((fault) => [
        { name: `${fault.fault}\n${fault.link}`, xAxis: fault.startS },
        { xAxis: fault.endS },
      ]),
    },
  };
}

export function baseOption(end: number): EChartsOption {
  return {
    // Static charts: a report is read, printed and screenshotted, never watched while it animates.
    animation: false,
    textStyle: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', color: TEXT },
    grid: { left: 64, right: 20, top: 44, bottom: 72 },
    xAxis: {
      type: 'value',
      min: 0,
      max: end,
      name: 'seconds since start',
      nameLocation: 'middle',
      nameGap: 26,
      ...axisStyle(),
      splitLine: { show: false },
    },
  };
}

export function axisStyle() {
  return {
    nameTextStyle: { color: MUTED, fontSize: 11 },
    axisLabel: { color: MUTED, fontSize: 11 },
    axisLine: { lineStyle: { color: '#b8c0cc' } },
    splitLine: { lineStyle: { color: '#eceff3' } },
  };
}

export function verticalName() {
  return { nameLocation: 'middle' as const, nameRotate: 90, nameGap: 44 };
}

export function legend(names: string[]): EChartsOption['legend'] {
  return {
    data: names,
    bottom: 0,
    left: 'center',
    type: 'scroll',
    itemWidth: 14,
    itemHeight: 10,
    textStyle: { color: TEXT, fontSize: 12 },
  };
}

/** Rounds up to 1, 2, 2.5 or 5 times a power of ten, so a shared axis maximum still gets round ticks. */
export function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

/** Decade bounds around the positive values, for a log axis two charts can share. */
export function logRange(values: (number | null)[]): { min: number; max: number } {
  const positive = values.filter((v): v is number => v !== null && v > 0);
  if (positive.length === 0) return { min: 1, max: 1000 };
  const min = 10 ** Math.floor(Math.log10(Math.min(...positive)));
  const max = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  return { min, max: max > min ? max : min * 10 };
}

function idGenerator(): () => string {
  let next = 0;
  return () => `chart-${next++}`;
}

function rank<T>(order: readonly T[], value: T): number {
  const index = order.indexOf(value);
  return index === -1 ? order.length : index;
}
