import { describe, expect, it } from 'vitest';
import type { FaultEvidence, ValidityProblem } from '../../lab/results.ts';
import {
  describeProblem,
  judgeValidity,
  problemsOfEvidence,
  validityReasons,
} from '../../lab/scenario/judge-validity.ts';

const lagging: ValidityProblem = {
  kind: 'generator-lagging',
  severity: 'degraded',
  deployment: 'split',
  phase: 'storm',
  message:
    'the generator sent requests up to 48 ms late (p99 41 ms > 30 ms): another splitlab run (pid 1234) was running',
};
const died: ValidityProblem = {
  kind: 'dependency-failed',
  severity: 'invalid',
  deployment: 'split',
  message: 'toxiproxy-server exited (signal SIGKILL)',
};

describe('judgeValidity', () => {
  it('is valid without problems, degraded with a degraded one, invalid as soon as one is invalid', () => {
    expect(judgeValidity([])).toEqual({ status: 'valid', problems: [] });
    expect(judgeValidity([lagging]).status).toBe('degraded');
    expect(judgeValidity([lagging, died]).status).toBe('invalid');
    expect(judgeValidity([died, lagging]).problems).toEqual([died, lagging]);
  });
});

describe('problemsOfEvidence', () => {
  const step = (observed: boolean, stepName: FaultEvidence['step'] = 'apply'): FaultEvidence => ({
    phase: 'storm',
    fault: 'payment database link down',
    action: 'proxy payment-db disabled',
    step: stepName,
    plannedAtS: stepName === 'apply' ? 10 : 15,
    observedAtS: observed ? 10.004 : null,
    lagMs: observed ? 4 : null,
    observed,
    evidence: observed ? 'payment-db: disabled' : 'payment-db: enabled, no toxics',
  });

  it('makes every step that was not observed an invalid problem naming the action, step and last read', () => {
    expect(problemsOfEvidence('split', [step(true), step(true, 'undo')])).toEqual([]);
    expect(problemsOfEvidence('split', [step(true), step(false, 'undo')])).toEqual([
      {
        kind: 'fault-not-observed',
        severity: 'invalid',
        deployment: 'split',
        phase: 'storm',
        message:
          'proxy payment-db disabled (payment database link down) was not observed gone after the undo at t=15 s ' +
          '(read back for 2000 ms; last read: payment-db: enabled, no toxics)',
      },
    ]);
  });
});

describe('reasons', () => {
  it('names where each problem happened', () => {
    expect(describeProblem(lagging)).toBe(`split, storm: ${lagging.message}`);
    expect(describeProblem({ ...died, deployment: undefined })).toBe(died.message);
  });

  it('lists an invalid run by its invalid problems only, a degraded one by all, at most `limit`', () => {
    expect(validityReasons(judgeValidity([lagging, died]))).toEqual({
      shown: [`split: ${died.message}`],
      more: 0,
    });
    const many = judgeValidity(Array.from({ length: 7 }, () => lagging));
    expect(validityReasons(many, 5)).toMatchObject({ more: 2 });
    expect(validityReasons(many, 5).shown).toHaveLength(5);
  });
});
