import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../lab/errors.ts';
import type { DriveLoadOptions } from '../../lab/load/drive-load.ts';
import type { RequestOutcome } from '../../lab/load/outcome.ts';
import { dueTimeS, streamSchedule } from '../../lab/load/due-times.ts';
import type { PhaseInstruments } from '../../lab/measure/health-sampler.ts';
import type { Runtime, RuntimeAction, StartedDeployment, StartedLab } from '../../lab/runtime/runtime.ts';
import { planDeployment } from '../../lab/scenario/plan-deployment.ts';
import { runDeployment, type RunSteps } from '../../lab/scenario/run-deployment.ts';
import { runScenario } from '../../lab/scenario/run-scenario.ts';
import { fanOut, type RunEvent } from '../../lab/live/run-events.ts';
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
    default:
      return `${action.type} ${action.service}`;
  }
}

/**
 * The load the fake generator "sends": every request of every stream at its exact due time, sent
 * `sendLagMs` late; every one ok, except checkouts due in the storm (10-15 s), which fail by their deadline.
 */
function outcomesFor(load: DriveLoadOptions, sendLagMs: number): RequestOutcome[] {
  return load.routes.flatMap((stream, index) => {
    const schedule = streamSchedule(stream, load.durationS);
    return Array.from({ length: schedule.count }, (_, k) => {
      const dueAtS = dueTimeS(schedule, k);
      const failed = stream.route === 'checkout' && dueAtS >= 10 && dueAtS < 15;
      return {
        route: stream.route,
        dueAtS,
        stream: index,
        sendLagMs,
        latencyMs: failed ? 5000 : 20,
        ok: !failed,
        cause: failed ? 'deadline' : '',
        status: failed ? 504 : 201,
      };
    });
  });
}

const QUIET_PHASE: PhaseInstruments = {
  eventLoopDelayMs: { p50: 0.2, p90: 0.4, p99: 1, max: 3 },
  machine: { cpuBusy: 0.55, labCpu: 0.5, otherLabs: [] },
};

interface FakeOptions {
  /** An apply of this action throws. */
  failApply?: string;
  /** Ctrl-C at this many seconds into the timeline (while a phase sleeps), or while starting. */
  abortAtS?: number | 'start';
  /** The lab's watchdog says a dependency died at this many seconds into the timeline. */
  labFailsAtS?: number;
  /** The runtime never shows this action in effect. */
  neverObserved?: string;
  /** How late the fake generator sends each request. */
  sendLagMs?: number;
}

/**
 * A fake lab and fake steps that record, in order, what the runner asks of them, with the time on a
 * fake clock that jumps instead of waiting. The load "finishes" a few real milliseconds later, so a
 * runner that did not wait for it would record its teardown first. Reading an action back takes 3 ms
 * of fake time and shows what the fake runtime last did with it.
 */
