/**
 * Reading `PhaseSummary.latencyHistogram` back (written by `encodeLatencyHistogram` in
 * lab/load/aggregate.ts): the distinct latencies of a phase with how many requests had each.
 */
import hdr from 'hdr-histogram-js';
import type { JsHistogram } from 'hdr-histogram-js';
import { LabError } from '../errors.ts';

/** Latencies in milliseconds, ascending, each with its count: a whole phase in a few hundred entries. */
export interface LatencyDistribution {
  valuesMs: number[];
  counts: number[];
  /** Running total of `counts`: `cumulative[i]` requests had a latency of `valuesMs[i]` or less. */
  cumulative: number[];
  total: number;
}

/**
 * Decodes a compressed base64 HDR histogram of microseconds into milliseconds. Each bucket stands for
 * its middle value (within 0.1 % of every latency in it, at 3 significant digits).
 *
 * @example decodeLatencyHistogram(phase.latencyHistogram, 'reports/x/results.json').total // 400
 */
export function decodeLatencyHistogram(encoded: string, source: string): LatencyDistribution {
  let histogram: JsHistogram;
  try {
    // Not WebAssembly: the JavaScript histogram has the iterator this reads with.
    histogram = hdr.decodeFromCompressedBase64(encoded, 32, false) as JsHistogram;
  } catch (error) {
    throw new LabError(
      'REPORT_RESULTS_INVALID',
      `${source} has a latencyHistogram that cannot be decoded (${(error as Error).message}); ` +
        'the file was changed by hand or cut short: re-run the scenario, or delete the field to compare ' +
        'without the noise test',
      { cause: error },
    );
  }
  try {
    const valuesMs: number[] = [];
    const counts: number[] = [];
    const cumulative: number[] = [];
    let total = 0;
    const iterator = histogram.recordedValuesIterator;
    iterator.reset();
    while (iterator.hasNext()) {
      const step = iterator.next();
      const count = step.countAtValueIteratedTo;
      if (count <= 0) continue;
      total += count;
      valuesMs.push(histogram.medianEquivalentValue(step.valueIteratedTo) / 1000);
      counts.push(count);
      cumulative.push(total);
    }
    return { valuesMs, counts, cumulative, total };
  } finally {
    histogram.destroy();
  }
}

/**
 * The value of the `rank`-th smallest request (1-based) of the distribution.
 *
 * @example valueAtRank(distribution, Math.ceil(distribution.total / 2)) // the median, in ms
 */
export function valueAtRank(distribution: LatencyDistribution, rank: number): number {
  const { cumulative, valuesMs } = distribution;
  let low = 0;
  let high = cumulative.length - 1;
  // The first entry whose running total reaches the rank.
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((cumulative[middle] ?? 0) >= rank) high = middle;
    else low = middle + 1;
  }
  return valuesMs[low] ?? Number.NaN;
}

/**
 * The rank (1-based) of the nearest-rank `percentile` of n requests, as lab/load/percentiles.ts picks
 * it: ⌈p/100 · n⌉, at least 1.
 *
 * @example nearestRank(99, 400) // 396
 */
export function nearestRank(percentile: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil((percentile / 100) * n)));
}

/**
 * Nearest-rank percentile, as lab/load/percentiles.ts computes p50 and p99 from the raw latencies.
 *
 * @example percentileOf(distribution, 99) // 412.5
 */
export function percentileOf(distribution: LatencyDistribution, percentile: number): number | null {
  if (distribution.total === 0) return null;
  return valueAtRank(distribution, nearestRank(percentile, distribution.total));
}

/**
 * Nearest-rank median.
 *
 * @example medianOf(distribution) // 187.3
 */
export function medianOf(distribution: LatencyDistribution): number | null {
  return percentileOf(distribution, 50);
}
