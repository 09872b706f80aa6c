/**
 * When each request of a load stream is due, in exact arithmetic.
 *
 * Why: due times used to be `start + k * (1000 / rate)` in floating point, so a request due exactly at a
 * phase boundary could come out a hair before it and be counted in the earlier phase (measured in a
 * `latency` run: 80 / 161 / 79 requests where 80 / 160 / 80 were due at 8/s over 10 / 20 / 10 s).
 *
 * How: a stream's start and end are put on a 1 ms grid and its rate on a 0.001/s grid, all as integers.
 * Request k is then due at the exact rational
 *
 *   fromMs / 1000 + k / (rateMilli / 1000)  =  (fromMs * rateMilli + 1e6 * k) / (1000 * rateMilli)  seconds,
 *
 * and `dueTimeS` returns it as ONE division of two integers below 2^53, which IEEE 754 rounds correctly:
 * the double nearest to the exact value. A phase boundary on the 1 ms grid is likewise the double nearest
 * to its exact value (`onMillisecondGrid`). Rounding to nearest is monotonic, so comparing the two doubles
 * gives the same answer as comparing the exact values unless two different values round to the same
 * double; they cannot, because a due time that is not on a boundary is at least 1 / (1000 * rateMilli) s
 * (>= 1e-9 s at 1000/s) from it, while doubles below 1e5 s are 1.5e-11 s apart. So a request due exactly
 * at a boundary compares equal to it, and `dueAtS >= startS && dueAtS < endS` buckets it exactly.
 * Counting per window (`dueCountInWindow`) needs no doubles at all: it compares integers.
 */
import { LabError } from '../errors.ts';

/** The exact schedule of one stream: integers on a 1 ms grid (times) and a 0.001/s grid (rate). */
export interface StreamSchedule {
  fromMs: number;
  /** Exclusive: the last request is due before this. */
  endMs: number;
  /** Requests per 1000 s: the rate in thousandths of a request per second. */
  rateMilli: number;
  /** How many requests the stream sends in all: those due in [fromMs, endMs). */
  count: number;
}

const MICRO = 1_000_000;

/** Seconds on the lab's 1 ms grid, as the double nearest to that exact decimal. */
export function onMillisecondGrid(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** ceil(numerator / denominator) for integers, without a floating-point division. */
function ceilDivide(numerator: number, denominator: number): number {
  const quotient = (numerator - (numerator % denominator)) / denominator;
  return numerator % denominator > 0 ? quotient + 1 : quotient;
}

/**
 * The schedule of a stream that runs from `fromS` (default 0) until `untilS` or the end of the run,
 * whichever comes first, at `ratePerSecond`.
 *
 * @example
 *   streamSchedule({ ratePerSecond: 8 }, 40).count // 320
 */
export function streamSchedule(
  load: { ratePerSecond: number; fromS?: number; untilS?: number },
  durationS: number,
): StreamSchedule {
  const fromMs = Math.round((load.fromS ?? 0) * 1000);
  const endMs = Math.round(Math.min(durationS, load.untilS ?? Infinity) * 1000);
  const rateMilli = Math.max(0, Math.round(load.ratePerSecond * 1000));
  const span = Math.max(0, endMs - fromMs) * rateMilli;
  if (!Number.isSafeInteger(span) || !Number.isSafeInteger(fromMs * rateMilli + span)) {
    throw new LabError(
      'USAGE',
      `a load stream of ${load.ratePerSecond}/s for ${durationS} s is too large to schedule exactly; ` +
        'use a shorter run or a lower rate',
    );
  }
  return { fromMs, endMs, rateMilli, count: rateMilli > 0 ? ceilDivide(span, MICRO) : 0 };
}

/** Seconds from t = 0 at which request `k` (0-based) of the stream is due: the exact value, rounded once. */
export function dueTimeS(schedule: StreamSchedule, k: number): number {
  return (schedule.fromMs * schedule.rateMilli + MICRO * k) / (1000 * schedule.rateMilli);
}

/** The index of the first request due at or after `atMs` (may be `count`: none is). */
function firstDueAtOrAfter(schedule: StreamSchedule, atMs: number): number {
  if (schedule.rateMilli === 0) return 0;
  // k is due at or after atMs  <=>  1e6 * k >= (atMs - fromMs) * rateMilli
  const first = ceilDivide(Math.max(0, atMs - schedule.fromMs) * schedule.rateMilli, MICRO);
  return Math.min(schedule.count, first);
}

/**
 * How many requests of the stream are due in [startS, endS) of the timeline, in integers: what a phase
 * should count when every request was sent.
 *
 * @example
 *   dueCountInWindow(streamSchedule({ ratePerSecond: 8 }, 40), 10, 30) // 160
 */
export function dueCountInWindow(schedule: StreamSchedule, startS: number, endS: number): number {
  const startMs = Math.round(startS * 1000);
  const endMs = Math.round(endS * 1000);
  if (endMs <= startMs) return 0;
  return firstDueAtOrAfter(schedule, endMs) - firstDueAtOrAfter(schedule, startMs);
}
