import http from 'node:http';
import net from 'node:net';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedPostgres } from '../../lab/runtime/local/embedded-postgres.ts';
import { findFreePort, isPortListening } from '../../lab/runtime/ports.ts';
import { startPaymentService } from '../../services/payment-service.ts';
import { startSignupService, type SignupServiceConfig } from '../../services/signup-service.ts';
import {
  auditPool,
  count,
  forwardedHeaders,
  listen,
  metricsOf,
  post,
  readBody,
  sleep,
  startPaymentBackend,
} from './support/services.ts';

// CHECKOUT_CONSISTENCY=saga and =outbox in split's signup-service, against a real payment-service and
// real PostgreSQL, with stand-ins in front of payment-service that refuse, lose the answer after the
// charge committed, or lose the request before it arrived. What the client is told, and what the two
// databases hold once the reconciler or the relay has done its work.

const stack = new AsyncDisposableStack();
let postgres: StartedPostgres;
let signupDb: pg.Pool;
let paymentDb: pg.Pool;
let paymentUrl: string;
let paymentPort: number;

async function get(url: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

let sequence = 0;
const checkoutBody = (): { email: string; password: string; amountCents: number } => ({
  email: `consistency-${process.pid}-${(sequence += 1)}@example.com`,
  password: 'password1',
  amountCents: 4200,
});

function signupService(overrides: Partial<SignupServiceConfig>) {
  return startSignupService({
    databaseUrl: postgres.urlFor('signup'),
    scryptN: 1024,
    paymentUrl,
    sagaReconcileIntervalMs: 100,
    outboxRelayIntervalMs: 100,
    ...overrides,
  });
}

/**
 * An HTTP proxy in front of payment-service that forwards everything (the reconciler's GET /charges
 * included) except that it treats POST /charge as told: `late` forwards it, lets payment-service commit,
 * and holds the answer back for `lateMs`; `drop` never forwards it and never answers.
 */
async function startPaymentProxy(
  target: string,
  options: { charge: 'late' | 'drop'; lateMs?: number; port?: number },
): Promise<{ url: string; chargesSeen: () => number; upstreamInFlight: () => number } & AsyncDisposable> {
  let chargesSeen = 0;
  let upstreamInFlight = 0;
  const server = http.createServer((request, response) => {
    response.on('error', () => undefined);
    void (async () => {
      const body = await readBody(request);
      const isCharge = request.method === 'POST' && request.url === '/charge';
      if (isCharge) chargesSeen += 1;
      if (isCharge && options.charge === 'drop') return; // lost on the way: payment-service never sees it
      const headers = forwardedHeaders(request);
      upstreamInFlight += 1;
      let answer: Response;
      let text: string;
      try {
        answer = await fetch(`${target}${request.url ?? '/'}`, {
          method: request.method ?? 'GET',
          headers,
          ...(request.method === 'POST' ? { body } : {}),
        });
        text = await answer.text();
      } finally {
        upstreamInFlight -= 1;
      }
      if (isCharge) await sleep(options.lateMs ?? 0);
      if (response.destroyed) return; // the caller gave up and hung up
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(text);
    })().catch(() => response.destroy());
  });
  const listening = await listen(server, options.port);
  return {
    url: listening.url,
    chargesSeen: () => chargesSeen,
    upstreamInFlight: () => upstreamInFlight,
    [Symbol.asyncDispose]: () => listening[Symbol.asyncDispose](),
  };
}

async function userIdsByEmail(email: string): Promise<string[]> {
  const { rows } = await signupDb.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]);
  return rows.map((row) => row.id);
}

const paymentsOf = (userId: string): Promise<number> =>
  count(paymentDb, 'payments WHERE user_id = $1', [userId]);

beforeAll(async () => {
  ({ postgres, paymentUrl, paymentPort } = await startPaymentBackend(stack));
  signupDb = auditPool(stack, postgres.urlFor('signup'));
  paymentDb = auditPool(stack, postgres.urlFor('payment'));
});

afterAll(async () => {
  await stack.disposeAsync();
  expect(await isPortListening(paymentPort)).toBe(false);
  expect(await isPortListening(postgres.port)).toBe(false);
});

