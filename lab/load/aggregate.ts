import hdr from 'hdr-histogram-js';
import type { OutcomeCounts, PhaseSummary, PhaseWindow, SecondSample } from '../results.ts';
import type { RouteName } from '../vocabulary/topology.ts';
import { onMillisecondGrid } from './due-times.ts';
import type { RequestOutcome } from './outcome.ts';
import { summarizeLatency } from './percentiles.ts';

/** Counts, failures by cause and latency of a set of outcomes. */
export function countOutcomes(outcomes: readonly RequestOutcome[]): OutcomeCounts {
  const failures: Record<string, number> = {};
  let ok = 0;
  const failureLatencies: number[] = [];
  for (const outcome of outcomes) {
    if (outcome.ok) {
      ok += 1;
    } else {
      failures[outcome.cause] = (failures[outcome.cause] ?? 0) + 1;
      failureLatencies.push(outcome.latencyMs);
    }
  }
  return {
    completed: outcomes.length,
    ok,
    failures,
    latencyMs: summarizeLatency(outcomes.map((outcome) => outcome.latencyMs)),
    failureLatencyMs: summarizeLatency(failureLatencies),
  };
}

/** Significant digits of the latency histograms: 3 keeps every value within 0.1 % of what was measured. */
export const LATENCY_HISTOGRAM_DIGITS = 3;

/**
 * Every latency of the outcomes that were sent, in microseconds, as an HDR histogram compressed and
 * base64-encoded (`PhaseSummary.latencyHistogram`). `generator_limit` outcomes were never sent, so
 * their latency of 0 would only drag the distribution down.
 *
 * @example decodeLatencyHistogram(encodeLatencyHistogram(outcomes), 'results.json').total // requests sent
 */
export function encodeLatencyHistogram(outcomes: readonly RequestOutcome[]): string {
  const histogram = hdr.build({ numberOfSignificantValueDigits: LATENCY_HISTOGRAM_DIGITS });
  try {
    for (const outcome of outcomes) {
      if (outcome.cause === 'generator_limit') continue;
      histogram.recordValue(Math.max(0, Math.round(outcome.latencyMs * 1000)));
    }
    return hdr.encodeIntoCompressedBase64(histogram);
  } finally {
    histogram.destroy();
  }
}

/**
 * One sample per second of the timeline, by the second each request was due: a request sent at t that
 * hung for 5 s shows up at t with 5000 ms, right under the fault window that caused it.
 */
export function perSecond(outcomes: readonly RequestOutcome[], durationS: number): SecondSample[] {
  const buckets: RequestOutcome[][] = Array.from({ length: Math.ceil(durationS) }, () => []);
  for (const outcome of outcomes) {
    const index = Math.min(buckets.length - 1, Math.max(0, Math.floor(outcome.dueAtS)));
    buckets[index]?.push(outcome);
  }
  return buckets.map((bucket, t) => ({ t, ...countOutcomes(bucket) }));
}

/**
 * Summary per phase, by the phase in which each request was due (start inclusive, end exclusive).
 * Exact at the boundaries: the generator's `dueAtS` is the double nearest to the exact due time and the
 * boundaries are put on the same 1 ms grid, so a request due exactly at a boundary lands in the later
 * phase (see due-times.ts for why the comparison of the doubles is exact).
 */
export function perPhase(
  outcomes: readonly RequestOutcome[],
  phases: readonly PhaseWindow[],
): PhaseSummary[] {
  return phases.map((phase) => {
    const inPhase = outcomesDueIn(outcomes, phase);
    const counts = countOutcomes(inPhase);
    const failedAtS = inPhase
      .filter((outcome) => !outcome.ok)
      .map((outcome) => outcome.dueAtS + outcome.latencyMs / 1000 - phase.startS);
    return {
      phase: phase.name,
      successRate: counts.completed ? counts.ok / counts.completed : null,
      firstFailureAfterS: failedAtS.length ? Math.round(Math.min(...failedAtS) * 100) / 100 : null,
      ...counts,
      latencyHistogram: encodeLatencyHistogram(inPhase),
    };
  });
}

/** The outcomes of the requests due in a phase: start inclusive, end exclusive, on the 1 ms grid. */
export function outcomesDueIn(
  outcomes: readonly RequestOutcome[],
  phase: Pick<PhaseWindow, 'startS' | 'endS'>,
): RequestOutcome[] {
  const startS = onMillisecondGrid(phase.startS);
  const endS = onMillisecondGrid(phase.endS);
  return outcomes.filter((outcome) => outcome.dueAtS >= startS && outcome.dueAtS < endS);
}

/**
 * Seconds from `healAtS` until the first second that begins a run of `stableSeconds` seconds in which
 * every request succeeded (at least `threshold` of them). Null when the route never recovered.
 */
export function recoverySeconds(
  seconds: readonly SecondSample[],
  healAtS: number,
  options: { threshold?: number; stableSeconds?: number } = {},
): number | null {
  const threshold = options.threshold ?? 0.95;
  const stable = options.stableSeconds ?? 3;
  const healthy = (sample: SecondSample | undefined): boolean =>
    sample !== undefined && sample.completed > 0 && sample.ok / sample.completed >= threshold;
  const first = Math.ceil(healAtS);
  for (let t = first; t + stable <= seconds.length; t++) {
    let run = true;
    for (let k = 0; k < stable; k++) run &&= healthy(seconds[t + k]);
    if (run) return t - healAtS;
  }
  return null;
}

export function outcomesOf(outcomes: readonly RequestOutcome[], route: RouteName): RequestOutcome[] {
  return outcomes.filter((outcome) => outcome.route === route);
}

/**
 * Every outcome of the run pooled into one summary (phase `whole run`): what a benchmark that reports one
 * p99 for the whole run would say, and where a closed model hides a stall (coordinated omission).
 */
export function wholeRunSummary(outcomes: readonly RequestOutcome[], durationS: number): PhaseSummary {
  const [summary] = perPhase(outcomes, [{ name: 'whole run', startS: 0, endS: durationS }]);
  if (!summary) throw new Error('bug: perPhase returned no summary for one window');
  return summary;
}
