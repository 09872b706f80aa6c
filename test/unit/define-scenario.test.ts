import { describe, expect, it } from 'vitest';
import { crash, dbOutage, dnsFailure, flood, partition } from '../../lab/vocabulary/faults.ts';
import { defineScenario, type ScenarioDefinition } from '../../lab/scenario/define-scenario.ts';
import { evaluateClaims } from '../../lab/scenario/evaluate-claims.ts';
import type { DeploymentResult } from '../../lab/results.ts';
import partitionScenario from '../../scenarios/partition.ts';

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

describe('defineScenario', () => {
  it('accepts a valid scenario and computes its duration', () => {
    const scenario = defineScenario(valid());
    expect(scenario.durationS).toBe(4);
    expect(scenario.variants.map((variant) => variant.name)).toEqual(['monolith', 'split']);
  });

  it('validates the shipped partition scenario', () => {
    expect(partitionScenario.name).toBe('partition');
    expect(partitionScenario.durationS).toBe(40);
  });

  it.each<[string, (definition: ScenarioDefinition) => void, RegExp]>([
    [
      'a title that is not a question',
      (d) => void (d.title = 'A statement.'),
      /title must be phrased as a question/,
    ],
    ['a bad name', (d) => void (d.name = 'Bad Name'), /name must be kebab-case/],
    ['a negative rate', (d) => void (d.load.pay.ratePerSecond = -1), /load\.pay\.ratePerSecond/],
    [
      'an unknown link',
      (d) => void (d.timeline[1]!.faults = [partition('nowhere' as never)]),
      /timeline\[1\]\.faults\[0\]\.link/,
    ],
    [
      'a duplicate phase',
      (d) => void (d.timeline[1]!.name = 'baseline'),
      /timeline\[1\]\.name "baseline" is used twice/,
    ],
    [
      'a claim on a missing phase',
      (d) => void (d.hypothesis[0]!.phase = 'later'),
      /hypothesis\[0\]\.phase "later"/,
    ],
    [
      'a claim with an unknown metric',
      (d) => void (d.hypothesis[0]!.metric = 'speed' as never),
      /hypothesis\[0\]\.metric/,
    ],
    [
      'a claim without tolerance',
      (d) => void delete d.hypothesis[0]!.atLeast,
      /hypothesis\[0\] needs atLeast or atMost/,
    ],
    [
      'a comparison with a phase that does not exist',
      (d) => void (d.hypothesis[0]!.relativeTo = { phase: 'before' }),
      /hypothesis\[0\]\.relativeTo\.phase "before"/,
    ],
    ['a zero-length phase', (d) => void (d.timeline[0]!.durationS = 0), /timeline\[0\]\.durationS/],
    [
      'a crash of an unknown service',
      (d) => void (d.timeline[1]!.faults = [crash('inventory' as never)]),
      /timeline\[1\]\.faults\[0\]\.service "inventory" is not one of monolith, signup-service, payment-service/,
    ],
    [
      'an unknown DNS failure mode',
      (d) => void (d.timeline[1]!.faults = [dnsFailure('payment-service', 'slow' as never)]),
      /faults\[0\]\.mode "slow"/,
    ],
    [
      'a database fault on an unknown target',
      (d) => void (d.timeline[1]!.faults = [dbOutage('orders' as never)]),
      /faults\[0\]\.target "orders"/,
    ],
    [
      'a flood with no rate',
      (d) => void (d.timeline[1]!.faults = [flood('signup', { ratePerSecond: 0 })]),
      /faults\[0\]\.ratePerSecond/,
    ],
    [
      'an unknown fault kind',
      (d) => void (d.timeline[1]!.faults = [{ kind: 'meteor' } as never]),
      /faults\[0\]\.kind "meteor"/,
    ],
    [
      'a quota for a service that does not exist',
      (d) => void (d.quotas = { 'order-service': { cpu: 1 } }),
      /quotas "order-service" is not one of monolith, signup-service, payment-service/,
    ],
    [
      'a quota of no CPU',
      (d) => void (d.quotas = { 'payment-service': { cpu: 0 } }),
      /quotas\.payment-service\.cpu must be between 0\.1 and 64/,
    ],
    [
      'a quota too small to run Node',
      (d) => void (d.quotas = { monolith: { memoryMiB: 16 } }),
      /quotas\.monolith\.memoryMiB must be between 64 and 65536/,
    ],
  ])('refuses %s, naming the field', (_label, mutate, message) => {
    const definition = valid();
    mutate(definition);
    expect(() => defineScenario(definition)).toThrow(message);
  });
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