describe('payment-service GET /charges?userId=', () => {
  it("lists the user's payments, an empty list for a user never charged", async () => {
    const userId = crypto.randomUUID();
    expect(await get(`${paymentUrl}/charges?userId=${userId}`)).toEqual({
      status: 200,
      json: { userId, payments: [] },
    });
    const charged = await post(
      `${paymentUrl}/charge`,
      { userId, amountCents: 1234 },
      { 'idempotency-key': `k-${userId}` },
    );
    expect(charged.status).toBe(201);
    expect(await get(`${paymentUrl}/charges?userId=${userId.toUpperCase()}`)).toEqual({
      status: 200,
      json: {
        userId,
        payments: [
          { paymentId: charged.json['paymentId'], userId, amountCents: 1234, idempotencyKey: `k-${userId}` },
        ],
      },
    });
  });

  it.each([
    ['', /userId query parameter is required/],
    ['?userId=', /userId query parameter is required/],
    ['?userId=42', /userId must be a uuid/],
    ["?userId=x'%20OR%201=1", /userId must be a uuid/],
  ])('answers 400 naming userId for %j', async (query, message) => {
    const answer = await get(`${paymentUrl}/charges${query}`);
    expect(answer).toMatchObject({ status: 400, json: { field: 'userId' } });
    expect(String(answer.json['error'])).toMatch(message);
  });
});

describe('CHECKOUT_CONSISTENCY=none', () => {
  it('reports its strategy and no pending work', async () => {
    await using service = await signupService({});
    expect(await metricsOf(service.url)).toMatchObject({
      checkoutConsistency: 'none',
      outboxPending: 0,
      sagaPending: 0,
      counters: { sagaCompensations: 0, sagaReconciled: 0, outboxDelivered: 0 },
    });
  });
});

