import type { ClaimResult, RunResults } from '../results.ts';
import { validityReasons } from '../scenario/judge-validity.ts';
import { formatClaimExpected, formatClaimObserved } from '../report/format.ts';

/** One scenario run as the CI outputs see it: its results and where its report is. */
export interface CiRun {
  results: RunResults;
  /** The report's index.html, as the reader should see the path (relative to the job's folder). */
  reportPath: string;
}

export type RunVerdict = 'held' | 'failed' | 'invalid';

/** Invalid beats everything: an invalid run has no verdict on its claims. */
export function runVerdict(results: RunResults): RunVerdict {
  if (results.validity?.status === 'invalid') return 'invalid';
  return results.hypothesis.held ? 'held' : 'failed';
}

/** Why the run is invalid or degraded, one sentence each; empty for a valid run. */
export function validityWarnings(results: RunResults): string[] {
  if (!results.validity || results.validity.status === 'valid') return [];
  const { shown, more } = validityReasons(results.validity, 10);
  return more > 0 ? [...shown, `and ${more} more (see the report)`] : shown;
}

/**
 * A claim's outcome in one line: what was observed and what was expected.
 *
 * @example claimOutcome(claim) // 'observed 2.01 s, expected ≤ 500 ms'
 */
export function claimOutcome(claim: ClaimResult): string {
  const observed = claim.observed === null ? 'nothing measured' : formatClaimObserved(claim);
  return `observed ${observed}, expected ${formatClaimExpected(claim)}`;
}

/** How long the claim's phase lasted, in seconds: what a claim "took" on the timeline. */
export function claimPhaseSeconds(results: RunResults, claim: ClaimResult): number {
  const phase = results.phases.find((window) => window.name === claim.phase);
  return phase ? Math.max(0, phase.endS - phase.startS) : 0;
}
