/**
 * The deploy and stall faults on the real stack (this file runs on both runtimes): a deploy replaces
 * payment-service's process (local) or container (containers) on the same address, lets the request in
 * flight finish, and stays after its undo; a stall freezes the service until its undo thaws it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFault } from '../../lab/runtime/apply-fault.ts';
import type { RuntimeAction, StartedDeployment, StartedLab } from '../../lab/runtime/runtime.ts';
import { crash, latency, stall } from '../../lab/vocabulary/faults.ts';
import { payBody, post, startTestLab } from './support/lab.ts';

let lab: StartedLab;
let split: StartedDeployment;

beforeAll(async () => {
  lab = await startTestLab();
  split = await lab.startDeployment('split');
});

afterAll(async () => {
  await lab?.stop();
});

async function healthz(deployment: StartedDeployment, service: string): Promise<Record<string, unknown>> {
  const endpoint = deployment.services.find((candidate) => candidate.name === service);
  if (!endpoint) throw new Error(`no ${service}`);
  const response = await fetch(endpoint.metricsUrl.replace(/\/metrics$/, '/healthz'));
  return (await response.json()) as Record<string, unknown>;
}

/** A /pay body with a currency: v1 ignores it, v2 requires it (see service-version.ts). */
async function pay(deployment: StartedDeployment) {
  const request = payBody();
  return await post(deployment.routeUrl('pay'), { ...request.body, currency: 'EUR' }, request.headers);
}

describe('deploy', () => {
  it('replaces payment-service on the same address, drains the request in flight, and stays', async () => {
    const routeBefore = split.routeUrl('pay');
    const metricsBefore = split.services.map((service) => service.metricsUrl);
    expect(await healthz(split, 'payment-service')).toMatchObject({ status: 'ok', version: 'v1' });
    const action: RuntimeAction = {
      type: 'deploy',
      service: 'payment-service',
      version: 'v2',
      drainMs: 8000,
    };

    // +1.2 s on every answer from payment's database: a /pay is in the old process for over a second.
    const slowDatabase = await applyFault(split, latency('payment-db', { ms: 1200 }));
    let inFlight: Awaited<ReturnType<typeof pay>>;
    let deploying: Promise<() => Promise<void>>;
    const deployStartedAtMs = performance.now();
    try {
      const sent = pay(split);
      await new Promise((resolve) => setTimeout(resolve, 300));
      deploying = split.apply(action);
      inFlight = await sent;
    } finally {
      // Before the new process checks its health: /healthz asks the database, and the lab gives it 1 s.
      await slowDatabase();
    }
    const undo = await deploying;
    const deployMs = performance.now() - deployStartedAtMs;
    // The old process answered it before it exited: the drain, not a cut connection.
    expect(inFlight.status).toBe(201);
    // It waited for that request (> 1.2 s of database latency, less the 0.3 s head start) and did not
    // need the 8 s SIGKILL deadline; the new process's start is a few seconds at most on 2 busy cores.
    expect(deployMs).toBeGreaterThan(900);
    expect(deployMs).toBeLessThan(20_000);

    const observed = await split.observe(action);
    expect(observed.inEffect).toBe(true);
    expect(observed.evidence).toContain('version v2');
    expect(observed.evidence).toMatch(/exited with code 0 after [\d.]+ s \(drained\)/);
    expect(await healthz(split, 'payment-service')).toMatchObject({ status: 'ok', version: 'v2' });
    // Same address: the edge link and the direct metrics URL are the ones from before.
    expect(split.routeUrl('pay')).toBe(routeBefore);
    expect(split.services.map((service) => service.metricsUrl)).toEqual(metricsBefore);
    expect((await pay(split)).status).toBe(201);

    // Its undo does nothing: v2 stays, as after a real deploy.
    await undo();
    expect((await split.observe(action)).inEffect).toBe(true);
    expect(await healthz(split, 'payment-service')).toMatchObject({ version: 'v2' });
  });

  it('leaves later faults acting on the new process: a crash and its restart keep the deployed version', async () => {
    const restart = await applyFault(split, crash('payment-service'));
    expect((await split.observe({ type: 'crash', service: 'payment-service' })).inEffect).toBe(true);
    await restart();
    expect(await healthz(split, 'payment-service')).toMatchObject({ status: 'ok', version: 'v2' });
    // Back to v1 for the tests that follow: a deploy without a version keeps the running one.
    await split.apply({ type: 'deploy', service: 'payment-service', version: 'v1', drainMs: 5000 });
    await split.apply({ type: 'deploy', service: 'payment-service', drainMs: 5000 });
    expect(await healthz(split, 'payment-service')).toMatchObject({ version: 'v1' });
    expect(
      (await split.observe({ type: 'deploy', service: 'payment-service', drainMs: 5000 })).inEffect,
    ).toBe(true);
  });
});

describe('stall', () => {
  it('freezes payment-service (a request hangs) until its undo thaws it (the request completes)', async () => {
    const action: RuntimeAction = { type: 'stall', service: 'payment-service' };
    const thaw = await applyFault(split, stall('payment-service'));
    let answer: Awaited<ReturnType<typeof pay>>;
    let answeredAtMs = 0;
    const thawedAtMs: { value?: number } = {};
    try {
      const observed = await split.observe(action);
      expect(observed.inEffect).toBe(true);
      expect(observed.evidence).toMatch(/state T|Paused true/);
      const sent = pay(split).then((response) => {
        answeredAtMs = performance.now();
        return response;
      });
      // 1.5 s with no answer: a frozen process answers nothing (an unfrozen /pay takes tens of ms).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(answeredAtMs).toBe(0);
      thawedAtMs.value = performance.now();
      await thaw();
      answer = await sent;
    } finally {
      await thaw();
    }
    expect(answer.status).toBe(201);
    // Answered after the thaw, not before.
    expect(answeredAtMs).toBeGreaterThanOrEqual(thawedAtMs.value ?? Infinity);
    expect((await split.observe(action)).inEffect).toBe(false);
  });
});
