import http from 'node:http';
import net from 'node:net';
import type { LookupOptions } from 'node:dns';
import { promisify } from 'node:util';
import { createServer as createDnsServer, Packet } from 'dns2';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedPostgres } from '../../lab/runtime/local/embedded-postgres.ts';
import { findFreePort, isPortListening } from '../../lab/runtime/ports.ts';
import { createDnsLookup } from '../../services/payment/dns-lookup.ts';
import { startSignupService, type SignupServiceConfig } from '../../services/signup-service.ts';
import {
  auditPool,
  count,
  listen,
  metricsOf,
  postJson as post,
  startPaymentBackend,
} from './support/services.ts';

// The split deployment: checkout commits the user in signup's database, then calls payment-service over
// HTTP. These tests drive it against a real payment-service and against stand-ins that fail in each way
// the network can, and check what the caller sees, what /metrics counts, and what the databases hold.

const stack = new AsyncDisposableStack();
let postgres: StartedPostgres;
let signupDb: pg.Pool;
let paymentDb: pg.Pool;
let paymentUrl: string;
let paymentPort: number;

let sequence = 0;
const uniqueEmail = (): string => `split-${process.pid}-${(sequence += 1)}@example.com`;
const checkoutBody = (): Record<string, unknown> => ({
  email: uniqueEmail(),
  password: 'password1',
  amountCents: 4200,
});

function signupService(overrides: Partial<SignupServiceConfig> = {}) {
  return startSignupService({
    databaseUrl: postgres.urlFor('signup'),
    scryptN: 1024,
    paymentUrl,
    ...overrides,
  });
}

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

describe('split checkout against a real payment-service', () => {
  it('commits the user in signup, the payment in payment, linked by userId', async () => {
    await using service = await signupService();
    const answer = await post(`${service.url}/checkout`, checkoutBody());
    expect(answer).toEqual({
      status: 201,
      json: { userId: expect.any(String), paymentId: expect.any(String) },
    });
    const userId = String(answer.json['userId']);
    const users = await signupDb.query('SELECT created_via FROM users WHERE id = $1', [userId]);
    expect(users.rows).toEqual([{ created_via: 'checkout' }]);
    const payments = await paymentDb.query(
      'SELECT id, user_id, amount_cents, idempotency_key FROM payments WHERE user_id = $1',
      [userId],
    );
    expect(payments.rows).toEqual([
      {
        id: answer.json['paymentId'],
        user_id: userId,
        amount_cents: 4200,
        idempotency_key: `checkout-${userId}`,
      },
    ]);
    const metrics = await metricsOf(service.url);
    expect(metrics).toMatchObject({
      outboundInFlight: 0,
      counters: { outboundCalls: 1, outboundFailuresByCause: {} },
    });
  });

  it("passes the client's Idempotency-Key through to payment-service", async () => {
    await using service = await signupService();
    const answer = await post(`${service.url}/checkout`, checkoutBody(), {
      'idempotency-key': 'client-key-1',
    });
    expect(answer.status).toBe(201);
    expect(await count(paymentDb, "payments WHERE idempotency_key = 'client-key-1'")).toBe(1);
  });

  it('signs up without calling payment-service', async () => {
    await using service = await signupService();
    const answer = await post(`${service.url}/signup`, { email: uniqueEmail(), password: 'password1' });
    expect(answer.status).toBe(201);
    expect((await metricsOf(service.url)).counters.outboundCalls).toBe(0);
  });
});

describe('payment-service POST /charge', () => {
  it('charges once per idempotency key', async () => {
    const body = { userId: crypto.randomUUID(), amountCents: 700 };
    const first = await post(`${paymentUrl}/charge`, body, { 'idempotency-key': 'charge-once' });
    const second = await post(`${paymentUrl}/charge`, body, { 'idempotency-key': 'charge-once' });
    expect(first).toEqual({ status: 201, json: { paymentId: expect.any(String), replayed: false } });
    expect(second).toEqual({ status: 200, json: { paymentId: first.json['paymentId'], replayed: true } });
    expect(await count(paymentDb, "payments WHERE idempotency_key = 'charge-once'")).toBe(1);
  });

  it('writes nothing and answers 504 cause deadline when X-Deadline-Ms is already spent', async () => {
    const before = await count(paymentDb, 'payments');
    const answer = await post(
      `${paymentUrl}/charge`,
      { userId: crypto.randomUUID(), amountCents: 700 },
      { 'idempotency-key': 'expired', 'x-deadline-ms': '0' },
    );
    expect(answer).toEqual({ status: 504, json: { error: expect.any(String), cause: 'deadline' } });
    expect(await count(paymentDb, 'payments')).toBe(before);
  });

  it('abandons the transaction when the deadline passes mid-query, and stays usable', async () => {
    // Another transaction holds the idempotency key, so payment-service's INSERT waits on its lock.
    const blocker = await paymentDb.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        "INSERT INTO payments (id, user_id, amount_cents, idempotency_key) VALUES ($1, $2, 1, 'contended')",
        [crypto.randomUUID(), crypto.randomUUID()],
      );
      const startedAt = performance.now();
      const answer = await post(
        `${paymentUrl}/charge`,
        { userId: crypto.randomUUID(), amountCents: 700 },
        { 'idempotency-key': 'contended', 'x-deadline-ms': '300' },
      );
      expect(answer).toMatchObject({ status: 504, json: { cause: 'deadline' } });
      expect(performance.now() - startedAt).toBeLessThan(2_000);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    // The abandoned INSERT was rolled back with its connection: the key is free and nothing was written.
    expect(await count(paymentDb, "payments WHERE idempotency_key = 'contended'")).toBe(0);
    const retry = await post(
      `${paymentUrl}/charge`,
      { userId: crypto.randomUUID(), amountCents: 700 },
      { 'idempotency-key': 'contended' },
    );
    expect(retry.status).toBe(201);
  });

  it('commits within a generous budget', async () => {
    const answer = await post(
      `${paymentUrl}/charge`,
      { userId: crypto.randomUUID(), amountCents: 700 },
      { 'idempotency-key': 'in-time', 'x-deadline-ms': '5000' },
    );
    expect(answer.status).toBe(201);
  });
});