function fakeRun(options: FakeOptions = {}) {
  const calls: string[] = [];
  const logs: string[] = [];
  const controller = new AbortController();
  const labFailure = new AbortController();
  const originMs = 5000;
  let nowMs = originMs;
  let loadOptions: DriveLoadOptions | undefined;
  const inEffect = new Map<string, boolean>();
  const at = (): string => `t=${(nowMs - originMs) / 1000}`;

  const deploymentOf = (deployment: DeploymentName): StartedDeployment => {
    const stop = async (): Promise<void> => void calls.push(`stop ${deployment}`);
    return {
      deployment,
      routeUrl: (route) => `http://fake/${deployment}/${route}`,
      services: [{ name: 'fake-service', metricsUrl: 'http://fake/metrics' }],
      databases: { users: 'users-url', payments: 'payments-url' },
      resources: { 'fake-service': '1 CPU' },
      dnsQueryCount: async () => 0,
      serviceLogs: () => [],
      droppedLogLines: () => ({ 'fake-service': 0 }),
      apply: async (action) => {
        const name = nameOf(action);
        if (name === options.failApply) {
          calls.push(`${at()} apply ${name} fails`);
          throw new Error(`cannot apply ${name}`);
        }
        calls.push(`${at()} apply ${name}`);
        inEffect.set(name, name !== options.neverObserved);
        return async () => {
          calls.push(`${at()} undo ${name}`);
          inEffect.set(name, false);
        };
      },
      observe: async (action) => {
        const name = nameOf(action);
        const state = inEffect.get(name) ?? false;
        return { atMs: nowMs + 3, inEffect: state, evidence: `${name}: ${state ? 'in effect' : 'absent'}` };
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  };
  const lab: StartedLab = {
    runtime: 'fake',
    details: { engine: 'none' },
    failed: labFailure.signal,
    traces: {
      endpoint: 'http://fake/otlp',
      spans: () => [],
      trace: () => [],
      settle: async () => undefined,
      summary: () => ({ spansReceived: 0, tracesReceived: 0, exportedTo: [], forwardFailures: 0 }),
      losses: () => ({ malformedBatches: 0, unsupportedBatches: 0, droppedSpans: 0 }),
      stop: async () => undefined,
      [Symbol.asyncDispose]: async () => undefined,
    },
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
    driveClosedLoad: () => {
      throw new Error('the storm scenario has no closed-model stream');
    },
    now: () => nowMs,
    sleep: async (ms) => {
      const abortAtMs = typeof options.abortAtS === 'number' ? originMs + options.abortAtS * 1000 : Infinity;
      const failAtMs =
        options.labFailsAtS !== undefined && !labFailure.signal.aborted
          ? originMs + options.labFailsAtS * 1000
          : Infinity;
      if (nowMs + ms > Math.min(abortAtMs, failAtMs)) {
        nowMs = Math.min(abortAtMs, failAtMs);
        if (abortAtMs <= failAtMs) {
          calls.push(`${at()} Ctrl-C`);
          controller.abort();
        } else {
          calls.push(`${at()} toxiproxy-server dies`);
          labFailure.abort(
            new LabError('DEPENDENCY_FAILED', 'toxiproxy-server exited (signal SIGKILL) at 12:00:12'),
          );
        }
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
          return outcomesFor(load, options.sendLagMs ?? 0.4);
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
        sampleTimesMs: () => Array.from({ length: 31 }, (_, second) => second * 1000 + 2),
      };
    },
    sampleHealth: ({ windows }) => ({
      stop: async () => windows.map(() => QUIET_PHASE),
    }),
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
      '[split/retry] t=10s storm: observed after 3 ms (partition payment-api: in effect)',
      '[split/retry] t=10s storm: observed after 3 ms (outage payment-db: in effect)',
      '[split/retry] t=15s end of storm: undoing its faults',
      '[split/retry] t=15s end of storm: undo observed after 3 ms (partition payment-api: absent)',
      '[split/retry] t=15s end of storm: undo observed after 3 ms (outage payment-db: absent)',
      '[split/retry] t=15s calm',
      '[split/retry] t=20s crashy: payment-service killed (SIGKILL); restarted when the phase ends',
      '[split/retry] t=20s crashy: observed after 3 ms (crash payment-service: in effect)',
      '[split/retry] t=24s end of crashy: undoing its faults',
      '[split/retry] t=24s end of crashy: undo observed after 3 ms (crash payment-service: absent)',
      '[split/retry] t=24s after',
      '[split/retry] t=10s storm: observed after 0 ms (flood on signup: +30/s: 150 of 150 due requests sent; the first at t=10 s)',
      '[split/retry] t=15s end of storm: undo observed (flood on signup: +30/s: the last flood request was sent at t=14.967 s, none after)',
    ]);
  });

  it('records the observed fault timeline: every apply and undo, planned vs observed, with its lag', async () => {
    const { result, problems, stoppedBy } = await run(1, fakeRun());
    expect(
      result.faultEvidence?.map((entry) => [
        entry.step,
        entry.action,
        entry.plannedAtS,
        entry.observedAtS,
        entry.lagMs,
        entry.observed,
      ]),
    ).toEqual([
      ['apply', 'timeout toxics on payment-api', 10, 10.003, 3, true],
      ['apply', 'proxy payment-db disabled', 10, 10.003, 3, true],
      ['apply', 'flood on signup: +30/s', 10, 10, 0.4, true],
      ['undo', 'timeout toxics on payment-api', 15, 15.003, 3, true],
      ['undo', 'proxy payment-db disabled', 15, 15.003, 3, true],
      ['undo', 'flood on signup: +30/s', 15, 14.967, -32.9, true],
      ['apply', 'kill payment-service', 20, 20.003, 3, true],
      ['undo', 'kill payment-service', 24, 24.003, 3, true],
    ]);
    expect(result.faultEvidence?.[0]).toMatchObject({
      phase: 'storm',
      fault: 'payment-api partitioned (both): data dropped, connections hang',
      evidence: 'partition payment-api: in effect',
    });
    expect(problems).toEqual([]);
    expect(stoppedBy).toBeUndefined();
    expect(result.partial).toBeUndefined();
  });

  it('records the load health of every phase: due and sent, schedule lag, event loop, scraper, machine', async () => {
    const { result } = await run(1, fakeRun());
    expect(result.loadHealth?.map((health) => [health.phase, health.due, health.sent])).toEqual([
      ['baseline', 100, 100],
      ['storm', 200, 200],
      ['calm', 50, 50],
      ['crashy', 40, 40],
      ['after', 60, 60],
    ]);
    expect(result.loadHealth?.[1]).toMatchObject({
      scheduleLagMs: { p50: 0.4, p99: 0.4, max: 0.4 },
      eventLoopDelayMs: { p99: 1 },
      scrapeIntervalMs: { max: 1000 },
      machine: { cpuBusy: 0.55, labCpu: 0.5, otherLabs: 0 },
      degraded: [],
    });
  });

  it('flags every phase of a generator sending 48 ms late as degraded, naming the likely cause', async () => {
    const { result, problems } = await run(1, fakeRun({ sendLagMs: 48 }));
    expect(result.loadHealth?.[0]?.degraded).toEqual([
      "the generator sent requests up to 48 ms late (p99 48 ms > 30 ms): no cause stands out (the machine was 55 % busy, 50 % this lab's)",
    ]);
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatchObject({
      kind: 'generator-lagging',
      severity: 'degraded',
      deployment: 'split/retry',
      phase: 'baseline',
    });
  });

  it('stops the run as invalid when a fault is never observed after its apply, and still undoes it', async () => {
    const fake = fakeRun({ neverObserved: 'outage payment-db' });
    const { result, problems, stoppedBy } = await run(1, fake);
    expect(stoppedBy?.code).toBe('FAULT_NOT_OBSERVED');
    expect(result.partial).toBe(true);
    // Read back every 50 ms for 2 s of the fake clock, then the load is stopped and both undone.
    expect(fake.calls.filter((call) => /apply|undo|load|audit|settle/.test(call))).toEqual([
      'load starts',
      't=10 apply partition payment-api',
      't=10 apply outage payment-db',
      't=12 undo outage payment-db',
      't=12 undo partition payment-api',
      'load finished',
      'audit',
    ]);
    expect(fake.loadOptions()?.signal?.aborted).toBe(true);
    const missed = result.faultEvidence?.filter((entry) => !entry.observed);
    expect(missed).toMatchObject([
      { step: 'apply', action: 'proxy payment-db disabled', observedAtS: null, lagMs: null },
    ]);
    expect(problems.filter((problem) => problem.severity === 'invalid')).toEqual([
      {
        kind: 'fault-not-observed',
        severity: 'invalid',
        deployment: 'split/retry',
        phase: 'storm',
        message:
          'proxy payment-db disabled (payment database link down) was not observed in effect after the apply at ' +
          't=10 s (read back for 2000 ms; last read: outage payment-db: absent)',
      },
    ]);
    expect(fake.logs).toContain(
      '[split/retry] t=10s storm: NOT observed within 2000 ms: proxy payment-db disabled (last read: outage payment-db: absent); the run is invalid',
    );
    // The phases after the stop were never reached.
    expect(result.loadHealth?.map((health) => health.phase)).toEqual(['baseline', 'storm']);
  });

  it('when a dependency of the lab dies mid-phase, stops the load, undoes, tears down and returns a partial deployment', async () => {
    const fake = fakeRun({ labFailsAtS: 12 });
    const { result, problems, stoppedBy } = await run(1, fake);
    expect(stoppedBy?.code).toBe('DEPENDENCY_FAILED');
    expect(fake.calls.filter((call) => !call.startsWith('scraper'))).toEqual([
      'start split',
      'load starts',
      't=10 apply partition payment-api',
      't=10 apply outage payment-db',
      't=12 toxiproxy-server dies',
      't=12 undo outage payment-db',
      't=12 undo partition payment-api',
      'load finished',
      'audit',
      'stop split',
    ]);
    expect(fake.loadOptions()?.signal?.aborted).toBe(true);
    expect(result.partial).toBe(true);
    expect(problems.filter((problem) => problem.severity === 'invalid')).toEqual([
      {
        kind: 'dependency-failed',
        severity: 'invalid',
        deployment: 'split/retry',
        message:
          "toxiproxy-server exited (signal SIGKILL) at 12:00:12 (at t=12 s of split/retry's timeline); the load " +
          'was stopped and the remaining deployments skipped',
      },
    ]);
    // Due is counted until the stop: 2 s of the storm.
    expect(result.loadHealth?.at(-1)).toMatchObject({ phase: 'storm', due: 80 });
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

  it('still undoes the faults already applied when a later apply throws, stops the load and tears down', async () => {
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
    expect(fake.loadOptions()?.signal?.aborted).toBe(true);
  });

  it('blames a dependency that dies right after an apply fails, not the apply', async () => {
    const fake = fakeRun({ failApply: 'outage payment-db', labFailsAtS: 11 });
    const { stoppedBy, result } = await run(1, fake);
    expect(stoppedBy?.code).toBe('DEPENDENCY_FAILED');
    expect(result.partial).toBe(true);
    expect(fake.logs).toContain(
      '[split/retry] after the stop: cannot apply outage payment-db; some of it may be left behind',
    );
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
    const { result } = await run(1, fakeRun());
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

  it('judges a clean run valid', async () => {
    const fake = fakeRun();
    const results = await runScenario(stormScenario, {
      runtime: fake.runtime,
      log: fake.log,
      steps: fake.steps,
    });
    expect(results.validity).toEqual({ status: 'valid', problems: [] });
  });

  it('when a dependency dies in the first deployment, skips the others and returns invalid results', async () => {
    const fake = fakeRun({ labFailsAtS: 12 });
    const results = await runScenario(stormScenario, {
      runtime: fake.runtime,
      log: fake.log,
      steps: fake.steps,
    });
    expect(fake.calls.filter((call) => /^(start|stop)/.test(call))).toEqual([
      'start monolith',
      'stop monolith',
      'stop lab',
    ]);
    expect(results.deployments.map((deployment) => [deployment.deployment, deployment.partial])).toEqual([
      ['monolith', true],
    ]);
    expect(results.validity?.status).toBe('invalid');
    expect(results.validity?.problems.map((problem) => problem.kind)).toContain('dependency-failed');
    expect(fake.logs).toContain(
      'the run is invalid: toxiproxy-server exited (signal SIGKILL) at 12:00:12; skipping split/retry',
    );
    // The claim is about split/retry, which never ran: measured nothing, so it cannot hold.
    expect(results.hypothesis.claims[0]).toMatchObject({ observed: null, held: false });
  });

  it('when a fault is not observed, the run is invalid and stops there', async () => {
    const fake = fakeRun({ neverObserved: 'outage monolith-db' });
    const results = await runScenario(stormScenario, {
      runtime: fake.runtime,
      log: fake.log,
      steps: fake.steps,
    });
    expect(results.deployments).toHaveLength(1);
    expect(results.validity?.status).toBe('invalid');
    expect(results.validity?.problems.filter((problem) => problem.severity === 'invalid')).toMatchObject([
      { kind: 'fault-not-observed', deployment: 'monolith', phase: 'storm' },
    ]);
  });

  it('judges a run degraded when the generator lagged, and keeps its verdict', async () => {
    const fake = fakeRun({ sendLagMs: 48 });
    const results = await runScenario(stormScenario, {
      runtime: fake.runtime,
      log: fake.log,
      steps: fake.steps,
    });
    expect(results.validity?.status).toBe('degraded');
    expect(results.deployments).toHaveLength(2);
    expect(results.hypothesis.held).toBe(true);
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

describe('what the runner tells a watcher', () => {
  it('announces the run, each deployment, each phase, each fault once read back and its undo, in order', async () => {
    const fake = fakeRun();
    const events: RunEvent[] = [];
    await runScenario(stormScenario, {
      runtime: fake.runtime,
      log: fake.log,
      steps: fake.steps,
      watcher: { emit: (event) => events.push(event) },
    });
    const said = events
      .filter((event) => event.type !== 'second')
      .map((event) => {
        switch (event.type) {
          case 'run-started':
            return `run ${event.scenario.name}: ${event.variants.map((variant) => variant.label).join(', ')}`;
          case 'deployment-started':
            return `start ${event.label} ${event.routeUrls.checkout}`;
          case 'phase-started':
            return `${event.label} phase ${event.phase} ${event.startS}-${event.endS}`;
          case 'fault-applied':
            return `${event.label} t=${event.atS} + ${event.fault.kind} (${event.id})`;
          case 'fault-undone':
            return `${event.label} t=${event.atS} - ${event.id}`;
          default:
            return `${event.type}`;
        }
      });
    expect(said).toEqual([
      'run storm: monolith, split/retry',
      'start monolith http://fake/monolith/checkout',
      'monolith phase baseline 0-10',
      'monolith phase storm 10-15',
      'monolith t=10 + dbOutage (monolith@storm#1)',
      'monolith t=10 + flood (monolith@storm#2)',
      'monolith t=15 - monolith@storm#1',
      'monolith t=15 - monolith@storm#2',
      'monolith phase calm 15-20',
      'monolith phase crashy 20-24',
      'monolith phase after 24-30',
      'deployment-finished',
      'start split/retry http://fake/split/checkout',
      'split/retry phase baseline 0-10',
      'split/retry phase storm 10-15',
      'split/retry t=10 + partition (split/retry@storm#0)',
      'split/retry t=10 + dbOutage (split/retry@storm#1)',
      'split/retry t=10 + flood (split/retry@storm#2)',
      'split/retry t=15 - split/retry@storm#0',
      'split/retry t=15 - split/retry@storm#1',
      'split/retry t=15 - split/retry@storm#2',
      'split/retry phase calm 15-20',
      'split/retry phase crashy 20-24',
      'split/retry t=20 + crash (split/retry@crashy#0)',
      'split/retry t=24 - split/retry@crashy#0',
      'split/retry phase after 24-30',
      'deployment-finished',
    ]);
    // Each deployment's tally says its last (partial) second when the load ends.
    expect(events.filter((event) => event.type === 'second').map((event) => event.label)).toEqual(
      expect.arrayContaining(['monolith', 'split/retry']),
    );
  });

  it('never lets a watcher that throws break the run', async () => {
    const fake = fakeRun();
    const results = await runScenario(stormScenario, {
      runtime: fake.runtime,
      log: fake.log,
      steps: fake.steps,
      watcher: fanOut([
        {
          emit: () => {
            throw new Error('a broken viewer');
          },
        },
      ]),
    });
    expect(results.deployments).toHaveLength(2);
  });
});
