import { describe, expect, it } from 'vitest';
import { faultWindows, phaseWindows, planDeployment } from '../../lab/scenario/plan-deployment.ts';
import { dbLatency, latency, outage, partition } from '../../lab/vocabulary/faults.ts';
import { monolith, split } from '../../lab/vocabulary/variants.ts';
import { stormScenario } from './fixtures/storm-scenario.ts';

const [monolithVariant, splitVariant] = stormScenario.variants;
if (!monolithVariant || !splitVariant) throw new Error('the storm scenario runs two variants');

describe('phaseWindows', () => {
  it('lays the phases end to end from t = 0', () => {
    expect(phaseWindows(stormScenario)).toEqual([
      { name: 'baseline', startS: 0, endS: 10 },
      { name: 'storm', startS: 10, endS: 15 },
      { name: 'calm', startS: 15, endS: 20 },
      { name: 'crashy', startS: 20, endS: 24 },
      { name: 'after', startS: 24, endS: 30 },
    ]);
  });
});

describe('planDeployment', () => {
  it('says what to start: the variant on its deployment, with its settings and the quotas', () => {
    const plan = planDeployment(stormScenario, splitVariant);
    expect(plan).toMatchObject({
      label: 'split/retry',
      deployment: 'split',
      durationS: 30,
      start: { settings: { PAYMENT_POLICY: 'retry' }, quotas: { 'payment-service': { cpu: 0.5 } } },
    });
  });

  it("hands the scenario's scrypt cost to the services beside the variant's settings", () => {
    const plan = planDeployment({ ...stormScenario, scryptN: 1024 }, splitVariant);
    expect(plan.start.settings).toEqual({ PAYMENT_POLICY: 'retry', SCRYPT_N: '1024' });
  });

  it('resolves each fault for the deployment into runtime actions, floods apart', () => {
    const storm = planDeployment(stormScenario, splitVariant).phases[1];
    expect(storm?.window).toEqual({ name: 'storm', startS: 10, endS: 15 });
    expect(storm?.faults.map((fault) => [fault.touches, fault.runtimeActions, fault.floods])).toEqual([
      [true, [{ type: 'link', fault: partition('payment-api') }], []],
      [true, [{ type: 'link', fault: outage('payment-db') }], []],
      [true, [], [{ route: 'signup', ratePerSecond: 30, fromS: 10, untilS: 15 }]],
    ]);
    expect(storm?.faults[0]?.description).toBe(
      'payment-api partitioned (both): data dropped, connections hang',
    );
  });

  it('marks the faults that miss a deployment instead of dropping them, so they can be logged', () => {
    const phases = planDeployment(stormScenario, monolithVariant).phases;
    expect(phases[1]?.faults.map((fault) => [fault.touches, fault.runtimeActions])).toEqual([
      [false, []],
      [true, [{ type: 'link', fault: outage('monolith-db') }]],
      [true, []],
    ]);
    expect(phases[3]?.faults).toMatchObject([{ touches: false, runtimeActions: [] }]);
    expect(phases.map((phase) => phase.injects)).toEqual([false, true, false, false, false]);
  });

  it('drives the steady load on every route the whole run and each flood in its phase window', () => {
    expect(planDeployment(stormScenario, monolithVariant).load).toEqual([
      { route: 'signup', ratePerSecond: 2 },
      { route: 'pay', ratePerSecond: 5 },
      { route: 'checkout', ratePerSecond: 3 },
      { route: 'signup', ratePerSecond: 30, fromS: 10, untilS: 15 },
    ]);
  });

  it('makes each flood its own stream of the load, so its requests can be told apart as evidence', () => {
    const plan = planDeployment(stormScenario, splitVariant);
    const flood = plan.phases[1]?.faults[2]?.floods[0];
    expect(flood).toBeDefined();
    // The runner finds the flood's stream (the outcomes' `stream`) by its place in the load.
    expect(plan.load.indexOf(flood ?? { route: 'pay', ratePerSecond: 0 })).toBe(3);
  });

  it('measures recovery only after the phases that injected something into the deployment', () => {
    expect(planDeployment(stormScenario, monolithVariant).recovery).toEqual([
      { afterPhase: 'storm', healAtS: 15 },
    ]);
    expect(planDeployment(stormScenario, splitVariant).recovery).toEqual([
      { afterPhase: 'storm', healAtS: 15 },
      { afterPhase: 'crashy', healAtS: 24 },
    ]);
  });

  it('turns a database latency into one link latency per database of the deployment', () => {
    const scenario = {
      ...stormScenario,
      variants: [monolith(), split()],
      timeline: [
        {
          name: 'slow',
          durationS: 3,
          story: 'slow databases',
          faults: [dbLatency('split', { ms: 50 })],
        },
      ],
      durationS: 3,
    };
    const [phase] = planDeployment(scenario, split()).phases;
    expect(phase?.faults[0]?.runtimeActions).toEqual([
      { type: 'link', fault: latency('signup-db', { ms: 50 }) },
      { type: 'link', fault: latency('payment-db', { ms: 50 }) },
    ]);
    expect(planDeployment(scenario, monolith()).phases[0]?.injects).toBe(false);
  });
});

describe('faultWindows', () => {
  it('lists every fault of the timeline with its window and the variants it touches', () => {
    expect(faultWindows(stormScenario)).toEqual([
      {
        fault: 'partition',
        link: 'payment-api',
        description: 'payment-api partitioned (both): data dropped, connections hang',
        definition: { kind: 'partition', link: 'payment-api', direction: 'both' },
        startS: 10,
        endS: 15,
        deployments: ['split/retry'],
      },
      {
        fault: 'dbOutage',
        link: 'payment database',
        description: 'payment database link down',
        definition: { kind: 'dbOutage', target: 'payment' },
        startS: 10,
        endS: 15,
        deployments: ['monolith', 'split/retry'],
      },
      {
        fault: 'flood',
        link: 'signup route',
        description: 'flood: +30 requests/s on signup',
        definition: { kind: 'flood', route: 'signup', load: { model: 'open', ratePerSecond: 30 } },
        startS: 10,
        endS: 15,
        deployments: ['monolith', 'split/retry'],
      },
      {
        fault: 'crash',
        link: 'payment-service',
        description: 'payment-service killed (SIGKILL); restarted when the phase ends',
        definition: { kind: 'crash', service: 'payment-service' },
        startS: 20,
        endS: 24,
        deployments: ['split/retry'],
      },
    ]);
  });
});
