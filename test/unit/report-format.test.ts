import { describe, expect, it } from 'vitest';
import {
  formatCount,
  formatDuration,
  formatExpected,
  formatFailures,
  formatMetricValue,
  formatMs,
  formatRate,
  formatSeconds,
  formatTimestamp,
  metricUnit,
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

describe('claim metrics', () => {
  it('infers the unit from the metric vocabulary', () => {
    expect(metricUnit('successRate')).toBe('ratio');
    expect(metricUnit('causeShare:deadline')).toBe('ratio');
    expect(metricUnit('causeShare:slowMs')).toBe('ratio');
    expect(metricUnit('latencyP99Ms')).toBe('ms');
    expect(metricUnit('failureLatencyP50Ms')).toBe('ms');
    expect(metricUnit('recoverySeconds')).toBe('s');
    expect(metricUnit('orphanUsers')).toBe('count');
  });

  it('formats observed values in that unit', () => {
    expect(formatMetricValue('successRate', 0.973)).toBe('97.3 %');
    expect(formatMetricValue('latencyP99Ms', 5020)).toBe('5.02 s');
    expect(formatMetricValue('recoverySeconds', 3)).toBe('3 s');
    expect(formatMetricValue('orphanUsers', 1234)).toBe('1,234');
    expect(formatMetricValue('successRate', null)).toBe('—');
  });

  it('formats expectations written by the scenario runner, and leaves others alone', () => {
    expect(formatExpected('successRate', '>= 0.95')).toBe('≥ 95 %');
    expect(formatExpected('successRate', '>= 0.995')).toBe('≥ 99.5 %');
    expect(formatExpected('latencyP99Ms', '<= 500')).toBe('≤ 500 ms');
    expect(formatExpected('latencyP99Ms', '4500 .. 6500')).toBe('4.5 s – 6.5 s');
    expect(formatExpected('latencyP99Ms', 'about two seconds')).toBe('about two seconds');
  });
});

describe('comparison claims', () => {
  it('shows a ratio to another phase as a factor and a difference in the metric unit', () => {
    expect(metricUnit('latencyP99Ms ratio to baseline')).toBe('factor');
    expect(formatMetricValue('latencyP99Ms ratio to baseline', 2.2)).toBe('×2.2');
    expect(formatExpected('latencyP99Ms ratio to monolith', '<= 0.5')).toBe('≤ ×0.5');
    expect(metricUnit('latencyP99Ms minus baseline')).toBe('ms');
  });
});
