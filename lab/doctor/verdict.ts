import type { CheckResult } from './check.ts';

/** Doctor's exit codes: 0 a local run will work (Docker is optional), 1 it will not, 2 a usage error. */
export const EXIT_READY = 0;
export const EXIT_NOT_READY = 1;

export interface Verdict {
  /** Every required check passed: `npm run scenario` on the local runtime will work. */
  ready: boolean;
  exitCode: typeof EXIT_READY | typeof EXIT_NOT_READY;
  /** Names of the checks behind each count, in checklist order. */
  requiredMissing: string[];
  optionalMissing: string[];
  caveats: string[];
}

/**
 * Ready when no required check is missing; optional misses (Docker, chromium) and caveats (no CPU
 * pinning) leave a local run possible.
 *
 * @example judgeVerdict(results).exitCode // 0 or 1
 */
export function judgeVerdict(results: readonly CheckResult[]): Verdict {
  const names = (keep: (result: CheckResult) => boolean): string[] =>
    results.filter(keep).map((result) => result.name);
  const requiredMissing = names((result) => result.status === 'missing' && result.required);
  return {
    ready: requiredMissing.length === 0,
    exitCode: requiredMissing.length === 0 ? EXIT_READY : EXIT_NOT_READY,
    requiredMissing,
    optionalMissing: names((result) => result.status === 'missing' && !result.required),
    caveats: names((result) => result.status === 'caveat'),
  };
}
