import http from 'node:http';
import net from 'node:net';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedPostgres } from '../../lab/runtime/local/embedded-postgres.ts';
import { findFreePort, isPortListening } from '../../lab/runtime/ports.ts';
import type { MetricsSnapshot } from '../../services/metrics/service-metrics.ts';
import { startSignupService, type SignupServiceConfig } from '../../services/signup-service.ts';
import {
  auditPool,
  forwardedHeaders,
  listen,
  metricsOf,
  post,
  readBody,
  sleep,
  startPaymentBackend,
  type Answer,
} from './support/services.ts';

// The resilience policies of split's outbound call, against a real payment-service and real PostgreSQL,
// with stand-ins in front of it that refuse, hang, or answer late. What the caller sees, what /metrics
// counts, and, for idempotency keys, what the payment ledger ends up holding.

const stack = new AsyncDisposableStack();
let postgres: StartedPostgres;
let paymentDb: pg.Pool;
let paymentUrl: string;
let paymentPort: number;

let sequence = 0;
const checkoutBody = (): Record<string, unknown> => ({
  email: `policies-${process.pid}-${(sequence += 1)}@example.com`,
  password: 'password1',
  amountCents: 4200,
});

function signupService(overrides: Partial<SignupServiceConfig>) {
  return startSignupService({
    databaseUrl: postgres.urlFor('signup'),
    scryptN: 1024,
    paymentUrl,
    ...overrides,
  });
}

interface DelayingProxy {
  readonly url: string;
  /** Requests forwarded to payment-service whose answer has not come back from it yet. */
  readonly upstreamInFlight: () => number;
}

/**
 * An HTTP proxy in front of payment-service that holds back the answer to each user's first charge for
 * `delayMs`, after payment-service has committed it: the "charge committed, answer late" case that makes
 * a caller retry something that already happened.
 */
async function startDelayingProxy(target: string, delayMs: number): Promise<DelayingProxy & AsyncDisposable> {
  const seenUsers = new Set<string>();
  let upstreamInFlight = 0;
  const server = http.createServer((request, response) => {
    response.on('error', () => undefined);
    void (async () => {
      const body = await readBody(request);
      const { userId } = JSON.parse(body) as { userId: string };
      const first = !seenUsers.has(userId);
      seenUsers.add(userId);
      const headers = forwardedHeaders(request);
      upstreamInFlight += 1;
      let status: number;
      let text: string;
      try {
        const answer = await fetch(`${target}${request.url ?? '/'}`, { method: 'POST', headers, body });
        status = answer.status;
        text = await answer.text();
      } finally {
        upstreamInFlight -= 1;
      }
      if (first) await sleep(delayMs);
      if (response.destroyed) return; // the caller's attempt timed out and hung up
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(text);
    })();
  });
  const listening = await listen(server);
  return {
    url: listening.url,
    upstreamInFlight: () => upstreamInFlight,
    [Symbol.asyncDispose]: () => listening[Symbol.asyncDispose](),
  };
}

beforeAll(async () => {
  ({ postgres, paymentUrl, paymentPort } = await startPaymentBackend(stack));
  paymentDb = auditPool(stack, postgres.urlFor('payment'));
});

afterAll(async () => {
  await stack.disposeAsync();
  expect(await isPortListening(paymentPort)).toBe(false);
  expect(await isPortListening(postgres.port)).toBe(false);
});

