/**
 * Number formatting for the report. Every helper turns `null` (nothing measured) into an em dash, so a
 * missing value never reads as a zero.
 */

import type { ClaimResult } from '../results.ts';
import type { ClaimUnit } from '../vocabulary/claim-metrics.ts';

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

/**
 * A value in a claim unit (see lab/vocabulary/claim-metrics.ts). A difference (`signed`) shows its sign.
 *
 * @example formatUnitValue('ratio', 0.5) // "50.0 %"
 * @example formatUnitValue('ms', 5020) // "5.02 s"
 * @example formatUnitValue('factor', 2.2) // "×2.2"
 */
export function formatUnitValue(unit: ClaimUnit, value: number | null, signed = false): string {
  if (value === null || !Number.isFinite(value)) return MISSING;
  const sign = signed && value > 0 ? '+' : '';
  switch (unit) {
    case 'ratio':
      return signed ? `${sign}${trimZeros((value * 100).toFixed(1))} points` : formatRate(value);
    case 'factor':
      return `×${trimZeros(value.toFixed(2))}`;
    case 'ms':
      return `${sign}${formatMs(value)}`;
    case 's':
      return `${sign}${formatSeconds(value)}`;
    case 'perSecond':
      return `${sign}${trimZeros(value.toFixed(1))}/s`;
    case 'count':
      if (!Number.isInteger(value)) return `${sign}${trimZeros(value.toFixed(3))}`;
      return `${sign}${formatCount(value)}`;
  }
}

type FormattedClaim = Pick<ClaimResult, 'unit' | 'relativeTo' | 'atLeast' | 'atMost' | 'observed'>;

const isDifference = (claim: FormattedClaim): boolean => claim.relativeTo?.by === 'difference';

/**
 * A claim's observed value in its unit.
 *
 * @example formatClaimObserved({ unit: 'ratio', observed: 0.973 }) // "97.3 %"
 */
export function formatClaimObserved(claim: FormattedClaim): string {
  return formatUnitValue(claim.unit, claim.observed, isDifference(claim));
}

// A threshold is exact, so it keeps the digits its author wrote (0.995 is "99.5 %", not ">99.9 %").
function formatThreshold(claim: FormattedClaim, value: number): string {
  if (claim.unit === 'ratio' && !isDifference(claim)) return `${trimZeros((value * 100).toFixed(3))} %`;
  return formatUnitValue(claim.unit, value, isDifference(claim));
}

/**
 * A claim's tolerance in its unit.
 *
 * @example formatClaimExpected({ unit: 'ratio', atLeast: 0.95 }) // "≥ 95 %"
 * @example formatClaimExpected({ unit: 'ms', atLeast: 4500, atMost: 6500 }) // "4.5 s – 6.5 s"
 */
export function formatClaimExpected(claim: FormattedClaim): string {
  const { atLeast, atMost } = claim;
  if (atLeast !== undefined && atMost !== undefined)
    return `${formatThreshold(claim, atLeast)} – ${formatThreshold(claim, atMost)}`;
  if (atLeast !== undefined) return `≥ ${formatThreshold(claim, atLeast)}`;
  if (atMost !== undefined) return `≤ ${formatThreshold(claim, atMost)}`;
  return MISSING;
}

/**
 * The claim's metric in words, with its comparison.
 *
 * @example describeClaimMetric({ metric: 'latencyP99Ms', relativeTo: { phase: 'baseline' } }) // "latencyP99Ms ratio to baseline"
 */
export function describeClaimMetric(claim: Pick<ClaimResult, 'metric' | 'relativeTo'>): string {
  if (!claim.relativeTo) return claim.metric;
  const to = [claim.relativeTo.deployment, claim.relativeTo.phase].filter(Boolean).join(' ');
  return claim.relativeTo.by === 'difference'
    ? `${claim.metric} minus ${to}`
    : `${claim.metric} ratio to ${to}`;
}

function trimZeros(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}
