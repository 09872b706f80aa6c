import { describe, expect, it } from 'vitest';
import type { LineSeriesOption } from 'echarts';
import type { ClaimResult, RunResults } from '../../lab/results.ts';
import type { RunIndexEntry } from '../../lab/report/render-index.ts';
import { buildTrends, niceRange, runVerdict, trendChart } from '../../lab/report/render-trends.ts';
import { makeInvalidReportResults, makeReportResults } from './fixtures/report-results.ts';

/** A run of `scenario` started at `startedAt`, its claims replaced by `claims` when given. */
function run(
  dir: string,
  startedAt: string,
  options: { scenario?: string; claims?: ClaimResult[]; results?: RunResults } = {},
): RunIndexEntry {
  const results = options.results ?? makeReportResults();
  results.startedAt = startedAt;
  results.scenario = { ...results.scenario, name: options.scenario ?? results.scenario.name };
  if (options.claims) {
    results.hypothesis = { held: options.claims.every((claim) => claim.held), claims: options.claims };
  }
  return { dir, results };
}

function claim(
  id: string,
  observed: number | null,
  held: boolean,
  changes: Partial<ClaimResult> = {},
): ClaimResult {
  return {
    id,
    description: `claim ${id}`,
    deployment: 'split',
    route: 'checkout',
    phase: 'partition',
    metric: 'latencyP99Ms',
    unit: 'ms',
    atMost: 500,
    observed,
    held,
    ...changes,
  };
}

describe('buildTrends', () => {
  it('groups runs by scenario, sorted by name, each scenario oldest run first', () => {
    const trends = buildTrends([
      run('p-new', '2026-11-30T12:00:00.000Z', { scenario: 'partition' }),
      run('b-1', '2026-11-29T12:00:00.000Z', { scenario: 'baseline' }),
      run('p-old', '2026-11-28T12:00:00.000Z', { scenario: 'partition' }),
      run('p-mid', '2026-11-29T08:00:00.000Z', { scenario: 'partition' }),
      run('p-unparsable', 'yesterday', { scenario: 'partition' }),
    ]);
    expect(trends.map((trend) => trend.name)).toEqual(['baseline', 'partition']);
    expect(trends[1]?.runs.map((r) => r.dir)).toEqual(['p-unparsable', 'p-old', 'p-mid', 'p-new']);
    expect(trends[0]?.runs).toEqual([
      {
        dir: 'b-1',
        startedAt: '2026-11-29T12:00:00.000Z',
        runtime: 'local',
        wallTimeMs: 98_750,
        verdict: 'failed',
        degraded: true,
        claimsHeld: 3,
        claimsTotal: 4,
      },
    ]);
  });

  it("lines up each claim's value and tolerance with the scenario's runs", () => {
    const [trend] = buildTrends([
      run('second', '2026-11-30T12:00:00.000Z', { claims: [claim('fast', 420, true)] }),
      run('first', '2026-11-30T10:00:00.000Z', { claims: [claim('fast', 2012, false)] }),
      run('third', '2026-11-30T14:00:00.000Z', {
        claims: [claim('fast', null, false, { atMost: 400, description: 'the newest wording' })],
      }),
    ]);
    expect(trend?.claims).toHaveLength(1);
    expect(trend?.claims[0]).toMatchObject({
      key: 'fast',
      description: 'the newest wording',
      metric: 'latencyP99Ms',
      where: 'split checkout, partition',
      unit: 'ms',
      signed: false,
      points: [
        { observed: 2012, held: false, atMost: 500 },
        { observed: 420, held: true, atMost: 500 },
        { observed: null, held: false, atMost: 400 },
      ],
    });
  });

  it('plots what exists when runs have different claims, in the newest order', () => {
    const [trend] = buildTrends([
      run('old', '2026-11-30T10:00:00.000Z', {
        claims: [claim('dropped', 1, true), claim('kept', 10, true)],
      }),
      run('new', '2026-11-30T12:00:00.000Z', { claims: [claim('kept', 12, true), claim('added', 3, false)] }),
    ]);
    const series = Object.fromEntries(
      (trend?.claims ?? []).map((c) => [c.key, c.points.map((p) => p?.observed ?? 'absent')]),
    );
    expect(trend?.claims.map((c) => c.key)).toEqual(['kept', 'added', 'dropped']);
    expect(series).toEqual({ kept: [10, 12], added: ['absent', 3], dropped: [1, 'absent'] });
  });

  it('keeps a claim measured in another unit apart, and names its unit', () => {
    const [trend] = buildTrends([
      run('old', '2026-11-30T10:00:00.000Z', { claims: [claim('p99', 900, false)] }),
      run('new', '2026-11-30T12:00:00.000Z', {
        claims: [claim('p99', 1.4, true, { unit: 'factor', relativeTo: { phase: 'baseline' }, atMost: 1.5 })],
      }),
    ]);
    expect(trend?.claims.map((c) => [c.key, c.points.map((p) => p?.observed ?? null)])).toEqual([
      ['p99 (factor)', [null, 1.4]],
      ['p99 (ms)', [900, null]],
    ]);
    expect(trend?.claims[0]?.metric).toBe('latencyP99Ms ratio to baseline');
  });

  it('gives an invalid run no verdict, keeps its values, and marks a degraded one', () => {
    const invalid = makeInvalidReportResults();
    invalid.hypothesis.held = true;
    const [trend] = buildTrends([
      run('valid', '2026-11-30T10:00:00.000Z', {
        results: makeReportResults({ validity: { status: 'valid', problems: [] } }),
      }),
      run('invalid', '2026-11-30T11:00:00.000Z', { results: invalid }),
      run('degraded', '2026-11-30T12:00:00.000Z'),
    ]);
    expect(trend?.runs.map((r) => [r.dir, r.verdict, r.degraded])).toEqual([
      ['valid', 'failed', false],
      ['invalid', 'invalid', false],
      ['degraded', 'failed', true],
    ]);
    expect(runVerdict(invalid)).toBe('invalid');
    expect(trend?.claims[1]?.points.map((p) => p?.observed)).toEqual([2012, 2012, 2012]);
  });

  it('is empty without runs', () => {
    expect(buildTrends([])).toEqual([]);
  });
});