describe('PAYMENT_POLICY=retry', () => {
  it('makes exactly 3 attempts per checkout when payment-service refuses', async () => {
    const closedPort = await findFreePort();
    await using service = await signupService({
      paymentUrl: `http://127.0.0.1:${closedPort}`,
      paymentPolicy: 'retry',
    });
    const checkouts = 3;
    for (let index = 0; index < checkouts; index += 1) {
      const answer = await post(`${service.url}/checkout`, checkoutBody());
      expect(answer).toMatchObject({ status: 502, json: { cause: 'refused', userId: expect.any(String) } });
    }
    const metrics = await metricsOf(service.url);
    expect(metrics).toMatchObject({
      policy: 'retry',
      idempotency: 'on',
      circuitState: null,
      outboundInFlight: 0,
      counters: {
        outboundCalls: checkouts,
        outboundAttempts: checkouts * 3,
        outboundRetries: checkouts * 2,
        outboundFailuresByCause: { refused: checkouts },
      },
    });
    expect(metrics.counters.outboundAttempts / metrics.counters.outboundCalls).toBe(3);
  });

  it('retries a 5xx with the same Idempotency-Key and an X-Deadline-Ms no larger than the attempt timeout', async () => {
    const seen: { key: string | undefined; budget: number }[] = [];
    const flaky = http.createServer((request, response) => {
      request.resume();
      seen.push({
        key: request.headers['idempotency-key'] as string | undefined,
        budget: Number(request.headers['x-deadline-ms']),
      });
      const ok = seen.length === 3;
      response.writeHead(ok ? 201 : 503, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify(
          ok ? { paymentId: crypto.randomUUID(), replayed: false } : { error: 'busy', cause: 'database' },
        ),
      );
    });
    await using upstream = await listen(flaky);
    await using service = await signupService({
      paymentUrl: upstream.url,
      paymentPolicy: 'retry',
      paymentAttemptTimeoutMs: 800,
    });
    const answer = await post(`${service.url}/checkout`, checkoutBody());
    expect(answer.status).toBe(201);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map(({ key }) => key))).toEqual(
      new Set([`checkout-${String(answer.json['userId'])}`]),
    );
    for (const { budget } of seen) {
      expect(budget).toBeGreaterThan(0);
      expect(budget).toBeLessThanOrEqual(800);
    }
  });
});

describe('PAYMENT_POLICY=breaker', () => {
  it('opens after the threshold, then fails checkouts with circuit_open in a few ms', async () => {
    const closedPort = await findFreePort();
    await using service = await signupService({
      paymentUrl: `http://127.0.0.1:${closedPort}`,
      paymentPolicy: 'breaker',
      paymentBreakerThreshold: 2,
    });
    for (let index = 0; index < 2; index += 1) {
      expect((await post(`${service.url}/checkout`, checkoutBody())).json['cause']).toBe('refused');
    }
    const opened = await metricsOf(service.url);
    expect(opened).toMatchObject({
      policy: 'breaker',
      circuitState: 'open',
      counters: { outboundCalls: 2, outboundAttempts: 6, breakerOpened: 1 },
    });

    for (let index = 0; index < 3; index += 1) {
      const answer = await post(`${service.url}/checkout`, checkoutBody());
      expect(answer).toMatchObject({
        status: 503,
        json: { cause: 'circuit_open', error: expect.any(String), userId: expect.any(String) },
      });
      // Hash (N=1024) and insert included; the payment call itself is refused without any I/O.
      expect(answer.elapsedMs).toBeLessThan(150);
    }
    const after = await metricsOf(service.url);
    expect(after.counters).toMatchObject({
      outboundCalls: 5,
      outboundAttempts: 6, // nothing was sent while open
      outboundFailuresByCause: { refused: 2, circuit_open: 3 },
    });
  });
});

describe('PAYMENT_POLICY=bulkhead', () => {
  it('refuses a checkout with bulkhead_full while the only slot is taken', async () => {
    const stuck = net.createServer((socket) => socket.on('data', () => undefined));
    await using upstream = await listen(stuck);
    await using service = await signupService({
      paymentUrl: upstream.url,
      paymentPolicy: 'bulkhead',
      paymentDeadlineMs: 1_000,
      paymentBulkheadLimit: 1,
      paymentBulkheadQueue: 0,
    });
    const holding = post(`${service.url}/checkout`, checkoutBody());
    await expect.poll(async () => (await metricsOf(service.url)).outboundInFlight).toBe(1);
    const refused = await post(`${service.url}/checkout`, checkoutBody());
    expect(refused).toMatchObject({ status: 503, json: { cause: 'bulkhead_full' } });
    expect((await holding).json['cause']).toBe('deadline');
    expect((await metricsOf(service.url)).counters).toMatchObject({ bulkheadRejections: 1 });
  });
});

