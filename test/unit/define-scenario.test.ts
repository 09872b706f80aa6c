import { describe, expect, it } from 'vitest';
import { crash, dbOutage, dnsFailure, flood, partition } from '../../lab/vocabulary/faults.ts';
import { defineScenario, type ScenarioDefinition } from '../../lab/scenario/define-scenario.ts';
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
