import { describe, expect, it } from 'vitest';
import { decodeLatencyHistogram, medianOf } from '../../lab/compare/latency-histogram.ts';
import {
  countOutcomes,
  encodeLatencyHistogram,
  perPhase,
  perSecond,
  recoverySeconds,
} from '../../lab/load/aggregate.ts';
import type { RequestOutcome } from '../../lab/load/outcome.ts';
import { percentile, summarizeLatency } from '../../lab/load/percentiles.ts';

const outcome = (dueAtS: number, ok: boolean, latencyMs: number, cause = ''): RequestOutcome => ({
  route: 'checkout',
  dueAtS,
  stream: 0,
  sendLagMs: 0,
  ok,
  latencyMs,
  cause: ok ? '' : cause,
  status: ok ? 201 : 504,
});

describe('percentiles', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([], 50)).toBeNull();
  });

  it('summarises unsorted values', () => {
    expect(summarizeLatency([30, 10, 20])).toEqual({ p50: 20, p90: 30, p99: 30, max: 30 });
    expect(summarizeLatency([])).toEqual({ p50: null, p90: null, p99: null, max: null });
  });
});

describe('aggregation', () => {
  const outcomes = [
    outcome(0.1, true, 10),
    outcome(0.9, true, 12),
    outcome(1.5, false, 5000, 'deadline'),
    outcome(1.6, false, 5001, 'deadline'),
    outcome(2.2, false, 30, 'reset'),
    outcome(3.0, true, 11),
  ];

  it('counts failures by cause and keeps failure latency apart', () => {
    const counts = countOutcomes(outcomes);
    expect(counts.completed).toBe(6);
    expect(counts.ok).toBe(3);
    expect(counts.failures).toEqual({ deadline: 2, reset: 1 });
    expect(counts.failureLatencyMs.p50).toBe(5000);
    expect(counts.latencyMs.max).toBe(5001);
  });

  it('buckets by the second a request was due', () => {
    const seconds = perSecond(outcomes, 4);
    expect(seconds.map((second) => second.completed)).toEqual([2, 2, 1, 1]);
    expect(seconds[1]?.failures).toEqual({ deadline: 2 });
  });

  it('summarises per phase, start inclusive and end exclusive', () => {
    const phases = perPhase(outcomes, [
      { name: 'baseline', startS: 0, endS: 1 },
      { name: 'fault', startS: 1, endS: 3 },
      { name: 'recovery', startS: 3, endS: 4 },
    ]);
    expect(phases.map((phase) => [phase.phase, phase.completed, phase.successRate])).toEqual([
      ['baseline', 2, 1],
      ['fault', 3, 0],
      ['recovery', 1, 1],
    ]);
  });

  it('measures recovery as the start of a run of healthy seconds after the heal', () => {
    const ok = { completed: 10, ok: 10 };
    const bad = { completed: 10, ok: 2 };
    const series = [bad, bad, bad, bad, ok, ok, ok, ok].map((counts, t) => ({
      t,
      ...countOutcomes([]),
      ...counts,
    }));
    expect(recoverySeconds(series, 2)).toBe(2);
    expect(recoverySeconds(series, 2, { stableSeconds: 5 })).toBeNull();
  });
});

describe('latency histograms', () => {
  it('keeps every latency of a phase that was sent, to 3 significant digits', () => {
    const outcomes = [
      ...Array.from({ length: 300 }, (_, index) => outcome(index / 100, true, 1 + index * 0.37)),
      outcome(1.5, false, 5000.4, 'deadline'),
      // Never sent: its latency of 0 would drag the distribution down.
      outcome(1.6, false, 0, 'generator_limit'),
    ];
    const [phase] = perPhase(outcomes, [{ name: 'all', startS: 0, endS: 4 }]);
    expect(phase?.completed).toBe(302);
    const distribution = decodeLatencyHistogram(phase?.latencyHistogram ?? '', 'test');
    expect(distribution.total).toBe(301);
    expect(distribution.valuesMs[0]).toBeCloseTo(1, 3);
    // The largest value comes back within 0.1 %.
    expect(Math.abs((distribution.valuesMs.at(-1) ?? 0) - 5000.4) / 5000.4).toBeLessThan(0.001);
    // The 151st of the 301 sent: 1 + 150 x 0.37 ms.
    expect(medianOf(distribution)).toBeCloseTo(56.5, 1);
  });

  it('writes an empty histogram for a phase without requests', () => {
    const [phase] = perPhase([], [{ name: 'empty', startS: 0, endS: 1 }]);
    const distribution = decodeLatencyHistogram(phase?.latencyHistogram ?? '', 'test');
    expect(distribution.total).toBe(0);
    expect(medianOf(distribution)).toBeNull();
    expect(encodeLatencyHistogram([outcome(0, false, 0, 'generator_limit')])).toBe(phase?.latencyHistogram);
  });
});
