/**
 * The two tests `npm run compare` uses to tell a difference from noise, pure and seeded so the same
 * runs and seed always give the same verdicts:
 *
 * - latency (median and p99): a percentile bootstrap of the difference of a percentile, resampled from
 *   each phase's histogram;
 * - success rate and each failure cause's share: a two-proportion z-test.
 *
 * docs/comparing-runs.md explains both for readers of the page.
 */
import { nearestRank, percentileOf, valueAtRank, type LatencyDistribution } from './latency-histogram.ts';

/** The confidence level of every interval and test: 95 %. */
export const CONFIDENCE = 0.95;
const Z_95 = 1.959963984540054;

/** A random source of floats in [0, 1). */
export type Random = () => number;

/**
 * A seeded generator (mulberry32 over an FNV-1a hash of the seed text): the same text gives the same
 * sequence on every machine.
 *
 * @example const random = seededRandom('splitlab|split|checkout|slow-link'); random() // 0.37...
 */
export function seededRandom(seed: string): Random {
  let state = 0x811c9dc5;
  for (let index = 0; index < seed.length; index++) {
    state ^= seed.charCodeAt(index);
    state = Math.imul(state, 0x01000193);
  }
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function standardNormal(random: Random): number {
  // Box–Muller; 1 - u keeps the logarithm away from 0.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) for shape >= 1 (Marsaglia and Tsang's method). */
function gamma(shape: number, random: Random): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = standardNormal(random);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Beta(a, b) for a, b >= 1. */
function beta(a: number, b: number, random: Random): number {
  const x = gamma(a, random);
  return x / (x + gamma(b, random));
}

/**
 * The `percentile`-th percentile of one bootstrap resample: n requests drawn with replacement from the
 * distribution, and the nearest-rank percentile of those (rank k = ⌈p/100 · n⌉, as the lab computes its
 * percentiles). Drawn exactly in one step instead of n: the k-th smallest of n uniform draws is
 * Beta(k, n - k + 1), and the resample's k-th smallest request is the request at that quantile of the
 * sorted phase. A phase of 100,000 requests costs the same as one of 40.
 */
export function resampledPercentile(
  distribution: LatencyDistribution,
  percentile: number,
  random: Random,
): number {
  const n = distribution.total;
  const k = nearestRank(percentile, n);
  const quantile = beta(k, n - k + 1, random);
  const rank = Math.min(n, Math.max(1, Math.ceil(quantile * n)));
  return valueAtRank(distribution, rank);
}

/** The median of one bootstrap resample (see resampledPercentile). */
export function resampledMedian(distribution: LatencyDistribution, random: Random): number {
  return resampledPercentile(distribution, 50, random);
}

/** What the bootstrap found about the difference of a percentile (other minus reference), in milliseconds. */
export interface PercentileDifference {
  differenceMs: number;
  lowMs: number;
  highMs: number;
  /** True when the 95 % interval contains 0. */
  withinNoise: boolean;
}

/**
 * Percentile bootstrap 95 % confidence interval of the difference of a latency percentile (other minus
 * reference), e.g. 50 for the median, 99 for p99. Null when either side has no requests.
 *
 * @example bootstrapPercentileDifference(first, second, { percentile: 99, resamples: 2000, seed: 'x' })
 */
export function bootstrapPercentileDifference(
  reference: LatencyDistribution,
  other: LatencyDistribution,
  options: { percentile: number; resamples: number; seed: string },
): PercentileDifference | null {
  const referenceValue = percentileOf(reference, options.percentile);
  const otherValue = percentileOf(other, options.percentile);
  if (referenceValue === null || otherValue === null) return null;
  const random = seededRandom(options.seed);
  const differences = new Float64Array(options.resamples);
  for (let index = 0; index < options.resamples; index++) {
    // Other first, then reference: the order every seed's intervals were made with.
    const otherResampled = resampledPercentile(other, options.percentile, random);
    differences[index] = otherResampled - resampledPercentile(reference, options.percentile, random);
  }
  differences.sort();
  const tail = (1 - CONFIDENCE) / 2;
  const at = (p: number) =>
    differences[Math.min(differences.length - 1, Math.max(0, Math.floor(p * differences.length)))] ?? 0;
  const lowMs = at(tail);
  const highMs = at(1 - tail);
  return {
    differenceMs: otherValue - referenceValue,
    lowMs,
    highMs,
    withinNoise: lowMs <= 0 && highMs >= 0,
  };
}

/**
 * Percentile bootstrap 95 % confidence interval of the difference of medians (other minus reference).
 * Null when either side has no requests.
 *
 * @example bootstrapMedianDifference(first, second, { resamples: 2000, seed: 'x' })
 */
export function bootstrapMedianDifference(
  reference: LatencyDistribution,
  other: LatencyDistribution,
  options: { resamples: number; seed: string },
): PercentileDifference | null {
  return bootstrapPercentileDifference(reference, other, { ...options, percentile: 50 });
}

/** What the two-proportion test found about `other - reference` success rates (0..1). */
export interface RateDifference {
  difference: number;
  /** 95 % Wald interval of the difference. */
  low: number;
  high: number;
  /** Two-sided p-value of the pooled z-test; 1 when both rates are 0 % or both are 100 %. */
  pValue: number;
  /** True when pValue >= 0.05. */
  withinNoise: boolean;
}

/**
 * Two-proportion z-test of two success rates (pooled standard error for the test, unpooled for the
 * interval). Null when either side has no requests.
 *
 * @example twoProportionTest({ ok: 395, total: 400 }, { ok: 300, total: 400 }).withinNoise // false
 */
export function twoProportionTest(
  reference: { ok: number; total: number },
  other: { ok: number; total: number },
): RateDifference | null {
  if (reference.total === 0 || other.total === 0) return null;
  const p1 = reference.ok / reference.total;
  const p2 = other.ok / other.total;
  const difference = p2 - p1;
  const pooled = (reference.ok + other.ok) / (reference.total + other.total);
  const pooledError = Math.sqrt(pooled * (1 - pooled) * (1 / reference.total + 1 / other.total));
  const pValue = pooledError === 0 ? 1 : 2 * (1 - normalCdf(Math.abs(difference) / pooledError));
  const error = Math.sqrt((p1 * (1 - p1)) / reference.total + (p2 * (1 - p2)) / other.total);
  return {
    difference,
    low: difference - Z_95 * error,
    high: difference + Z_95 * error,
    pValue,
    withinNoise: pValue >= 1 - CONFIDENCE,
  };
}

/** The standard normal distribution function (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const polynomial =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - polynomial * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