describe('PAYMENT_POLICY=none', () => {
  it('sends no X-Deadline-Ms and keeps waiting past the deadline until the socket closes', async () => {
    const sockets: net.Socket[] = [];
    const requests: string[] = [];
    const stuck = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (chunk) => requests.push(chunk.toString('latin1')));
    });
    await using upstream = await listen(stuck);
    await using service = await signupService({
      paymentUrl: upstream.url,
      paymentPolicy: 'none',
      paymentDeadlineMs: 100,
    });
    const pending = post(`${service.url}/checkout`, checkoutBody(), { 'x-deadline-ms': '200' });
    await expect.poll(() => requests.length).toBe(1);
    await sleep(600);
    // Six times the configured deadline and three times the client's own budget: still waiting.
    expect(await metricsOf(service.url)).toMatchObject({
      policy: 'none',
      circuitState: null,
      outboundInFlight: 1,
      counters: { outboundCalls: 1, outboundAttempts: 1 },
    });
    expect(requests[0]).toMatch(/idempotency-key: checkout-/i);
    expect(requests[0]).not.toMatch(/x-deadline-ms/i);

    for (const socket of sockets) socket.destroy();
    const answer = await pending;
    expect(answer).toMatchObject({ status: 502, json: { cause: 'reset' } });
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(600);
    expect((await metricsOf(service.url)).outboundInFlight).toBe(0);
  });
});

describe('PAYMENT_IDEMPOTENCY with retries after a committed charge answered late', () => {
  async function checkoutThroughLateProxy(
    idempotency: 'on' | 'off',
  ): Promise<{ answer: Answer; rows: { id: string; idempotency_key: string }[]; metrics: MetricsSnapshot }> {
    await using proxy = await startDelayingProxy(paymentUrl, 700);
    await using service = await signupService({
      paymentUrl: proxy.url,
      paymentPolicy: 'retry',
      paymentIdempotency: idempotency,
      paymentAttemptTimeoutMs: 300,
    });
    const answer = await post(`${service.url}/checkout`, checkoutBody());
    // Every forwarded charge has reached payment-service and come back before the ledger is read.
    await expect.poll(() => proxy.upstreamInFlight()).toBe(0);
    const { rows } = await paymentDb.query<{ id: string; idempotency_key: string }>(
      'SELECT id, idempotency_key FROM payments WHERE user_id = $1 ORDER BY created_at',
      [answer.json['userId']],
    );
    return { answer, rows, metrics: await metricsOf(service.url) };
  }

  it('off: the retry charges the same user a second time', async () => {
    const { answer, rows, metrics } = await checkoutThroughLateProxy('off');
    expect(answer).toMatchObject({
      status: 201,
      json: { userId: expect.any(String), paymentId: expect.any(String) },
    });
    expect(rows.length).toBeGreaterThan(1);
    expect(new Set(rows.map((row) => row.idempotency_key)).size).toBe(rows.length);
    expect(metrics).toMatchObject({
      idempotency: 'off',
      counters: { outboundCalls: 1, outboundAttempts: 2 },
    });
  });

  it('on: the retry is replayed, and the user is charged exactly once', async () => {
    const { answer, rows, metrics } = await checkoutThroughLateProxy('on');
    expect(answer.status).toBe(201);
    expect(rows).toEqual([
      { id: answer.json['paymentId'], idempotency_key: `checkout-${String(answer.json['userId'])}` },
    ]);
    expect(metrics).toMatchObject({ idempotency: 'on', counters: { outboundCalls: 1, outboundAttempts: 2 } });
  });
});
