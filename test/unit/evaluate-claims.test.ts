import { describe, expect, it } from 'vitest';
import { partition } from '../../lab/vocabulary/faults.ts';
import { defineScenario, type ScenarioDefinition } from '../../lab/scenario/define-scenario.ts';
import { evaluateClaims } from '../../lab/scenario/evaluate-claims.ts';
import type { DeploymentResult } from '../../lab/results.ts';

const valid = (): ScenarioDefinition => ({
  name: 'tiny',
  title: 'Does a tiny scenario validate?',
  claim: 'A scenario file is checked when it is loaded.',
  load: { signup: { ratePerSecond: 1 }, pay: { ratePerSecond: 2 }, checkout: { ratePerSecond: 1 } },
  timeline: [
    { name: 'baseline', durationS: 2, story: 'calm' },
    { name: 'cut', durationS: 2, story: 'cut the link', faults: [partition('payment-api')] },
  ],
  hypothesis: [
    {
      id: 'pay-ok',
      says: 'pay works',
      deployment: 'split',
      route: 'pay',
      phase: 'cut',
      metric: 'successRate',
      atLeast: 0.9,
    },
  ],
  whatToLookAt: [],
});

describe('evaluateClaims', () => {
  const scenario = defineScenario(valid());
  const deployment = (successRate: number | null): DeploymentResult => ({
    deployment: 'split',
    topology: 'split',
    settings: {},
    routes: [
      {
        route: 'pay',
        target: 'POST /charge',
        seconds: [],
        phases: [
          {
            phase: 'cut',
            successRate,
            firstFailureAfterS: 1.5,
            completed: 10,
            ok: 9,
            failures: { reset: 1 },
            latencyMs: { p50: 5, p90: 6, p99: 7, max: 8 },
            failureLatencyMs: { p50: 3, p90: 3, p99: 3, max: 3 },
          },
        ],
      },
    ],
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

  it('holds when the observed value is within tolerance', () => {
    expect(evaluateClaims(scenario, [deployment(0.95)])[0]).toMatchObject({
      held: true,
      observed: 0.95,
      expected: '>= 0.9',
    });
  });

  it('compares with another deployment or phase as a ratio', () => {
    const relative = defineScenario({
      ...valid(),
      hypothesis: [
        {
          id: 'split-vs-monolith',
          says: 'split p50 is at least the monolith p50',
          deployment: 'split',
          route: 'pay',
          phase: 'cut',
          metric: 'latencyP50Ms',
          relativeTo: { deployment: 'monolith' },
          atLeast: 1,
        },
      ],
    });
    const monolith = { ...deployment(1), deployment: 'monolith' as const };
    monolith.routes[0]!.phases[0]!.latencyMs = { p50: 2, p90: 3, p99: 4, max: 5 };
    const [claim] = evaluateClaims(relative, [monolith, deployment(1)]);
    expect(claim).toMatchObject({ observed: 2.5, held: true, metric: 'latencyP50Ms ratio to monolith' });
  });

  it('reads audit counts', () => {
    const audited = defineScenario({
      ...valid(),
      hypothesis: [
        {
          id: 'no-orphans',
          says: 'no orphans',
          deployment: 'split',
          route: 'checkout',
          phase: 'cut',
          metric: 'audit:orphanUsers',
          atMost: 0,
        },
      ],
    });
    const withOrphans = deployment(1);
    withOrphans.routes.push({ ...withOrphans.routes[0]!, route: 'checkout' });
    withOrphans.audit.orphanUsers = 3;
    expect(evaluateClaims(audited, [withOrphans])[0]).toMatchObject({ observed: 3, held: false });
  });

  it('fails when outside tolerance or not measured', () => {
    expect(evaluateClaims(scenario, [deployment(0.5)])[0]?.held).toBe(false);
    expect(evaluateClaims(scenario, [deployment(null)])[0]?.held).toBe(false);
    expect(evaluateClaims(scenario, [])[0]?.held).toBe(false);
  });
});
