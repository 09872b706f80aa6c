/**
 * Known answers for the rest of the fault catalogue on the real stack: DNS failures that surface only
 * when the cached answer expires, crashes and restarts, and database outages; and for each, what the
 * lab reads back to prove the fault was in effect (`observe`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFault } from '../../lab/runtime/apply-fault.ts';
import { DEFAULT_DNS_TTL_SECONDS } from '../../lab/runtime/dns-server.ts';
import {
  crash,
  dbOutage,
  dnsFailure,
  partition,
  resolveFault,
  type Fault,
} from '../../lab/vocabulary/faults.ts';
import type { ActionObservation, StartedDeployment, StartedLab } from '../../lab/runtime/runtime.ts';
import {
  checkoutBody,
  payBody,
  post,
  startTestLab,
  TEST_RUNTIME,
  type TimedResponse,
} from './support/lab.ts';

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
/** What the lab reads back for the (one) runtime action `fault` resolves to in `deployment`. */
const observe = async (deployment: StartedDeployment, fault: Fault): Promise<ActionObservation> => {
  const [action, ...more] = resolveFault(fault, deployment.deployment);
  if (!action || action.type === 'flood' || more.length > 0) throw new Error('one runtime action expected');
  return await deployment.observe(action);
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
    const queriesBefore = await split.dnsQueryCount('payment-service');
    expect((await checkout(split)).status).toBe(201);
    const primedAt = performance.now();
    expect(await split.dnsQueryCount('payment-service')).toBeGreaterThan(queriesBefore);

    const fault = dnsFailure('payment-service', 'nxdomain');
    expect((await observe(split, fault)).inEffect).toBe(false);
    const heal = await applyFault(split, fault);
    const applied = await observe(split, fault);
    expect(applied.inEffect).toBe(true);
    expect(applied.evidence).toMatch(
      /^payment-service: answering nxdomain; queries answered per mode so far: answer \d+$/,
    );
    let firstDnsFailureAfterMs: number | undefined;
    let successesWhileCached = 0;
    try {
      while (performance.now() - primedAt < (DEFAULT_DNS_TTL_SECONDS + 3) * 1000) {
        const response = await checkout(split);
        if (response.status === 201) successesWhileCached += 1;
        else if (response.body.cause === 'dns') {
          firstDnsFailureAfterMs = performance.now() - primedAt;
          expect(response.status).toBe(502);
          // The evidence that the failure was served: the server answered NXDOMAIN at least once.
          expect((await observe(split, fault)).evidence).toMatch(/, nxdomain [1-9]\d*$/);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await heal();
    }
    expect((await observe(split, fault)).inEffect).toBe(false);
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
      const killed = await observe(split, crash('signup-service'));
      expect(killed.inEffect).toBe(true);
      expect(killed.evidence).toMatch(
        TEST_RUNTIME === 'containers'
          ? /^signup-service: container exited, Running false, Paused false, ExitCode 137$/
          : /^signup-service: pid \d+ was killed by SIGKILL$/,
      );
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
    const restarted = await observe(split, crash('signup-service'));
    expect(restarted.inEffect).toBe(false);
    expect(restarted.evidence).toMatch(/ running|Running true/);
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
      expect(await observe(split, dbOutage('payment'))).toMatchObject({
        inEffect: true,
        evidence: 'payment-db: no toxics; disabled',
      });
      expect((await signup(split)).status).toBe(201);
      const payResponse = await pay(split);
      expect(payResponse.status).toBe(503);
      expect(payResponse.body.cause).toBe('database');
    } finally {
      await heal();
    }
    expect(await observe(split, dbOutage('payment'))).toMatchObject({
      inEffect: false,
      evidence: 'payment-db: no toxics; enabled',
    });
    expect((await pay(split)).status).toBe(201);
  });
});

describe('observe', () => {
  it('reads a partition back from Toxiproxy: both streams cut while it lasts, nothing after the heal', async () => {
    const fault = partition('payment-api');
    expect((await observe(split, fault)).inEffect).toBe(false);
    const heal = await applyFault(split, fault);
    const appliedAt = performance.now();
    try {
      const seen = await observe(split, fault);
      // One GET of Toxiproxy's API: measured 2-12 ms on local, 3-15 ms on containers.
      console.log(
        `${TEST_RUNTIME}: partition observed ${(seen.atMs - appliedAt).toFixed(1)} ms after apply returned`,
      );
      expect(seen.atMs - appliedAt).toBeLessThan(500);
      expect(seen).toMatchObject({
        inEffect: true,
        evidence: 'payment-api: toxics timeout/upstream, timeout/downstream; enabled',
      });
    } finally {
      await heal();
    }
    expect((await observe(split, fault)).inEffect).toBe(false);
  });
});
