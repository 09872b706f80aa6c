import { describe, expect, it } from 'vitest';
import { tinyScenario } from './fixtures/tiny-scenario.ts';
import { defineScenario, type ClaimDefinition } from '../../lab/scenario/define-scenario.ts';
import { evaluateClaims } from '../../lab/scenario/evaluate-claims.ts';
import type { DeploymentResult } from '../../lab/results.ts';

describe('evaluateClaims', () => {
  const scenario = defineScenario(tinyScenario());
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
      metric: 'successRate',
      unit: 'ratio',
      atLeast: 0.9,
    });
  });

  it('compares with another deployment or phase as a ratio', () => {
    const relative = defineScenario({
      ...tinyScenario(),
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
    expect(claim).toEqual({
      id: 'split-vs-monolith',
      description: 'split p50 is at least the monolith p50',
      deployment: 'split',
      route: 'pay',
      phase: 'cut',
      metric: 'latencyP50Ms',
      relativeTo: { deployment: 'monolith' },
      unit: 'factor',
      atLeast: 1,
      observed: 2.5,
      held: true,
    });
  });

  it('compares as a difference in the metric unit', () => {
    const difference = defineScenario({
      ...tinyScenario(),
      hypothesis: [
        {
          id: 'slower',
          says: 'split p99 is at most 10 ms above the monolith',
          deployment: 'split',
          route: 'pay',
          phase: 'cut',
          metric: 'latencyP99Ms',
          relativeTo: { deployment: 'monolith', by: 'difference' },
          atMost: 10,
        },
      ],
    });
    const monolith = { ...deployment(1), deployment: 'monolith' as const };
    monolith.routes[0]!.phases[0]!.latencyMs = { p50: 2, p90: 3, p99: 4, max: 5 };
    expect(evaluateClaims(difference, [monolith, deployment(1)])[0]).toMatchObject({
      observed: 3,
      unit: 'ms',
      held: true,
    });
  });

  it('measures every family of the table where it lives', () => {
    const measured = deployment(0.9);
    measured.routes[0]!.phases[0]!.failures = { reset: 1, deadline: 3 };
    measured.recovery = [{ route: 'pay', afterPhase: 'cut', seconds: 4 }];
    measured.audit.doubleCharges = 2;
    measured.servicePhases = [
      {
        service: 'payment-service',
        phase: 'cut',
        requestsPerSecond: 12.5,
        attemptsPerCall: 1.5,
        bulkheadRejections: 0,
        outboundInFlightMax: null,
        circuitStates: [],
      },
    ];
    const observed = (metric: ClaimDefinition['metric']) => {
      const hypothesis = [{ ...tinyScenario().hypothesis[0]!, metric, atLeast: 0 }];
      return evaluateClaims(defineScenario({ ...tinyScenario(), hypothesis }), [measured])[0];
    };
    expect(observed('successRate')).toMatchObject({ observed: 0.9, unit: 'ratio' });
    expect(observed('latencyP50Ms')).toMatchObject({ observed: 5, unit: 'ms' });
    expect(observed('latencyP99Ms')).toMatchObject({ observed: 7, unit: 'ms' });
    expect(observed('failureLatencyP50Ms')).toMatchObject({ observed: 3, unit: 'ms' });
    expect(observed('firstFailureSeconds')).toMatchObject({ observed: 1.5, unit: 's' });
    expect(observed('causeShare:deadline')).toMatchObject({ observed: 0.75, unit: 'ratio' });
    expect(observed('causeShare:dns')).toMatchObject({ observed: 0, unit: 'ratio' });
    expect(observed('recoverySeconds')).toMatchObject({ observed: 4, unit: 's' });
    expect(observed('audit:doubleCharges')).toMatchObject({ observed: 2, unit: 'count' });
    expect(observed('service:payment-service:requestsPerSecond')).toMatchObject({
      observed: 12.5,
      unit: 'perSecond',
    });
    expect(observed('service:payment-service:attemptsPerCall')).toMatchObject({
      observed: 1.5,
      unit: 'count',
    });
    // Not measured: a service without a summary, a field the service did not report.
    expect(observed('service:signup-service:attemptsPerCall')).toMatchObject({ observed: null, held: false });
    expect(observed('service:payment-service:outboundInFlightMax')).toMatchObject({ observed: null });
  });

  it('reads audit counts', () => {
    const audited = defineScenario({
      ...tinyScenario(),
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
