import type { ClaimDefinition } from '../scenario/define-scenario.ts';
import { CLAIM_METRICS, claimUnit, parseClaimMetric, type ClaimUnit } from '../vocabulary/claim-metrics.ts';

/**
 * How a prediction of one claim is asked for and typed. A prediction is stored in the claim's own unit
 * (the unit its atLeast/atMost are written in: a ratio is 0..1); at the terminal it is typed in the unit
 * the prompt shows, which for a ratio is a percentage: "80" and "80 %" both mean 0.8.
 */
export interface PredictionUnit {
  unit: ClaimUnit;
  /** The claim compares by difference: the value may be negative, a ratio is in percentage points. */
  difference: boolean;
  /** What the prompt shows after the question, e.g. `%`, `ms`, `× (a multiple)`. */
  shown: string;
  /** An example answer in the shown unit, for the prompt and for messages. */
  example: string;
}

/** The unit of a claim as its bounds and its observed value are written. */
export function claimUnitOf(claim: Pick<ClaimDefinition, 'metric' | 'relativeTo'>): ClaimUnit {
  const metric = parseClaimMetric(claim.metric);
  // Scenarios are validated when they are loaded, so an unparsable metric is a bug in the lab.
  if (typeof metric === 'string') throw new Error(`bug: unvalidated claim metric: ${metric}`);
  return claimUnit(metric, claim.relativeTo);
}

/**
 * How a prediction of this claim is typed.
 *
 * @example predictionUnitOf({ metric: 'successRate' }).shown // '%'
 */
export function predictionUnitOf(claim: Pick<ClaimDefinition, 'metric' | 'relativeTo'>): PredictionUnit {
  const unit = claimUnitOf(claim);
  const difference = claim.relativeTo?.by === 'difference';
  const shown = {
    ratio: difference ? 'percentage points' : '%',
    factor: '× (a multiple)',
    ms: 'ms',
    s: 's',
    count: 'a count',
    perSecond: 'per second',
  }[unit];
  const example = {
    ratio: difference ? '-20' : '80',
    factor: '2',
    ms: '250',
    s: '3',
    count: '0',
    perSecond: '40',
  }[unit];
  return { unit, difference, shown, example };
}

/** Suffixes a typed answer may carry, and what each multiplies the number by to reach the shown unit. */
const SUFFIXES: Record<ClaimUnit, Record<string, number>> = {
  ratio: { '%': 1, points: 1, point: 1, pp: 1 },
  factor: { x: 1, '×': 1 },
  // A latency is often thought of in seconds: "5 s" for a 5000 ms deadline is accepted too.
  ms: { ms: 1, s: 1000 },
  s: { s: 1, ms: 0.001 },
  count: {},
  perSecond: { '/s': 1 },
};

/**
 * Reads an answer typed at the prompt, in the unit the prompt shows, into the claim's unit. A ratio is
 * typed as a percentage: "80", "80%" and "80 %" are all 0.8 (and "0.8" is 0.8 %, i.e. 0.008). A factor
 * may be written "2", "2x" or "×2"; a latency in ms may be written "5 s". Returns a problem in words when
 * the answer is not a number the claim can have.
 *
 * @example parsePredictionAnswer('80%', predictionUnitOf({ metric: 'successRate' })) // 0.8
 * @example parsePredictionAnswer('fast', predictionUnitOf({ metric: 'latencyP99Ms' })) // { problem: '...' }
 */
export function parsePredictionAnswer(text: string, unit: PredictionUnit): number | { problem: string } {
  const match = /^([×x])?\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([^\d\s].*)?$/i.exec(
    text.trim().replaceAll(',', ''),
  );
  const suffixes = SUFFIXES[unit.unit];
  const prefix = match?.[1];
  const suffix = match?.[3]?.trim().toLowerCase();
  const multiplier =
    suffix === undefined ? 1 : Object.hasOwn(suffixes, suffix) ? suffixes[suffix] : undefined;
  const prefixAllowed = prefix === undefined || unit.unit === 'factor';
  const typed = Number(match?.[2]);
  if (!match || multiplier === undefined || !prefixAllowed || !Number.isFinite(typed)) {
    return { problem: `"${text.trim()}" is not a number in ${unit.shown}; e.g. ${unit.example}` };
  }
  const shownValue = typed * multiplier;
  if (unit.unit === 'ratio') {
    const low = unit.difference ? -100 : 0;
    if (shownValue < low || shownValue > 100)
      return {
        problem: unit.difference
          ? `${typed} is not a difference of two percentages; use -100 to 100 (e.g. ${unit.example})`
          : `${typed} % is not a share; use 0 to 100 (e.g. ${unit.example} for ${unit.example} %)`,
      };
    return shownValue / 100;
  }
  if (!unit.difference && shownValue < 0)
    return { problem: `${typed} is negative; this metric cannot be (e.g. ${unit.example})` };
  return shownValue;
}

/**
 * The claim's metric in words: what it measures, where, and what it is compared with.
 *
 * @example
 *   describeClaimInWords({ deployment: 'split', route: 'pay', phase: 'cut', metric: 'successRate' })
 *   // 'successRate of pay in split during cut: ok / completed among the requests of the route due in the phase'
 */
export function describeClaimInWords(
  claim: Pick<ClaimDefinition, 'metric' | 'relativeTo' | 'deployment' | 'route' | 'phase'>,
): string {
  const metric = parseClaimMetric(claim.metric);
  const measures = typeof metric === 'string' ? '' : `: ${CLAIM_METRICS[metric.family].measures}`;
  const where = `${claim.metric} of ${claim.route} in ${claim.deployment} during ${claim.phase}${measures}`;
  if (!claim.relativeTo) return where;
  const other = [
    claim.relativeTo.deployment ?? claim.deployment,
    `during ${claim.relativeTo.phase ?? claim.phase}`,
  ].join(' ');
  return claim.relativeTo.by === 'difference'
    ? `${where}; minus the same in ${other}`
    : `${where}; divided by the same in ${other}`;
}
