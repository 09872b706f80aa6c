/**
 * Number formatting for the report. Every helper turns `null` (nothing measured) into an em dash, so a
 * missing value never reads as a zero.
 */

export const MISSING = '—';

const integerFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/**
 * A count with thousands separators.
 *
 * @example formatCount(12345) // "12,345"
 */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  return integerFormat.format(value);
}

/**
 * A duration in milliseconds, switching to seconds from one second up.
 *
 * @example formatMs(850) // "850 ms"
 * @example formatMs(5020) // "5.02 s"
 */
export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  const abs = Math.abs(value);
  if (abs === 0) return '0 ms';
  if (abs < 1) return `${value.toFixed(2)} ms`;
  if (abs < 10) return `${trimZeros(value.toFixed(1))} ms`;
  if (abs < 999.5) return `${Math.round(value)} ms`;
  return formatSeconds(value / 1000, 3);
}

/**
 * Seconds, with up to `significant` significant digits (3 by default) and never in exponent form.
 *
 * @example formatSeconds(5.0234) // "5.02 s"
 * @example formatSeconds(30) // "30 s"
 */
export function formatSeconds(value: number | null | undefined, significant = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  const abs = Math.abs(value);
  const digitsBeforePoint = abs < 1 ? 1 : Math.floor(Math.log10(abs)) + 1;
  const decimals = Math.max(0, significant - digitsBeforePoint);
  return `${trimZeros(value.toFixed(decimals))} s`;
}

/**
 * A wall-clock duration: like {@link formatMs} below a minute, minutes and seconds above.
 *
 * @example formatDuration(185_400) // "3 min 5 s"
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return MISSING;
  if (Math.abs(ms) < 60_000) return formatMs(ms);
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
}

/**
 * A ratio 0..1 as a percentage with one decimal. Values that are not exactly 0 or 1 never round to
 * "0 %" or "100 %", because a reader takes those as "nothing" and "everything".
 *
 * @example formatRate(0.973) // "97.3 %"
 * @example formatRate(0.99996) // ">99.9 %"
 */
export function formatRate(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  if (value === 1) return '100 %';
  if (value === 0) return '0 %';
  const percent = value * 100;
  if (percent > 99.9 && percent < 100) return '>99.9 %';
  if (percent > 0 && percent < 0.1) return '<0.1 %';
  return `${percent.toFixed(1)} %`;
}

/**
 * Failure counts by cause, largest first, causes with zero left out.
 *
 * @example formatFailures({ reset: 3, deadline: 42, dns: 0 }) // "deadline 42, reset 3"
 */
export function formatFailures(failures: Record<string, number>): string {
  const entries = Object.entries(failures)
    .filter(([, count]) => count > 0)
    .sort(([causeA, a], [causeB, b]) => b - a || causeA.localeCompare(causeB));
  if (entries.length === 0) return 'none';
  return entries.map(([cause, count]) => `${cause} ${formatCount(count)}`).join(', ');
}

/**
 * An ISO timestamp as `YYYY-MM-DD HH:MM:SS UTC`; anything unparsable is returned as given, so a
 * hand-edited results.json still renders.
 *
 * @example formatTimestamp('2026-11-25T12:05:03.120Z') // "2026-11-25 12:05:03 UTC"
 */
export function formatTimestamp(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** How a claim's metric should be read; the schema has no unit field, so it is inferred from the name. */
export type MetricUnit = 'ratio' | 'factor' | 'ms' | 's' | 'count';

/**
 * Infers a metric's unit from its name, the way the scenario vocabulary names them: `successRate` and
 * `causeShare:<cause>` are ratios, `*Ms` milliseconds, `*Seconds` seconds. Only the part before a `:`
 * counts, so a cause called `slowMs` does not turn a share into a duration.
 *
 * @example metricUnit('causeShare:deadline') // "ratio"
 * @example metricUnit('latencyP99Ms') // "ms"
 * @example metricUnit('latencyP99Ms ratio to baseline') // "factor"
 */
export function metricUnit(metric: string): MetricUnit {
  // A claim compared with another phase or deployment: "latencyP99Ms ratio to baseline" is a factor.
  if (metric.includes(' ratio to ')) return 'factor';
  const name = metric.split(':')[0] ?? metric;
  const segments = name.split(/[.\s/]+/).filter((segment) => segment !== '');
  if (segments.some((segment) => /(rate|share|ratio)$/i.test(segment))) return 'ratio';
  if (segments.some((segment) => /(Ms|_ms)$/.test(segment) || segment === 'ms')) return 'ms';
  if (segments.some((segment) => /(Seconds|_seconds|_s)$/.test(segment))) return 's';
  return 'count';
}

/**
 * A claim's expectation in its metric's unit when it has the shape the scenario runner writes
 * (`>= 0.95`, `<= 500`, `4500 .. 6500`); anything else is shown as written.
 *
 * @example formatExpected('successRate', '>= 0.95') // "≥ 95 %"
 * @example formatExpected('latencyP99Ms', '4500 .. 6500') // "4.50 s – 6.50 s"
 */
export function formatExpected(metric: string, expected: string): string {
  const number = String.raw`(-?\d+(?:\.\d+)?(?:e-?\d+)?)`;
  const bound = new RegExp(String.raw`^\s*(>=|<=|>|<|≥|≤)\s*${number}\s*$`, 'i').exec(expected);
  if (bound) {
    const operator = { '>=': '≥', '<=': '≤' }[bound[1] ?? ''] ?? bound[1];
    return `${operator} ${formatThreshold(metric, Number(bound[2]))}`;
  }
  const range = new RegExp(String.raw`^\s*${number}\s*\.\.\s*${number}\s*$`, 'i').exec(expected);
  if (range) {
    return `${formatThreshold(metric, Number(range[1]))} – ${formatThreshold(metric, Number(range[2]))}`;
  }
  return expected;
}

// A threshold is exact, so it keeps the digits its author wrote (0.995 is "99.5 %", not ">99.9 %").
function formatThreshold(metric: string, value: number): string {
  if (metricUnit(metric) === 'ratio') return `${trimZeros((value * 100).toFixed(3))} %`;
  return formatMetricValue(metric, value);
}

/**
 * A claim's observed value in the unit its metric name implies.
 *
 * @example formatMetricValue('successRate', 0.5) // "50.0 %"
 * @example formatMetricValue('latencyP99Ms', 5020) // "5.02 s"
 */
export function formatMetricValue(metric: string, value: number | null): string {
  switch (metricUnit(metric)) {
    case 'ratio':
      return formatRate(value);
    case 'factor':
      return value === null ? '—' : `×${trimZeros(value.toFixed(2))}`;
    case 'ms':
      return formatMs(value);
    case 's':
      return formatSeconds(value);
    case 'count':
      if (value !== null && !Number.isInteger(value)) return trimZeros(value.toFixed(3));
      return formatCount(value);
  }
}

function trimZeros(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}