describe('split checkout when the payment call fails', () => {
  it('answers 502 cause refused when nothing listens at PAYMENT_URL, leaving an orphan user', async () => {
    const closedPort = await findFreePort();
    await using service = await signupService({ paymentUrl: `http://127.0.0.1:${closedPort}` });
    const body = checkoutBody();
    const answer = await post(`${service.url}/checkout`, body);
    expect(answer).toEqual({
      status: 502,
      json: {
        error: expect.any(String),
        cause: 'refused',
        detail: expect.stringContaining('ECONNREFUSED'),
        userId: expect.any(String),
      },
    });
    // The user committed before the call; nothing compensates yet. This is the orphan an audit finds.
    expect(
      await count(signupDb, 'users WHERE email = $1 AND id = $2', [body['email'], answer.json['userId']]),
    ).toBe(1);
    expect(await count(paymentDb, 'payments WHERE user_id = $1', [answer.json['userId']])).toBe(0);
    expect((await metricsOf(service.url)).counters.outboundFailuresByCause).toEqual({ refused: 1 });
  });

  it('answers 502 cause reset when the upstream accepts and closes without a reply (Toxiproxy, dead upstream)', async () => {
    await using upstream = await listen(net.createServer((socket) => socket.destroy()));
    await using service = await signupService({ paymentUrl: `http://127.0.0.1:${upstream.port}` });
    const answer = await post(`${service.url}/checkout`, checkoutBody());
    expect(answer).toMatchObject({ status: 502, json: { cause: 'reset', userId: expect.any(String) } });
    expect((await metricsOf(service.url)).counters.outboundFailuresByCause).toEqual({ reset: 1 });
  });

  it('answers 502 cause upstream_status with the status payment-service gave', async () => {
    const failing = http.createServer((_request, response) => {
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'database unavailable', cause: 'database' }));
    });
    await using upstream = await listen(failing);
    await using service = await signupService({ paymentUrl: `http://127.0.0.1:${upstream.port}` });
    const answer = await post(`${service.url}/checkout`, checkoutBody());
    expect(answer).toMatchObject({ status: 502, json: { cause: 'upstream_status', status: 503 } });
    expect(String(answer.json['detail'])).toContain('database unavailable');
  });

  it('answers 504 cause deadline at PAYMENT_DEADLINE_MS and abandons the stuck socket', async () => {
    const sockets: net.Socket[] = [];
    let closedAt = 0;
    const stuck = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('data', () => undefined); // read the request, never answer
      socket.once('close', () => (closedAt = performance.now()));
    });
    await using upstream = await listen(stuck);
    await using service = await signupService({
      paymentUrl: `http://127.0.0.1:${upstream.port}`,
      paymentDeadlineMs: 300,
    });
    const startedAt = performance.now();
    const answer = await post(`${service.url}/checkout`, checkoutBody());
    const elapsed = performance.now() - startedAt;
    expect(answer).toMatchObject({ status: 504, json: { cause: 'deadline', userId: expect.any(String) } });
    // 300 ms budget, plus the hash and the insert before the call; generous upper bound for a busy machine.
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(2_000);
    // The caller really let go of the connection instead of leaving it open behind the timeout.
    await expect.poll(() => closedAt, { timeout: 1_000 }).toBeGreaterThan(0);
    expect(sockets).toHaveLength(1);
    expect(await metricsOf(service.url)).toMatchObject({
      outboundInFlight: 0,
      counters: { outboundFailuresByCause: { deadline: 1 } },
    });
  });

  it('sends the remaining budget as X-Deadline-Ms, never more than the inbound budget', async () => {
    const received: string[] = [];
    const recording = http.createServer((request, response) => {
      received.push(String(request.headers['x-deadline-ms']));
      request.resume();
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ paymentId: crypto.randomUUID(), replayed: false }));
    });
    await using upstream = await listen(recording);
    await using service = await signupService({
      paymentUrl: `http://127.0.0.1:${upstream.port}`,
      paymentDeadlineMs: 5_000,
    });
    expect((await post(`${service.url}/checkout`, checkoutBody())).status).toBe(201);
    expect((await post(`${service.url}/checkout`, checkoutBody(), { 'x-deadline-ms': '1500' })).status).toBe(
      201,
    );
    const [perCall, inbound] = received.map(Number);
    expect(perCall).toBeGreaterThan(4_000);
    expect(perCall).toBeLessThanOrEqual(5_000);
    expect(inbound).toBeGreaterThan(500);
    expect(inbound).toBeLessThanOrEqual(1_500);
  });
});

