import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../lab/errors.ts';
import type { DriveLoadOptions } from '../../lab/load/drive-load.ts';
import type { RequestOutcome } from '../../lab/load/outcome.ts';
import type { Runtime, RuntimeAction, StartedDeployment, StartedLab } from '../../lab/runtime/runtime.ts';
import { planDeployment } from '../../lab/scenario/plan-deployment.ts';
import { runDeployment, type RunSteps } from '../../lab/scenario/run-deployment.ts';
import { runScenario } from '../../lab/scenario/run-scenario.ts';
import type { DeploymentName } from '../../lab/vocabulary/topology.ts';
import { stormScenario } from './fixtures/storm-scenario.ts';

const [monolithVariant, splitVariant] = stormScenario.variants;
if (!monolithVariant || !splitVariant) throw new Error('the storm scenario runs two variants');

function nameOf(action: RuntimeAction): string {
  switch (action.type) {
    case 'link':
      return `${action.fault.kind} ${action.fault.link}`;
    case 'dns':
      return `dns ${action.name}`;
    case 'crash':
      return `crash ${action.service}`;
  }
}

/** Every request ok, except checkouts due in the storm (10-15 s), which fail by their deadline. */
const OUTCOMES: RequestOutcome[] = Array.from({ length: 30 }, (_, second) => ({
  route: 'checkout' as const,
  dueAtS: second + 0.5,
  latencyMs: second >= 10 && second < 15 ? 5000 : 20,
  ok: !(second >= 10 && second < 15),
  cause: second >= 10 && second < 15 ? 'deadline' : '',
  status: second >= 10 && second < 15 ? 504 : 201,
}));

interface FakeOptions {
  /** An apply of this action throws. */
  failApply?: string;
  /** Ctrl-C at this many seconds into the timeline (while a phase sleeps), or while starting. */
  abortAtS?: number | 'start';
}

/**
 * A fake lab and fake steps that record, in order, what the runner asks of them, with the time on a
 * fake clock that jumps instead of waiting. The load "finishes" a few real milliseconds later, so a
 * runner that did not wait for it would record its teardown first.
 */
