/**
 * Whether a run measured what it meant to measure: from the problems its deployments found (a fault not
 * observed, a dependency of the lab that died, a late generator, a contended machine), the run is
 * `invalid` (no verdict, exit code 3), `degraded` (a verdict, to be read with care) or `valid`.
 */
import { DEFAULTS } from '../defaults.ts';
import type { FaultEvidence, Validity, ValidityProblem } from '../results.ts';

/**
 * The run's validity from its problems: invalid as soon as one problem is, else degraded as soon as
 * one is, else valid. Pure.
 *
 * @example
 *   judgeValidity([]) // { status: 'valid', problems: [] }
 */
export function judgeValidity(problems: readonly ValidityProblem[]): Validity {
  const status = problems.some((problem) => problem.severity === 'invalid')
    ? 'invalid'
    : problems.some((problem) => problem.severity === 'degraded')
      ? 'degraded'
      : 'valid';
  return { status, problems: [...problems] };
}

/** One invalid problem for every step of the observed fault timeline that was not observed. */
export function problemsOfEvidence(
  deployment: string,
  evidence: readonly FaultEvidence[],
): ValidityProblem[] {
  return evidence
    .filter((entry) => !entry.observed)
    .map((entry) => ({
      kind: 'fault-not-observed' as const,
      severity: 'invalid' as const,
      deployment,
      phase: entry.phase,
      message:
        `${entry.action} (${entry.fault}) was not observed ${entry.step === 'apply' ? 'in effect' : 'gone'} ` +
        `after the ${entry.step} at t=${entry.plannedAtS} s (read back for ${DEFAULTS.observeTimeoutMs} ms; ` +
        `last read: ${entry.evidence})`,
    }));
}

/**
 * A problem in one line: `split/retry, storm: the generator sent requests up to 48 ms late ...`.
 *
 * @example describeProblem({ kind: 'machine-contended', severity: 'degraded', deployment: 'split', phase: 'storm', message: 'another splitlab run (pid 1234) was running on this machine' })
 */
export function describeProblem(problem: ValidityProblem): string {
  const where = [problem.deployment, problem.phase].filter(Boolean).join(', ');
  return where ? `${where}: ${problem.message}` : problem.message;
}

/**
 * The reasons to show for a validity, invalid ones first, at most `limit` of them, and how many more
 * there are.
 */
export function validityReasons(validity: Validity, limit = 5): { shown: string[]; more: number } {
  const ordered = [
    ...validity.problems.filter((problem) => problem.severity === 'invalid'),
    ...validity.problems.filter((problem) => problem.severity !== 'invalid'),
  ].filter((problem) => validity.status !== 'invalid' || problem.severity === 'invalid');
  return {
    shown: ordered.slice(0, limit).map(describeProblem),
    more: Math.max(0, ordered.length - limit),
  };
}
