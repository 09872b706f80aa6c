import { describe, expect, it } from 'vitest';
import {
  formatCount,
  formatDuration,
  describeClaimMetric,
  formatClaimExpected,
  formatClaimObserved,
  formatFailures,
  formatMs,
  formatRate,
  formatSeconds,
  formatTimestamp,
} from '../../lab/report/format.ts';

describe('formatMs', () => {
  it('shows milliseconds below a second and seconds from one second up', () => {
    expect(formatMs(850)).toBe('850 ms');
    expect(formatMs(5020)).toBe('5.02 s');
    expect(formatMs(5000)).toBe('5 s');
    expect(formatMs(12_345)).toBe('12.3 s');
    expect(formatMs(999.6)).toBe('1 s');
  });

  it('keeps precision for fast requests', () => {
    expect(formatMs(3.24)).toBe('3.2 ms');
    expect(formatMs(3)).toBe('3 ms');
    expect(formatMs(0.42)).toBe('0.42 ms');
    expect(formatMs(0)).toBe('0 ms');
  });

  it('shows a dash for nothing measured', () => {
    expect(formatMs(null)).toBe('—');
    expect(formatMs(undefined)).toBe('—');
    expect(formatMs(Number.NaN)).toBe('—');
  });
});

describe('formatRate', () => {
  it('shows a percentage with one decimal', () => {
    expect(formatRate(0.973)).toBe('97.3 %');
    expect(formatRate(0.5)).toBe('50.0 %');
    expect(formatRate(1)).toBe('100 %');
    expect(formatRate(0)).toBe('0 %');
    expect(formatRate(null)).toBe('—');
  });

  it('never rounds a partial result to all or nothing', () => {
    expect(formatRate(0.99996)).toBe('>99.9 %');
    expect(formatRate(0.00004)).toBe('<0.1 %');
  });
});

describe('other helpers', () => {
  it('formats counts, seconds and wall time', () => {
    expect(formatCount(12_345)).toBe('12,345');
    expect(formatCount(null)).toBe('—');
    expect(formatSeconds(30)).toBe('30 s');
    expect(formatSeconds(2.5)).toBe('2.5 s');
    expect(formatSeconds(null)).toBe('—');
    expect(formatDuration(185_400)).toBe('3 min 5 s');
    expect(formatDuration(120_000)).toBe('2 min');
    expect(formatDuration(4200)).toBe('4.2 s');
  });

  it('lists failures largest first and leaves out zero counts', () => {
    expect(formatFailures({ reset: 3, deadline: 42, dns: 0 })).toBe('deadline 42, reset 3');
    expect(formatFailures({})).toBe('none');
  });

  it('formats timestamps in UTC and passes unparsable ones through', () => {
    expect(formatTimestamp('2026-11-25T12:05:03.120Z')).toBe('2026-11-25 12:05:03 UTC');
    expect(formatTimestamp('yesterday-ish')).toBe('yesterday-ish');
  });
});

describe('claim values', () => {
  it('formats observed values in the unit the claim carries', () => {
    expect(formatClaimObserved({ unit: 'ratio', observed: 0.973 })).toBe('97.3 %');
    expect(formatClaimObserved({ unit: 'ms', observed: 5020 })).toBe('5.02 s');
    expect(formatClaimObserved({ unit: 's', observed: 3 })).toBe('3 s');
    expect(formatClaimObserved({ unit: 'count', observed: 1234 })).toBe('1,234');
    expect(formatClaimObserved({ unit: 'perSecond', observed: 12.34 })).toBe('12.3/s');
    expect(formatClaimObserved({ unit: 'ratio', observed: null })).toBe('—');
  });

  it('formats tolerances with the digits their author wrote', () => {
    expect(formatClaimExpected({ unit: 'ratio', atLeast: 0.95, observed: null })).toBe('≥ 95 %');
    expect(formatClaimExpected({ unit: 'ratio', atLeast: 0.995, observed: null })).toBe('≥ 99.5 %');
    expect(formatClaimExpected({ unit: 'ms', atMost: 500, observed: null })).toBe('≤ 500 ms');
    expect(formatClaimExpected({ unit: 'ms', atLeast: 4500, atMost: 6500, observed: null })).toBe(
      '4.5 s – 6.5 s',
    );
  });
});

describe('comparison claims', () => {
  it('shows a ratio to another phase as a factor and a difference in the metric unit, signed', () => {
    const ratio = { unit: 'factor', relativeTo: { phase: 'baseline' } } as const;
    expect(formatClaimObserved({ ...ratio, observed: 2.2 })).toBe('×2.2');
    expect(formatClaimExpected({ ...ratio, atMost: 0.5, observed: null })).toBe('≤ ×0.5');
    expect(describeClaimMetric({ metric: 'latencyP99Ms', relativeTo: { phase: 'baseline' } })).toBe(
      'latencyP99Ms ratio to baseline',
    );
    const difference = { unit: 'ms', relativeTo: { deployment: 'monolith', by: 'difference' } } as const;
    expect(formatClaimObserved({ ...difference, observed: 12 })).toBe('+12 ms');
    expect(formatClaimExpected({ ...difference, atLeast: 0, observed: null })).toBe('≥ 0 ms');
    expect(describeClaimMetric({ metric: 'latencyP50Ms', ...difference })).toBe(
      'latencyP50Ms minus monolith',
    );
  });
});
