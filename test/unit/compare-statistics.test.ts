/**
 * The statistics of `npm run compare`: the one-step bootstrap median and p99 against plain resampling,
 * the intervals' coverage, and the two-proportion test.
 */
import { describe, expect, it } from 'vitest';
import { P99_MIN_REQUESTS } from '../../lab/compare/build-comparison.ts';
import { percentileOf, type LatencyDistribution } from '../../lab/compare/latency-histogram.ts';
import {
  bootstrapMedianDifference,
  bootstrapPercentileDifference,
  normalCdf,
  resampledMedian,
  resampledPercentile,
  seededRandom,
  twoProportionTest,
  type Random,
} from '../../lab/compare/statistics.ts';
import { percentile } from '../../lab/load/percentiles.ts';

function distributionOf(values: readonly number[]): LatencyDistribution {
  const sorted = [...values].sort((a, b) => a - b);
  const valuesMs: number[] = [];
  const counts: number[] = [];
  for (const value of sorted) {
    if (valuesMs.at(-1) === value) counts[counts.length - 1] = (counts.at(-1) ?? 0) + 1;
    else {
      valuesMs.push(value);
      counts.push(1);
    }
  }
  let total = 0;
  const cumulative = counts.map((count) => (total += count));
  return { valuesMs, counts, cumulative, total };
}

/** The textbook way: draw n values with replacement, sort, take the nearest-rank percentile. */
function naiveResampledPercentile(values: readonly number[], p: number, random: Random): number {
  // A typed array sorts numerically and fast.
  const draw = Float64Array.from(
    { length: values.length },
    () => values[Math.floor(random() * values.length)] ?? 0,
  );
  draw.sort();
  return draw[Math.ceil((p / 100) * values.length) - 1] ?? 0;
}

function naiveResampledMedian(values: readonly number[], random: Random): number {
  return naiveResampledPercentile(values, 50, random);
}

function totalVariation(one: Map<number, number>, other: Map<number, number>): number {
  let sum = 0;
  for (const value of new Set([...one.keys(), ...other.keys()])) {
    sum += Math.abs((one.get(value) ?? 0) - (other.get(value) ?? 0)) / 2;
  }
  return sum;
}

function frequencies(draws: number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const value of draws) counts.set(value, (counts.get(value) ?? 0) + 1 / draws.length);
  return counts;
}

function lognormalSample(count: number, medianMs: number, random: Random): number[] {
  return Array.from({ length: count }, () => {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.round(medianMs * Math.exp(0.4 * normal) * 10) / 10;
  });
}

describe('the one-step resampled median', () => {
  it('has the distribution of the median of n values drawn with replacement', () => {
    // Small and with repeats, where an off-by-one rank would show: 15 requests, 11 distinct values.
    const values = [3, 5, 5, 7, 8, 8, 9, 12, 13, 13, 14, 20, 21, 30, 30];
    const distribution = distributionOf(values);
    const draws = 50_000;
    const fast = seededRandom('fast');
    const slow = seededRandom('slow');
    const oneStep = frequencies(Array.from({ length: draws }, () => resampledMedian(distribution, fast)));
    const naive = frequencies(Array.from({ length: draws }, () => naiveResampledMedian(values, slow)));
    // Sampling noise alone is about 0.01 at 50,000 draws; a rank off by one moves about 0.2.
    expect(totalVariation(oneStep, naive)).toBeLessThan(0.03);
  });
});

describe('the one-step resampled p99', () => {
  it('has the distribution of the p99 of n values drawn with replacement', () => {
    // 150 requests with repeats (0.1 ms steps): the p99 is the 149th, the slow end where ranks are sparse.
    const values = lognormalSample(150, 20, seededRandom('p99 sample'));
    const distribution = distributionOf(values);
    const draws = 30_000;
    const fast = seededRandom('fast p99');
    const slow = seededRandom('slow p99');
    const oneStep = frequencies(
      Array.from({ length: draws }, () => resampledPercentile(distribution, 99, fast)),
    );
    const naive = frequencies(
      Array.from({ length: draws }, () => naiveResampledPercentile(values, 99, slow)),
    );
    // Sampling noise alone is about 0.015 at 30,000 draws.
    expect(totalVariation(oneStep, naive)).toBeLessThan(0.04);
    // The 148th instead of the 149th would be far off: the check can tell ranks apart.
    const offByOne = frequencies(
      Array.from({ length: draws }, () => resampledPercentile(distribution, 98.5, fast)),
    );
    expect(totalVariation(offByOne, naive)).toBeGreaterThan(0.1);
  });

  it('picks the rank the lab picks for its recorded percentiles', () => {
    for (let n = 1; n <= 1000; n++) {
      const values = Array.from({ length: n }, (_, index) => index + 1);
      const distribution = distributionOf(values);
      for (const p of [50, 99]) expect(percentileOf(distribution, p)).toBe(percentile(values, p));
    }
  });
});