describe('CHECKOUT_CONSISTENCY=saga', () => {
  it('commits the user and the payment and leaves nothing pending when the charge succeeds', async () => {
    await using service = await signupService({ checkoutConsistency: 'saga' });
    const answer = await post(`${service.url}/checkout`, checkoutBody());
    expect(answer).toEqual({
      status: 201,
      json: { userId: expect.any(String), paymentId: expect.any(String) },
      elapsedMs: expect.any(Number),
    });
    const userId = String(answer.json['userId']);
    expect(await paymentsOf(userId)).toBe(1);
    expect(await count(signupDb, 'pending_checkouts WHERE user_id = $1', [userId])).toBe(0);
    expect(await metricsOf(service.url)).toMatchObject({ checkoutConsistency: 'saga', sagaPending: 0 });
  });

  it('deletes the user at once when payment-service refuses: 502 refused, compensated', async () => {
    const closedPort = await findFreePort();
    await using service = await signupService({
      checkoutConsistency: 'saga',
      paymentUrl: `http://127.0.0.1:${closedPort}`,
    });
    const body = checkoutBody();
    const answer = await post(`${service.url}/checkout`, body);
    expect(answer).toMatchObject({
      status: 502,
      json: { cause: 'refused', compensated: true, outcome: 'not_charged', userId: expect.any(String) },
    });
    expect(await userIdsByEmail(body.email)).toEqual([]);
    expect(await count(signupDb, 'pending_checkouts WHERE user_id = $1', [answer.json['userId']])).toBe(0);
    expect(await metricsOf(service.url)).toMatchObject({
      sagaPending: 0,
      counters: { sagaCompensations: 1, sagaReconciled: 0, outboundFailuresByCause: { refused: 1 } },
    });
    // The email is free again: the client can simply try once more.
    expect((await post(`${service.url}/checkout`, { ...body })).json['cause']).toBe('refused');
  });

  it('keeps the user when the charge committed but its answer came too late: 504 unknown, then reconciled', async () => {
    await using proxy = await startPaymentProxy(paymentUrl, { charge: 'late', lateMs: 800 });
    await using service = await signupService({
      checkoutConsistency: 'saga',
      paymentUrl: proxy.url,
      paymentDeadlineMs: 300,
    });
    const body = checkoutBody();
    const answer = await post(`${service.url}/checkout`, body);
    expect(answer).toMatchObject({
      status: 504,
      json: { cause: 'deadline', outcome: 'unknown', compensated: false, userId: expect.any(String) },
    });
    const userId = String(answer.json['userId']);
    expect(await userIdsByEmail(body.email)).toEqual([userId]);
    expect((await metricsOf(service.url)).sagaPending).toBe(1);

    await expect.poll(async () => (await metricsOf(service.url)).sagaPending, { timeout: 5_000 }).toBe(0);
    expect(await userIdsByEmail(body.email)).toEqual([userId]);
    expect(await paymentsOf(userId)).toBe(1);
    expect(await count(signupDb, 'pending_checkouts WHERE user_id = $1', [userId])).toBe(0);
    expect((await metricsOf(service.url)).counters).toMatchObject({
      sagaReconciled: 1,
      sagaCompensations: 0,
    });
    await expect.poll(() => proxy.upstreamInFlight()).toBe(0);
  });

  it('deletes the user when the request was lost before payment-service: 504 unknown, then compensated', async () => {
    await using proxy = await startPaymentProxy(paymentUrl, { charge: 'drop' });
    await using service = await signupService({
      checkoutConsistency: 'saga',
      paymentUrl: proxy.url,
      paymentDeadlineMs: 300,
    });
    const body = checkoutBody();
    const answer = await post(`${service.url}/checkout`, body);
    expect(answer).toMatchObject({ status: 504, json: { cause: 'deadline', outcome: 'unknown' } });
    const userId = String(answer.json['userId']);
    expect(proxy.chargesSeen()).toBe(1);
    expect(await userIdsByEmail(body.email)).toEqual([userId]);

    await expect.poll(async () => (await metricsOf(service.url)).sagaPending, { timeout: 5_000 }).toBe(0);
    expect(await userIdsByEmail(body.email)).toEqual([]);
    expect(await paymentsOf(userId)).toBe(0);
    expect((await metricsOf(service.url)).counters).toMatchObject({
      sagaReconciled: 1,
      sagaCompensations: 1,
    });
  });

  it('does not compensate a refused retry when an earlier attempt may have committed', async () => {
    // The first attempt is swallowed (it may have been charged); then nothing listens: later attempts are
    // refused. The last cause alone would say "not charged" and delete the user.
    const port = await findFreePort();
    const swallowing = net.createServer((socket) => {
      socket.on('error', () => undefined);
      swallowing.close();
    });
    await new Promise<void>((resolve) => swallowing.listen(port, '127.0.0.1', resolve));
    await using service = await signupService({
      checkoutConsistency: 'saga',
      paymentUrl: `http://127.0.0.1:${port}`,
      paymentPolicy: 'retry',
      paymentAttemptTimeoutMs: 200,
      paymentDeadlineMs: 3_000,
    });
    const body = checkoutBody();
    const answer = await post(`${service.url}/checkout`, body);
    expect(answer).toMatchObject({
      status: 502,
      json: { cause: 'refused', outcome: 'unknown', compensated: false },
    });
    const userId = String(answer.json['userId']);
    expect(await userIdsByEmail(body.email)).toEqual([userId]);
    expect((await metricsOf(service.url)).counters).toMatchObject({
      outboundAttempts: 3,
      sagaCompensations: 0,
    });

    // payment-service comes back at that address; it never saw the charge, so the reconciler compensates.
    await using comeback = await startPaymentProxy(paymentUrl, { charge: 'drop', port });
    await expect.poll(async () => (await metricsOf(service.url)).sagaPending, { timeout: 5_000 }).toBe(0);
    expect(await userIdsByEmail(body.email)).toEqual([]);
    expect((await metricsOf(service.url)).counters).toMatchObject({ sagaCompensations: 1 });
    // The reconciler only asks; it never charges.
    expect(comeback.chargesSeen()).toBe(0);
  });

  it('stops its reconciler on close, even while payment-service is unreachable', async () => {
    const closedPort = await findFreePort();
    const service = await signupService({
      checkoutConsistency: 'saga',
      paymentUrl: `http://127.0.0.1:${closedPort}`,
      sagaReconcileIntervalMs: 20,
    });
    await sleep(100);
    const startedAt = performance.now();
    await service.close();
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    await service.close();
  });
});