describe('trendChart', () => {
  const data = (series: LineSeriesOption | undefined) => (series?.data ?? []) as unknown[];

  it('draws a constant tolerance as a band with dashed bounds, and colours points by held', () => {
    const [trend] = buildTrends([
      run('a', '2026-11-30T10:00:00.000Z', { claims: [claim('fast', 2012, false)] }),
      run('b', '2026-11-30T11:00:00.000Z', { claims: [] }),
      run('c', '2026-11-30T12:00:00.000Z', { claims: [claim('fast', 320, true)] }),
    ]);
    if (!trend?.claims[0]) throw new Error('no claim');
    const chart = trendChart('trend-chart-7', trend, trend.claims[0]);
    const series = chart.option.series as LineSeriesOption[];
    expect(chart).toMatchObject({ id: 'trend-chart-7', unit: 'ms', signed: false });
    expect(series).toHaveLength(1);
    expect(chart.option.xAxis).toMatchObject({
      type: 'category',
      data: ['11-30 10:00', '11-30 11:00', '11-30 12:00'],
    });
    const points = data(series[0]) as ({ value: number; itemStyle: { color: string }; tip: string } | null)[];
    expect(points.map((p) => p && [p.value, p.itemStyle.color])).toEqual([
      [2012, '#b3261e'],
      null,
      [320, '#1f7a3a'],
    ]);
    expect(points[0]?.tip).toContain('2.01 s (tolerance ≤ 500 ms)');
    expect(points[0]?.tip).toContain('✗ did not hold');
    const yAxis = chart.option.yAxis as { min: number; max: number };
    expect(series[0]?.markArea?.data).toEqual([[{ yAxis: yAxis.min }, { yAxis: 500 }]]);
    expect(series[0]?.markLine?.data).toEqual([{ yAxis: 500 }]);
    expect(yAxis.min).toBe(0);
    expect(yAxis.max).toBeGreaterThan(2012);
  });

  it('draws a tolerance that changed as a stepped line per bound, and an invalid run hollow grey', () => {
    const invalid = makeInvalidReportResults();
    const [trend] = buildTrends([
      run('a', '2026-11-30T10:00:00.000Z', {
        claims: [claim('band', 5000, true, { atLeast: 4500, atMost: 6500 })],
      }),
      run('b', '2026-11-30T11:00:00.000Z', {
        results: invalid,
        claims: [claim('band', 7000, true, { atLeast: 4500, atMost: 8000 })],
      }),
    ]);
    if (!trend?.claims[0]) throw new Error('no claim');
    const series = trendChart('x', trend, trend.claims[0]).option.series as LineSeriesOption[];
    expect(series.map((s) => s.name)).toEqual(['observed', 'at least', 'at most']);
    expect(series[0]?.markArea).toBeUndefined();
    expect(data(series[1])).toEqual([4500, 4500]);
    expect(data(series[2])).toEqual([6500, 8000]);
    expect(series[2]?.step).toBe('middle');
    const invalidPoint = data(series[0])[1] as { symbol: string; itemStyle: { color: string }; tip: string };
    expect(invalidPoint).toMatchObject({ symbol: 'emptyCircle', itemStyle: { color: '#8a94a6' } });
    expect(invalidPoint.tip).toContain('invalid run: no verdict');
  });

  it('escapes the text of its tooltips', () => {
    const [trend] = buildTrends([
      run('<img src=x onerror=alert(1)>', '2026-11-30T10:00:00.000Z', { claims: [claim('c', 1, true)] }),
    ]);
    if (!trend?.claims[0]) throw new Error('no claim');
    const [point] = data(
      (trendChart('x', trend, trend.claims[0]).option.series as LineSeriesOption[])[0],
    ) as {
      tip: string;
    }[];
    expect(point?.tip).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(point?.tip).not.toContain('<img');
  });
});

describe('niceRange', () => {
  it('covers every value with half a step of room, on round steps, never below zero for positive data', () => {
    expect(niceRange([0.95, 1])).toEqual({ min: 0.94, max: 1.02, interval: 0.02 });
    expect(niceRange([320, 2012, 500])).toEqual({ min: 0, max: 2500, interval: 500 });
    expect(niceRange([-3, 4])).toEqual({ min: -4, max: 6, interval: 2 });
    expect(niceRange([40])).toEqual({ min: 30, max: 50, interval: 10 });
    expect(niceRange([0])).toEqual({ min: 0, max: 0.25, interval: 0.25 });
    expect(niceRange([])).toEqual({ min: 0, max: 1, interval: 0.25 });
  });
});