describe('split checkout resolving payment-service through the lab DNS server', () => {
  type Mode = 'answer' | 'nxdomain' | 'servfail';
  let mode: Mode = 'answer';
  let queries = 0;

  async function startDns(): Promise<{ address: string } & AsyncDisposable> {
    const server = createDnsServer({
      udp: true,
      handle: (request, send) => {
        queries += 1;
        const response = Packet.createResponseFromRequest(request);
        const [question] = request.questions;
        if (mode === 'nxdomain' || question?.name !== 'payment-service') {
          response.header.rcode = Packet.RCODE.NXDOMAIN;
        } else if (mode === 'servfail') {
          response.header.rcode = Packet.RCODE.SERVFAIL;
        } else if (question.type === Packet.TYPE.A) {
          const record = new Packet.Resource(question.name, Packet.TYPE.A, Packet.CLASS.IN, 1);
          response.answers.push(Object.assign(record, { address: '127.0.0.1' }));
        }
        void send(response);
      },
    });
    const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
    return {
      address: `127.0.0.1:${addresses.udp?.port ?? 0}`,
      [Symbol.asyncDispose]: () => server.close(),
    };
  }

  it('resolves the name only through DNS_SERVER', async () => {
    mode = 'answer';
    await using dns = await startDns();
    await using service = await signupService({
      paymentUrl: `http://payment-service:${paymentPort}`,
      dnsServer: dns.address,
    });
    const before = queries;
    expect((await post(`${service.url}/checkout`, checkoutBody())).status).toBe(201);
    expect(queries).toBe(before + 1); // one A query; AAAA is never asked
  });

  it('keeps serving a cached answer until its TTL runs out, then sees the failure', async () => {
    mode = 'answer';
    await using dns = await startDns();
    const lookup = promisify(
      createDnsLookup(dns.address) as (
        hostname: string,
        options: LookupOptions,
        callback: (error: Error | null, address: string) => void,
      ) => void,
    );
    const before = queries;
    expect(await lookup('payment-service', { family: 4 })).toBe('127.0.0.1');
    mode = 'nxdomain';
    // The record's TTL is 1 s: a broken DNS server goes unnoticed until then, like in production.
    expect(await lookup('payment-service', { family: 4 })).toBe('127.0.0.1');
    expect(queries).toBe(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await expect(lookup('payment-service', { family: 4 })).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it.each([
    ['nxdomain', 'ENOTFOUND'],
    ['servfail', 'ESERVFAIL'],
  ] as const)('answers 502 cause dns when the server says %s', async (failure, code) => {
    mode = failure;
    await using dns = await startDns();
    await using service = await signupService({
      paymentUrl: `http://payment-service:${paymentPort}`,
      dnsServer: dns.address,
    });
    const answer = await post(`${service.url}/checkout`, checkoutBody());
    expect(answer).toMatchObject({ status: 502, json: { cause: 'dns', userId: expect.any(String) } });
    expect(String(answer.json['detail'])).toContain(code);
  });

  it('answers 502 cause dns when the DNS server does not answer at all', async () => {
    await using silent = await new Promise<{ address: string } & AsyncDisposable>((resolve) => {
      // A UDP port that swallows queries: the resolver times out (500 ms, one try).
      import('node:dgram').then(({ createSocket }) => {
        const socket = createSocket('udp4');
        socket.bind(0, '127.0.0.1', () => {
          resolve({
            address: `127.0.0.1:${socket.address().port}`,
            [Symbol.asyncDispose]: () => new Promise<void>((done) => socket.close(() => done())),
          });
        });
      });
    });
    await using service = await signupService({
      paymentUrl: `http://payment-service:${paymentPort}`,
      dnsServer: silent.address,
    });
    const startedAt = performance.now();
    const answer = await post(`${service.url}/checkout`, checkoutBody());
    expect(answer).toMatchObject({ status: 502, json: { cause: 'dns' } });
    expect(String(answer.json['detail'])).toContain('ETIMEOUT');
    expect(performance.now() - startedAt).toBeLessThan(4_000);
  });
});
