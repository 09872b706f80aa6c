import { describe, expect, it } from 'vitest';
import { defineScenario } from '../../lab/scenario/define-scenario.ts';
import { evaluateClaims } from '../../lab/scenario/evaluate-claims.ts';
import type { DeploymentResult, SecondSample } from '../../lab/results.ts';
import { tinyScenario } from './fixtures/tiny-scenario.ts';

/** One second of pay: `failed` of `completed` requests failed (cause refused). */
const second = (t: number, completed: number, failed: number): SecondSample => ({
  t,
  completed,
  ok: completed - failed,
  failures: failed > 0 ? { refused: failed } : {},
  latencyMs: { p50: 5, p90: 6, p99: 7, max: 8 },
  failureLatencyMs: { p50: 1, p90: 1, p99: 1, max: 1 },
});

const deployment = (seconds: SecondSample[]): DeploymentResult => ({
  deployment: 'split',
  topology: 'split',
  settings: {},
  routes: [{ route: 'pay', target: 'POST /charge', seconds, phases: [] }],
  services: [],
  recovery: [],
  audit: {
    users: 0,
    payments: 0,
    orphanUsers: 0,
    doubleCharges: 0,
    acknowledgedWithoutRow: 0,
    failedButCommitted: 0,
  },
});

describe('downtimeSeconds', () => {
  // The tiny scenario's phase `cut` is t = 2 s to 4 s of the timeline.
  const scenario = defineScenario({
    ...tinyScenario(),
    hypothesis: [
      {
        id: 'pay-down',
        says: 'pay is down a while',
        deployment: 'split',
        route: 'pay',
        phase: 'cut',
        metric: 'downtimeSeconds',
        atMost: 1,
      },
    ],
  });

  it('spans the first to the last second of the phase with a failure, both counted', () => {
    // Failures in second 1 (the phase before) do not count; seconds 2 and 3 are the phase's.
    const [claim] = evaluateClaims(scenario, [
      deployment([second(0, 2, 0), second(1, 2, 2), second(2, 2, 1), second(3, 2, 1), second(4, 2, 2)]),
    ]);
    expect(claim).toMatchObject({ observed: 2, unit: 's', held: false });
  });

  it('is 1 s for one failing second and 0 when nothing failed in the phase', () => {
    const one = evaluateClaims(scenario, [deployment([second(2, 2, 0), second(3, 2, 1)])]);
    expect(one[0]).toMatchObject({ observed: 1, held: true });
    const none = evaluateClaims(scenario, [deployment([second(1, 2, 2), second(2, 2, 0), second(3, 2, 0)])]);
    expect(none[0]).toMatchObject({ observed: 0, held: true });
  });
});