function fakeRun(options: FakeOptions = {}) {
  const calls: string[] = [];
  const logs: string[] = [];
  const controller = new AbortController();
  const originMs = 5000;
  let nowMs = originMs;
  let loadOptions: DriveLoadOptions | undefined;
  const at = (): string => `t=${(nowMs - originMs) / 1000}`;

  const deploymentOf = (deployment: DeploymentName): StartedDeployment => {
    const stop = async (): Promise<void> => void calls.push(`stop ${deployment}`);
    return {
      deployment,
      routeUrl: (route) => `http://fake/${deployment}/${route}`,
      services: [{ name: 'fake-service', metricsUrl: 'http://fake/metrics' }],
      databases: { users: 'users-url', payments: 'payments-url' },
      resources: { 'fake-service': '1 CPU' },
      dnsQueryCount: () => 0,
      apply: async (action) => {
        const name = nameOf(action);
        if (name === options.failApply) {
          calls.push(`${at()} apply ${name} fails`);
          throw new Error(`cannot apply ${name}`);
        }
        calls.push(`${at()} apply ${name}`);
        return async () => void calls.push(`${at()} undo ${name}`);
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  };
  const lab: StartedLab = {
    runtime: 'fake',
    details: { engine: 'none' },
    startDeployment: async (deployment) => {
      calls.push(`start ${deployment}`);
      if (options.abortAtS === 'start') controller.abort();
      return deploymentOf(deployment);
    },
    stop: async () => void calls.push('stop lab'),
    [Symbol.asyncDispose]: async () => void calls.push('stop lab'),
  };
  const runtime: Runtime = { name: 'fake', start: async () => lab };

  const steps: RunSteps = {
    now: () => nowMs,
    sleep: async (ms) => {
      const abortAtMs = typeof options.abortAtS === 'number' ? originMs + options.abortAtS * 1000 : Infinity;
      if (nowMs + ms > abortAtMs) {
        nowMs = abortAtMs;
        calls.push(`${at()} Ctrl-C`);
        controller.abort();
        return;
      }
      nowMs += ms;
    },
    driveLoad: (load) => {
      loadOptions = load;
      calls.push('load starts');
      return {
        inFlight: () => 0,
        finished: delay(5).then(() => {
          calls.push('load finished');
          return OUTCOMES;
        }),
      };
    },
    scrapeMetrics: () => {
      calls.push('scraper starts');
      return {
        stop: async () => {
          calls.push('scraper stops');
          return [{ service: 'fake-service', samples: [] }];
        },
      };
    },
    waitUntilSettled: async () => {
      calls.push('settle');
      return { waitedMs: 1200, stillPending: 0 };
    },
    auditDatabases: async () => {
      calls.push('audit');
      return {
        users: 30,
        payments: 25,
        orphanUsers: 5,
        doubleCharges: 0,
        acknowledgedWithoutRow: 0,
        failedButCommitted: 0,
      };
    },
  };
  return {
    calls,
    logs,
    lab,
    runtime,
    steps,
    signal: controller.signal,
    log: (line: string) => void logs.push(line),
    loadOptions: () => loadOptions,
  };
}

function run(variantIndex: 0 | 1, fake: ReturnType<typeof fakeRun>) {
  const variant = variantIndex === 0 ? monolithVariant : splitVariant;
  if (!variant) throw new Error('no such variant');
  return runDeployment(fake.lab, planDeployment(stormScenario, variant), {
    log: fake.log,
    signal: fake.signal,
    runTag: 'test',
    steps: fake.steps,
  });
}

describe('runDeployment', () => {
  it('applies each phase’s faults at its start and undoes them at its end, in reverse order', async () => {
    const fake = fakeRun();
    await run(1, fake);
    expect(fake.calls).toEqual([
      'start split',
      'scraper starts',
      'load starts',
      't=10 apply partition payment-api',
      't=10 apply outage payment-db',
      't=15 undo outage payment-db',
      't=15 undo partition payment-api',
      't=20 apply crash payment-service',
      't=24 undo crash payment-service',
      'load finished',
      'scraper stops',
      'settle',
      'audit',
      'stop split',
    ]);
    expect(fake.logs).toEqual([
      '[split/retry] starting services ...',
      '[split/retry] t=0s baseline',
      '[split/retry] t=10s storm: payment-api partitioned (both): data dropped, connections hang',
      '[split/retry] t=10s storm: payment database link down',
      '[split/retry] t=10s storm: flood: +30 requests/s on signup',
      '[split/retry] t=15s end of storm: undoing its faults',
      '[split/retry] t=15s calm',
      '[split/retry] t=20s crashy: payment-service killed (SIGKILL); restarted when the phase ends',
      '[split/retry] t=24s end of crashy: undoing its faults',
      '[split/retry] t=24s after',
    ]);
  });

  it('logs a fault that does not touch the deployment and applies nothing for it', async () => {
    const fake = fakeRun();
    await run(0, fake);
    expect(fake.calls.filter((call) => /apply|undo/.test(call))).toEqual([
      't=10 apply outage monolith-db',
      't=15 undo outage monolith-db',
    ]);
    expect(fake.logs).toContain(
      '[monolith] t=10s storm: "payment-api partitioned (both): data dropped, connections hang" does not touch monolith',
    );
    expect(fake.logs).toContain(
      '[monolith] t=20s crashy: "payment-service killed (SIGKILL); restarted when the phase ends" does not touch monolith',
    );
    expect(fake.logs.some((line) => line.includes('end of crashy'))).toBe(false);
  });

  it('sends floods to the load generator in their phase window, never to the runtime', async () => {
    const fake = fakeRun();
    await run(0, fake);
    expect(fake.loadOptions()).toMatchObject({
      routes: [
        { route: 'signup', url: 'http://fake/monolith/signup', ratePerSecond: 2 },
        { route: 'pay', url: 'http://fake/monolith/pay', ratePerSecond: 5 },
        { route: 'checkout', url: 'http://fake/monolith/checkout', ratePerSecond: 3 },
        { route: 'signup', url: 'http://fake/monolith/signup', ratePerSecond: 30, fromS: 10, untilS: 15 },
      ],
      durationS: 30,
      startedAtMs: 5000,
      runTag: 'test',
    });
    expect(fake.calls.some((call) => call.includes('flood'))).toBe(false);
  });

  it('still undoes the faults already applied when a later apply throws, and tears down', async () => {
    const fake = fakeRun({ failApply: 'outage payment-db' });
    await expect(run(1, fake)).rejects.toThrow('cannot apply outage payment-db');
    expect(fake.calls).toEqual([
      'start split',
      'scraper starts',
      'load starts',
      't=10 apply partition payment-api',
      't=10 apply outage payment-db fails',
      't=10 undo partition payment-api',
      'load finished',
      'scraper stops',
      'stop split',
    ]);
  });

  it('on Ctrl-C midway undoes the phase’s faults, waits for the load, stops the deployment, then says INTERRUPTED', async () => {
    const fake = fakeRun({ abortAtS: 12 });
    const error: unknown = await run(1, fake).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LabError);
    expect((error as LabError).code).toBe('INTERRUPTED');
    expect(fake.calls).toEqual([
      'start split',
      'scraper starts',
      'load starts',
      't=10 apply partition payment-api',
      't=10 apply outage payment-db',
      't=12 Ctrl-C',
      't=12 undo outage payment-db',
      't=12 undo partition payment-api',
      'load finished',
      'scraper stops',
      'stop split',
    ]);
  });

  it('on Ctrl-C in the last phase neither settles nor audits', async () => {
    const fake = fakeRun({ abortAtS: 27 });
    await expect(run(1, fake)).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(fake.calls.slice(-4)).toEqual(['t=27 Ctrl-C', 'load finished', 'scraper stops', 'stop split']);
  });

  it('on Ctrl-C while the services start, stops them without sending any load', async () => {
    const fake = fakeRun({ abortAtS: 'start' });
    await expect(run(1, fake)).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(fake.calls).toEqual(['start split', 'stop split']);
  });

  it('aggregates what it measured into the deployment’s results', async () => {
    const result = await run(1, fakeRun());
    expect(result).toMatchObject({
      deployment: 'split/retry',
      topology: 'split',
      settings: { PAYMENT_POLICY: 'retry' },
      resources: { 'fake-service': '1 CPU' },
      services: [{ service: 'fake-service', samples: [] }],
      audit: { users: 30, orphanUsers: 5, settledAfterMs: 1200, stillPending: 0 },
    });
    const checkout = result.routes.find((route) => route.route === 'checkout');
    expect(checkout?.target).toBe('POST /checkout on signup-service via edge-signup');
    expect(checkout?.seconds).toHaveLength(30);
    expect(checkout?.phases.map((phase) => [phase.phase, phase.successRate])).toEqual([
      ['baseline', 1],
      ['storm', 0],
      ['calm', 1],
      ['crashy', 1],
      ['after', 1],
    ]);
    expect(
      result.recovery.filter((entry) => entry.route === 'checkout').map((entry) => entry.afterPhase),
    ).toEqual(['storm', 'crashy']);
    expect(result.servicePhases).toHaveLength(5);
  });
});

describe('runScenario on a fake runtime', () => {
  it('runs every variant in turn on one lab, stops each, then the lab, and writes the results', async () => {
    const fake = fakeRun();
    const results = await runScenario(stormScenario, {
      runtime: fake.runtime,
      log: fake.log,
      steps: fake.steps,
      runId: 'run-1',
    });
    expect(fake.calls.filter((call) => /^(start|stop)/.test(call))).toEqual([
      'start monolith',
      'stop monolith',
      'start split',
      'stop split',
      'stop lab',
    ]);
    expect(results.runId).toBe('run-1');
    expect(results.runtime).toEqual({ name: 'fake', details: { engine: 'none' } });
    expect(results.deployments.map((deployment) => deployment.deployment)).toEqual([
      'monolith',
      'split/retry',
    ]);
    expect(results.phases[1]).toEqual({ name: 'storm', startS: 10, endS: 15, story: 'everything at once' });
    expect(results.faults.map((fault) => fault.deployments)).toEqual([
      ['split/retry'],
      ['monolith', 'split/retry'],
      ['monolith', 'split/retry'],
      ['split/retry'],
    ]);
  });

  it('on Ctrl-C in the first deployment starts no other and stops the lab', async () => {
    const fake = fakeRun({ abortAtS: 12 });
    await expect(
      runScenario(stormScenario, {
        runtime: fake.runtime,
        log: fake.log,
        signal: fake.signal,
        steps: fake.steps,
      }),
    ).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(fake.calls.filter((call) => /^(start|stop)/.test(call))).toEqual([
      'start monolith',
      'stop monolith',
      'stop lab',
    ]);
  });
});