describe('the bootstrap interval of a difference of medians', () => {
  it('contains 0 for about 95 % of pairs of samples from the same distribution', () => {
    const random = seededRandom('coverage');
    const pairs = 300;
    let within = 0;
    for (let pair = 0; pair < pairs; pair++) {
      const a = distributionOf(lognormalSample(120, 20, random));
      const b = distributionOf(lognormalSample(120, 20, random));
      if (bootstrapMedianDifference(a, b, { resamples: 1000, seed: `pair ${pair}` })?.withinNoise)
        within += 1;
    }
    // 95 % nominal; the binomial spread over 300 pairs is about 1.3 %, and a percentile bootstrap of
    // medians runs slightly wide or narrow on 120 requests.
    expect(within / pairs).toBeGreaterThan(0.9);
    expect(within / pairs).toBeLessThan(0.99);
  });

  it(`of p99s contains 0 for about 95 % of pairs from the same distribution at ${P99_MIN_REQUESTS} requests`, () => {
    // The fewest requests a p99 is tested with; below it the slowest request is the p99 and the interval
    // runs narrow (12–14 % of pairs beyond the noise at 40 and 80 requests).
    const random = seededRandom('p99 coverage');
    const pairs = 300;
    let within = 0;
    for (let pair = 0; pair < pairs; pair++) {
      const a = distributionOf(lognormalSample(P99_MIN_REQUESTS, 20, random));
      const b = distributionOf(lognormalSample(P99_MIN_REQUESTS, 20, random));
      const found = bootstrapPercentileDifference(a, b, {
        percentile: 99,
        resamples: 1000,
        seed: `p99 ${pair}`,
      });
      if (found?.withinNoise) within += 1;
    }
    expect(within / pairs).toBeGreaterThan(0.9);
    expect(within / pairs).toBeLessThan(0.99);
  });

  it('is null without requests on either side', () => {
    const empty = distributionOf([]);
    expect(
      bootstrapMedianDifference(empty, distributionOf([1, 2]), { resamples: 100, seed: 'x' }),
    ).toBeNull();
  });
});

describe('the two-proportion test', () => {
  it('tells a real drop in success rate from noise', () => {
    expect(twoProportionTest({ ok: 400, total: 400 }, { ok: 300, total: 400 })).toMatchObject({
      difference: -0.25,
      withinNoise: false,
    });
    const close = twoProportionTest({ ok: 398, total: 400 }, { ok: 396, total: 400 });
    expect(close?.withinNoise).toBe(true);
    expect(close?.low).toBeLessThan(0);
    expect(close?.high).toBeGreaterThan(0);
  });

  it('matches a textbook example: 45/100 vs 60/100 gives p = 0.034', () => {
    // z = 0.15 / sqrt(0.525 * 0.475 * 0.02) = 2.124.
    expect(twoProportionTest({ ok: 45, total: 100 }, { ok: 60, total: 100 })?.pValue).toBeCloseTo(0.0337, 3);
  });

  it('has nothing to test when both rates are 0 % or 100 %, or a side has no requests', () => {
    expect(twoProportionTest({ ok: 0, total: 40 }, { ok: 0, total: 60 })).toMatchObject({
      pValue: 1,
      withinNoise: true,
    });
    expect(twoProportionTest({ ok: 0, total: 0 }, { ok: 5, total: 5 })).toBeNull();
  });

  it('uses the standard normal distribution', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 5);
  });
});
