/**
 * Known answers for the rest of the fault catalogue on the real stack: DNS failures that surface only
 * when the cached answer expires, crashes and restarts, and database outages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFault } from '../../lab/runtime/apply-fault.ts';
import { DEFAULT_DNS_TTL_SECONDS } from '../../lab/runtime/dns-server.ts';
import { crash, dbOutage, dnsFailure } from '../../lab/vocabulary/faults.ts';
import type { StartedDeployment, StartedLab } from '../../lab/runtime/runtime.ts';
import { checkoutBody, payBody, post, startTestLab, type TimedResponse } from './support/lab.ts';

let lab: StartedLab;
let monolith: StartedDeployment;
let split: StartedDeployment;

beforeAll(async () => {
  // One request per connection: every checkout opens a new connection to payment-service, so every
  // one asks the (caching) resolver. The scenarios use the services' default of 50.
  lab = await startTestLab({ PAYMENT_REQUESTS_PER_CONNECTION: '1' });
  monolith = await lab.startDeployment('monolith');
  split = await lab.startDeployment('split');
});

afterAll(async () => {
  await lab?.stop();
});

const checkout = async (deployment: StartedDeployment): Promise<TimedResponse> => {
  const request = checkoutBody();
  return await post(deployment.routeUrl('checkout'), request.body, request.headers);
};
const pay = async (deployment: StartedDeployment): Promise<TimedResponse> => {
  const request = payBody();
  return await post(deployment.routeUrl('pay'), request.body, request.headers);
};
const signup = async (deployment: StartedDeployment): Promise<TimedResponse> => {
  const request = checkoutBody();
  return await post(deployment.routeUrl('signup'), {
    email: request.body.email,
    password: 'correct horse battery',
  });
};

describe('dnsFailure', () => {
  it('gives cause "dns" only once the cached answer has expired', async () => {
    // Prime the cache: this lookup's answer lives for the record's TTL.
    const queriesBefore = split.dnsQueryCount('payment-service');
    expect((await checkout(split)).status).toBe(201);
    const primedAt = performance.now();
    expect(split.dnsQueryCount('payment-service')).toBeGreaterThan(queriesBefore);

    const heal = await applyFault(split, dnsFailure('payment-service', 'nxdomain'));
    let firstDnsFailureAfterMs: number | undefined;
    let successesWhileCached = 0;
    try {
      while (performance.now() - primedAt < (DEFAULT_DNS_TTL_SECONDS + 3) * 1000) {
        const response = await checkout(split);
        if (response.status === 201) successesWhileCached += 1;
        else if (response.body.cause === 'dns') {
          firstDnsFailureAfterMs = performance.now() - primedAt;
          expect(response.status).toBe(502);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await heal();
    }
    // The stale-but-valid answer kept checkout working for most of the TTL ...
    expect(successesWhileCached).toBeGreaterThan(5);
    // ... and the failure surfaced when it expired: TTL 5 s, tolerance -0.5 s / +1.5 s for the request
    // in flight when it expired and for the resolver's own clock.
    expect(firstDnsFailureAfterMs).toBeDefined();
    expect(firstDnsFailureAfterMs!).toBeGreaterThan((DEFAULT_DNS_TTL_SECONDS - 0.5) * 1000);
    expect(firstDnsFailureAfterMs!).toBeLessThan((DEFAULT_DNS_TTL_SECONDS + 1.5) * 1000);
    // After the heal the resolver asks again (a failure is cached for well under a second).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await checkout(split)).status).toBe(201);
  });
});

describe('crash', () => {
  it('kills signup-service: split pay keeps working, checkout fails fast, and the restart recovers', async () => {
    const restart = await applyFault(split, crash('signup-service'));
    try {
      const failed = await checkout(split);
      expect(failed.status).toBeNull();
      // Toxiproxy accepts the connection, then cannot reach the dead upstream and closes it: a reset.
      expect(failed.errorCode).toMatch(/ECONNRESET|UND_ERR_SOCKET|other side closed/);
      expect(failed.elapsedMs).toBeLessThan(1000);
      expect((await pay(split)).status).toBe(201);
    } finally {
      const restartStarted = performance.now();
      await restart();
      // The restart includes a real process start and a health check: a few seconds at most.
      expect(performance.now() - restartStarted).toBeLessThan(10_000);
    }
    expect((await checkout(split)).status).toBe(201);
  });

  it('kills the monolith: every route fails until the restart', async () => {
    const restart = await applyFault(monolith, crash('monolith'));
    try {
      for (const response of [await signup(monolith), await pay(monolith), await checkout(monolith)]) {
        expect(response.status).toBeNull();
      }
    } finally {
      await restart();
    }
    expect((await pay(monolith)).status).toBe(201);
  });
});

describe('dbOutage', () => {
  it("takes the monolith's one database down for every feature", async () => {
    const heal = await applyFault(monolith, dbOutage('payment'));
    try {
      const [signupResponse, payResponse] = [await signup(monolith), await pay(monolith)];
      expect(signupResponse.status).toBe(503);
      expect(signupResponse.body.cause).toBe('database');
      expect(payResponse.status).toBe(503);
      expect(payResponse.body.cause).toBe('database');
    } finally {
      await heal();
    }
    expect((await pay(monolith)).status).toBe(201);
  });

  it("in split, takes only payment's database down: signup keeps working", async () => {
    const heal = await applyFault(split, dbOutage('payment'));
    try {
      expect((await signup(split)).status).toBe(201);
      const payResponse = await pay(split);
      expect(payResponse.status).toBe(503);
      expect(payResponse.body.cause).toBe('database');
    } finally {
      await heal();
    }
    expect((await pay(split)).status).toBe(201);
  });
});
