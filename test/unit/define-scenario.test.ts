import { describe, expect, it } from 'vitest';
import { tinyScenario } from './fixtures/tiny-scenario.ts';
import { crash, dbOutage, dnsFailure, flood, latency, partition } from '../../lab/vocabulary/faults.ts';
import { defineScenario, type ScenarioDefinition } from '../../lab/scenario/define-scenario.ts';
import partitionScenario from '../../scenarios/partition.ts';

describe('defineScenario', () => {
  it('accepts a valid scenario and computes its duration', () => {
    const scenario = defineScenario(tinyScenario());
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
    ['a negative rate', (d) => void (d.load.pay = { ratePerSecond: -1 }), /load\.pay\.ratePerSecond/],
    [
      'a closed model without connections',
      (d) => void (d.load.pay = { model: 'closed', connections: 0 }),
      /load\.pay\.connections must be a whole number from 1 to 256/,
    ],
    [
      'a variant load for a variant not run',
      (d) => void (d.loadByVariant = { 'split/nowhere': { pay: { model: 'closed', connections: 4 } } }),
      /loadByVariant\.split\/nowhere "split\/nowhere" is not run by this scenario/,
    ],
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
      /timeline\[1\]\.faults\[0\]\.service "inventory" is not one of monolith, modular, signup-service, payment-service/,
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
      /faults\[0\]\.load\.ratePerSecond/,
    ],
    [
      'an unknown fault kind',
      (d) => void (d.timeline[1]!.faults = [{ kind: 'meteor' } as never]),
      /faults\[0\]\.kind "meteor"/,
    ],
    [
      'a quota for a service that does not exist',
      (d) => void (d.quotas = { 'order-service': { cpu: 1 } }),
      /quotas "order-service" is not one of monolith, modular, signup-service, payment-service/,
    ],
    [
      'a quota of no CPU',
      (d) => void (d.quotas = { 'payment-service': { cpu: 0 } }),
      /quotas\.payment-service\.cpu must be between 0\.1 and 64/,
    ],
    [
      'a scrypt cost that is not a power of two',
      (d) => void (d.scryptN = 1000),
      /scryptN must be a power of two from 2 to 1048576/,
    ],
    [
      'a quota too small to run Node',
      (d) => void (d.quotas = { monolith: { memoryMiB: 16 } }),
      /quotas\.monolith\.memoryMiB must be between 64 and 65536/,
    ],
    [
      'a claim with a known family but a wrong parameter',
      (d) => void (d.hypothesis[0]!.metric = 'service:order-service:requestsPerSecond' as never),
      /hypothesis\[0\]\.metric service "order-service" is not one of monolith, modular, signup-service, payment-service/,
    ],
    [
      'recoverySeconds on a phase without faults',
      (d) => void Object.assign(d.hypothesis[0]!, { metric: 'recoverySeconds', phase: 'baseline' }),
      /hypothesis\[0\]\.phase must be a phase with faults for recoverySeconds/,
    ],
    [
      'two claims with one id',
      (d) => void d.hypothesis.push({ ...d.hypothesis[0]! }),
      /hypothesis\[1\]\.id "pay-ok" is used twice/,
    ],
    [
      'a comparison with nothing to compare with',
      (d) => void (d.hypothesis[0]!.relativeTo = {}),
      /hypothesis\[0\]\.relativeTo needs a deployment or a phase to compare with/,
    ],
    [
      'a comparison with a deployment that does not run',
      (d) => void (d.hypothesis[0]!.relativeTo = { deployment: 'split/retry' }),
      /hypothesis\[0\]\.relativeTo\.deployment "split\/retry" is not run by this scenario/,
    ],
    [
      'a negative latency',
      (d) => void (d.timeline[1]!.faults = [latency('payment-api', { ms: -5 })]),
      /timeline\[1\]\.faults\[0\]\.ms must be 0 or more milliseconds/,
    ],
    [
      'a partition in an unknown direction',
      (d) => void (d.timeline[1]!.faults = [partition('payment-api', { direction: 'sideways' as never })]),
      /timeline\[1\]\.faults\[0\]\.direction "sideways" is not one of both, upstream, downstream/,
    ],
    [
      'a fault that is not an object',
      (d) => void (d.timeline[1]!.faults = ['partition' as never]),
      /timeline\[1\]\.faults\[0\] must be a fault/,
    ],
    ['an empty timeline', (d) => void (d.timeline = []), /timeline must have at least one phase/],
    [
      'a route without its rate',
      (d) => void delete (d.load as Partial<ScenarioDefinition['load']>).checkout,
      /load\.checkout must be \{ ratePerSecond/,
    ],
    [
      'a claim too short to say anything',
      (d) => void (d.claim = 'Split.'),
      /claim must quote or paraphrase the claim of the monolith-versus-services argument that the scenario tests/,
    ],
  ])('refuses %s, naming the field', (_label, mutate, message) => {
    const definition = tinyScenario();
    mutate(definition);
    expect(() => defineScenario(definition)).toThrow(message);
  });

  it('names the links themselves when a link is wrong', () => {
    const definition = tinyScenario();
    definition.timeline[1]!.faults = [partition('x' as never)];
    expect(() => defineScenario(definition)).toThrow(
      'scenario tiny: timeline[1].faults[0].link "x" is not a link; links: edge-monolith, monolith-db, edge-modular, modular-db, edge-signup, edge-payment, payment-api, signup-db, payment-db',
    );
  });

  it('says what an unknown metric could have been', () => {
    const definition = tinyScenario();
    definition.hypothesis[0]!.metric = 'latencyP95Ms' as never;
    expect(() => defineScenario(definition)).toThrow(
      /^scenario tiny: hypothesis\[0\]\.metric "latencyP95Ms" is not a known metric; known: successRate, .*causeShare:<cause>/,
    );
  });

  it('reports every problem it finds, one line each', () => {
    const definition = tinyScenario();
    definition.title = 'Not a question.';
    definition.timeline[0]!.durationS = 601;
    expect(() => defineScenario(definition)).toThrow(
      [
        'scenario tiny: title must be phrased as a question ending with "?"',
        'scenario tiny: timeline[0].durationS must be between 1 and 600 seconds',
      ].join('\n'),
    );
  });

  it('throws an INVALID_SCENARIO error', () => {
    const definition = tinyScenario();
    definition.hypothesis[0]!.phase = 'later';
    expect(() => defineScenario(definition)).toThrow(
      expect.objectContaining({
        code: 'INVALID_SCENARIO',
        message: 'scenario tiny: hypothesis[0].phase "later" is not a phase of the timeline',
      }),
    );
  });
});
