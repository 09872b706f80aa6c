/**
 * Known answers for the walking skeleton's faults, on the real stack: real Toxiproxy, real PostgreSQL,
 * real services over real HTTP. Tolerances are stated next to each assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFault } from '../../lab/runtime/apply-fault.ts';
import { latency, outage, partition } from '../../lab/vocabulary/faults.ts';
import type { StartedDeployment, StartedLab } from '../../lab/runtime/runtime.ts';
import { checkoutBody, median, payBody, post, startTestLab, TEST_RUNTIME } from './support/lab.ts';

let lab: StartedLab;
let monolith: StartedDeployment;
let split: StartedDeployment;

beforeAll(async () => {
  lab = await startTestLab();
  monolith = await lab.startDeployment('monolith');
  split = await lab.startDeployment('split');
});

afterAll(async () => {
  await lab?.stop();
});

async function medianPayMs(deployment: StartedDeployment, count = 15): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    const request = payBody();
    const response = await post(deployment.routeUrl('pay'), request.body, request.headers);
    expect(response.status).toBe(201);
    times.push(response.elapsedMs);
  }
  return median(times);
}

describe('latency', () => {
  it('adds its delay to a request, within 60 ms', async () => {
    const before = await medianPayMs(monolith);
    // Downstream only, so one request-response pays it once.
    const undo = await applyFault(monolith, latency('edge-monolith', { ms: 200 }));
    try {
      const during = await medianPayMs(monolith);
      // Tolerance: the median added delay is 200 ms, give or take 60 ms of scheduling noise on 2 cores.
      expect(during - before).toBeGreaterThan(140);
      expect(during - before).toBeLessThan(260);
    } finally {
      await undo();
    }
    const after = await medianPayMs(monolith);
    expect(after).toBeLessThan(before + 60);
  });
});

describe('outage', () => {
  it('gives split checkout cause "refused", fast', async () => {
    const undo = await applyFault(split, outage('payment-api'));
    try {
      const request = checkoutBody();
      const response = await post(split.routeUrl('checkout'), request.body, request.headers);
      expect(response.status).toBe(502);
      expect(response.body.cause).toBe('refused');
      // Refused is an immediate answer from the kernel: well under a second, never the 5 s deadline.
      expect(response.elapsedMs).toBeLessThan(1000);
    } finally {
      await undo();
    }
    const request = checkoutBody();
    expect((await post(split.routeUrl('checkout'), request.body, request.headers)).status).toBe(201);
  });

  it('refuses the load generator itself when an edge link is down', async () => {
    const undo = await applyFault(split, outage('edge-payment'));
    try {
      const request = payBody();
      const response = await post(split.routeUrl('pay'), request.body, request.headers);
      expect(response.status).toBeNull();
      // On containers the load generator reaches Toxiproxy through a published port. Docker's userland
      // proxy (docker-proxy, on by default) accepts on the host side, then finds nothing listening in the
      // container and closes: a reset. Engines with userland-proxy=false refuse, as local does.
      if (TEST_RUNTIME === 'containers')
        expect(response.errorCode).toMatch(/^(ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET)$/);
      else expect(response.errorCode).toBe('ECONNREFUSED');
      expect(response.elapsedMs).toBeLessThan(500);
    } finally {
      await undo();
    }
  });
});

describe('partition', () => {
  it('fails split checkout by its 5 s deadline while monolith checkout succeeds, and heals', async () => {
    const undo = await applyFault(split, partition('payment-api'));
    let healed = false;
    try {
      const splitRequest = checkoutBody();
      const monolithRequest = checkoutBody();
      const [splitResponse, monolithResponse] = await Promise.all([
        post(split.routeUrl('checkout'), splitRequest.body, splitRequest.headers),
        post(monolith.routeUrl('checkout'), monolithRequest.body, monolithRequest.headers),
      ]);
      expect(monolithResponse.status).toBe(201);
      expect(splitResponse.status).toBe(504);
      expect(splitResponse.body.cause).toBe('deadline');
      // Tolerance: the deadline is 5000 ms; allow 4.8 s to 6 s for timers and the user insert before the call.
      expect(splitResponse.elapsedMs).toBeGreaterThan(4800);
      expect(splitResponse.elapsedMs).toBeLessThan(6000);

      // Pay goes straight to payment-service over its own edge link: untouched by the partition.
      const pay = payBody();
      expect((await post(split.routeUrl('pay'), pay.body, pay.headers)).status).toBe(201);
    } finally {
      await undo();
      healed = true;
    }
    expect(healed).toBe(true);
    const request = checkoutBody();
    const afterHeal = await post(split.routeUrl('checkout'), request.body, request.headers);
    expect(afterHeal.status).toBe(201);
    expect(afterHeal.elapsedMs).toBeLessThan(2000);
  });
});