describe('CHECKOUT_CONSISTENCY=outbox', () => {
  it('answers 202 at once while payment-service is down, then delivers every charge exactly once', async () => {
    const port = await findFreePort();
    await using service = await signupService({
      checkoutConsistency: 'outbox',
      paymentUrl: `http://127.0.0.1:${port}`,
      // The outbox sends each row's own key on every attempt whatever this says.
      paymentIdempotency: 'off',
    });
    const checkouts = 5;
    const userIds: string[] = [];
    for (let index = 0; index < checkouts; index += 1) {
      const answer = await post(`${service.url}/checkout`, checkoutBody());
      expect(answer).toMatchObject({ status: 202, json: { userId: expect.any(String), status: 'pending' } });
      expect(answer.elapsedMs).toBeLessThan(500);
      userIds.push(String(answer.json['userId']));
    }
    expect(await count(signupDb, 'users WHERE id = ANY($1)', [userIds])).toBe(checkouts);
    expect(await count(paymentDb, 'payments WHERE user_id = ANY($1)', [userIds])).toBe(0);
    expect(await metricsOf(service.url)).toMatchObject({
      checkoutConsistency: 'outbox',
      idempotency: 'on',
      outboxPending: checkouts,
      sagaPending: 0,
    });
    // The relay keeps trying and counts its attempts.
    await expect
      .poll(() => count(signupDb, 'outbox WHERE user_id = ANY($1) AND attempts > 0', [userIds]))
      .toBeGreaterThan(0);

    await using comeback = await startPaymentService({ databaseUrl: postgres.urlFor('payment'), port });
    expect(comeback.port).toBe(port);
    await expect.poll(async () => (await metricsOf(service.url)).outboxPending, { timeout: 5_000 }).toBe(0);
    const { rows } = await paymentDb.query<{ user_id: string; n: number; keys: string[] }>(
      `SELECT user_id, count(*)::int AS n, array_agg(idempotency_key) AS keys FROM payments
       WHERE user_id = ANY($1) GROUP BY user_id`,
      [userIds],
    );
    expect(rows).toHaveLength(checkouts); // no orphans
    for (const row of rows) {
      expect(row.n).toBe(1); // no double charges
      expect(row.keys).toEqual([`checkout-${row.user_id}`]);
    }
    expect(await count(signupDb, 'outbox WHERE user_id = ANY($1) AND delivered_at IS NULL', [userIds])).toBe(
      0,
    );
    expect(
      await count(
        signupDb,
        'outbox o WHERE user_id = ANY($1) AND payment_id IS NOT NULL AND last_error IS NULL',
        [userIds],
      ),
    ).toBe(checkouts);
    expect((await metricsOf(service.url)).counters).toMatchObject({ outboxDelivered: checkouts });
  });

  it('refuses a second checkout with the same client Idempotency-Key, which could never be delivered', async () => {
    await using service = await signupService({ checkoutConsistency: 'outbox' });
    const key = `outbox-key-${process.pid}-${sequence}`;
    const first = await post(`${service.url}/checkout`, checkoutBody(), { 'idempotency-key': key });
    expect(first.status).toBe(202);
    const body = checkoutBody();
    const second = await post(`${service.url}/checkout`, body, { 'idempotency-key': key });
    expect(second).toMatchObject({ status: 422, json: { field: 'Idempotency-Key' } });
    expect(await userIdsByEmail(body.email)).toEqual([]);
    await expect.poll(async () => (await metricsOf(service.url)).outboxPending, { timeout: 5_000 }).toBe(0);
    expect(await count(paymentDb, 'payments WHERE idempotency_key = $1', [key])).toBe(1);
  });

  it('stops its relay on close while a charge hangs, even under PAYMENT_POLICY=none', async () => {
    const stuck = net.createServer((socket) => socket.on('data', () => undefined));
    await using upstream = await listen(stuck);
    const service = await signupService({
      checkoutConsistency: 'outbox',
      paymentUrl: upstream.url,
      paymentPolicy: 'none',
    });
    expect((await post(`${service.url}/checkout`, checkoutBody())).status).toBe(202);
    await expect.poll(async () => (await metricsOf(service.url)).outboundInFlight).toBeGreaterThan(0);
    const startedAt = performance.now();
    await service.close();
    expect(performance.now() - startedAt).toBeLessThan(4_000);
  });
});
