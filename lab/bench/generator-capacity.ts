import { DEFAULTS } from '../defaults.ts';
import { driveLoad } from '../load/drive-load.ts';
import { summarizeLatency } from '../load/percentiles.ts';
import type { LatencySummary } from '../results.ts';
import { watchCpu, type CpuShares } from './cpu-watch.ts';

/** One step of the search: the generator at one rate for a few seconds. */
export interface RateProbe {
  ratePerSecond: number;
  /** Requests due after the warm-up: those the figures below are about. */
  due: number;
  ok: number;
  /** Requests the generator counted `generator_limit` or that failed: it did not sustain the rate. */
  notOk: number;
  scheduleLagMs: LatencySummary;
  latencyMs: LatencySummary;
  /** How busy the machine and this process were meanwhile. */
  cpu: CpuShares;
  /** Sustained: schedule lag p99 under the health threshold and every request answered 2xx. */
  passed: boolean;
}

/**
 * The open-model generator (drive-load.ts, exactly as the scenarios use it) on one route at one rate.
 * It sustains the rate when its schedule lag p99 stays under DEFAULTS.benchSustainedLagP99Ms (10 ms,
 * stricter than the scenarios' load-health check) and every request is answered 2xx, none held back by its in-flight
 * limit. The first `warmUpS` seconds are left out: each run starts with no open connection, and opening
 * them made up most of the late requests of a step at 1,500/s (64 of 81 were due in its first 100 ms). That cost is
 * real but paid once per deployment; the question here is the rate it keeps up.
 */
export async function probeOpenModelRate(
  url: string,
  ratePerSecond: number,
  options: { durationS: number; warmUpS: number; runTag: string },
): Promise<RateProbe> {
  const cpu = watchCpu();
  const all = await driveLoad({
    routes: [{ route: 'pay', url, ratePerSecond }],
    durationS: options.warmUpS + options.durationS,
    timeoutMs: 2000,
    maxInFlightPerRoute: DEFAULTS.maxInFlightPerRoute,
    runTag: options.runTag,
  }).finished;
  const cpuShares = cpu();
  const outcomes = all.filter((outcome) => outcome.dueAtS >= options.warmUpS);
  const ok = outcomes.filter((outcome) => outcome.ok).length;
  const scheduleLagMs = summarizeLatency(outcomes.map((outcome) => outcome.sendLagMs));
  return {
    ratePerSecond,
    due: outcomes.length,
    ok,
    notOk: outcomes.length - ok,
    scheduleLagMs,
    latencyMs: summarizeLatency(outcomes.map((outcome) => outcome.latencyMs)),
    cpu: cpuShares,
    passed: ok === outcomes.length && (scheduleLagMs.p99 ?? 0) < DEFAULTS.benchSustainedLagP99Ms,
  };
}

export interface RateSearch<T> {
  /** The highest rate that passed; null when none did (the bisection goes below a failing first step). */
  highest: T | null;
  steps: T[];
}

/**
 * The highest rate at which `probe` passes: doubling from `startRate` until a step fails, then bisection
 * between the last pass and the first fail until they are within `precision` of each other (a share of
 * the passing rate), rates rounded to `granularity`. Pure apart from `probe`.
 *
 * @example
 *   await highestPassingRate(async (rate) => ({ rate, passed: rate < 3000 }), { startRate: 500 })
 *   // highest.rate 2750 after 500, 1000, 2000, 4000 (fail), 3000 (fail), 2500, 2750
 */
export async function highestPassingRate<T extends { passed: boolean }>(
  probe: (ratePerSecond: number) => Promise<T>,
  options: { startRate: number; maxRate?: number; precision?: number; granularity?: number },
): Promise<RateSearch<T>> {
  const maxRate = options.maxRate ?? 256_000;
  const precision = options.precision ?? 0.1;
  const granularity = options.granularity ?? 25;
  const steps: T[] = [];
  let highest: T | null = null;
  let passedRate = 0;
  let failedRate: number | null = null;
  for (let rate = options.startRate; rate <= maxRate; rate *= 2) {
    const step = await probe(rate);
    steps.push(step);
    if (!step.passed) {
      failedRate = rate;
      break;
    }
    highest = step;
    passedRate = rate;
  }
  while (failedRate !== null && failedRate - passedRate > Math.max(granularity, precision * passedRate)) {
    const rate = Math.round((passedRate + failedRate) / 2 / granularity) * granularity;
    if (rate <= passedRate || rate >= failedRate) break;
    const step = await probe(rate);
    steps.push(step);
    if (step.passed) {
      highest = step;
      passedRate = rate;
    } else {
      failedRate = rate;
    }
  }
  return { highest, steps };
}
