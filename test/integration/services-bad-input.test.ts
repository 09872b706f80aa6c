import http from 'node:http';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../lab/runtime/local/embedded-postgres.ts';
import { isPortListening } from '../../lab/runtime/ports.ts';
import { startMonolith } from '../../services/monolith.ts';
import { startPaymentService } from '../../services/payment-service.ts';
import { startSignupService } from '../../services/signup-service.ts';
import { auditPool, count } from './support/services.ts';

// Every kind of bad input, on every route of every service: a 4xx with a JSON body that says what is
// wrong, and not a single row written. Each case is otherwise a valid request, so a missing check would
// show up as a write.

type ServiceName = 'monolith' | 'payment-service' | 'signup-service';

interface RouteCase {
  readonly service: ServiceName;
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;
  /** A value of the wrong type for each field. */
  readonly wrongTypes: Record<string, unknown>;
}

const USER_ID = '6f1c2d3e-4b5a-4978-8899-aabbccddeeff';
const signup = { email: 'valid@example.com', password: 'long enough' };
const signupWrong = { email: 12345, password: false };
const charge = { userId: USER_ID, amountCents: 1999 };
const chargeWrong = { userId: 42, amountCents: '1999' };
const checkoutBody = { ...signup, amountCents: 1999 };
const checkoutWrong = { ...signupWrong, amountCents: 19.99 };
const key = { 'idempotency-key': 'bad-input-key' };

const ROUTES: readonly RouteCase[] = [
  { service: 'monolith', path: '/signup', body: signup, headers: {}, wrongTypes: signupWrong },
  { service: 'monolith', path: '/pay', body: charge, headers: key, wrongTypes: chargeWrong },
  { service: 'monolith', path: '/checkout', body: checkoutBody, headers: key, wrongTypes: checkoutWrong },
  { service: 'payment-service', path: '/charge', body: charge, headers: key, wrongTypes: chargeWrong },
  { service: 'signup-service', path: '/signup', body: signup, headers: {}, wrongTypes: signupWrong },
  {
    service: 'signup-service',
    path: '/checkout',
    body: checkoutBody,
    headers: key,
    wrongTypes: checkoutWrong,
  },
];

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly json: Record<string, unknown>;
}

/** A raw HTTP request, so the test controls Content-Length, chunking and methods exactly. */
async function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; chunks?: readonly (string | Buffer)[] } = {},
): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: options.method ?? 'POST',
      headers: options.headers,
      agent: false,
    });
    request.once('error', reject);
    request.once('response', (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.once('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        try {
          resolve({ status: response.statusCode ?? 0, headers: response.headers, json: JSON.parse(text) });
        } catch {
          reject(new Error(`answer ${response.statusCode} is not JSON: ${text}`));
        }
      });
    });
    for (const chunk of options.chunks ?? []) request.write(chunk);
    request.end();
  });
}

const stack = new AsyncDisposableStack();
const urls = {} as Record<ServiceName, string>;
const ports: number[] = [];
let databases: { name: string; pool: pg.Pool }[] = [];

/** Rows in every table of every database, to prove that nothing was written. */
async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { name, pool } of databases) {
    const tables = name === 'monolith' ? ['users', 'payments'] : name === 'signup' ? ['users'] : ['payments'];
    for (const table of tables) {
      counts[`${name}.${table}`] = await count(pool, table);
    }
  }
  return counts;
}

async function expectNothingWritten(act: () => Promise<void>): Promise<void> {
  const before = await rowCounts();
  await act();
  expect(await rowCounts()).toEqual(before);
}

beforeAll(async () => {
  const postgres = stack.use(await startEmbeddedPostgres(['monolith', 'signup', 'payment']));
  const monolith = stack.use(
    await startMonolith({ databaseUrl: postgres.urlFor('monolith'), scryptN: 1024 }),
  );
  const payment = stack.use(await startPaymentService({ databaseUrl: postgres.urlFor('payment') }));
  const signupService = stack.use(
    await startSignupService({
      databaseUrl: postgres.urlFor('signup'),
      scryptN: 1024,
      paymentUrl: payment.url,
    }),
  );
  urls.monolith = monolith.url;
  urls['payment-service'] = payment.url;
  urls['signup-service'] = signupService.url;
  ports.push(monolith.port, payment.port, signupService.port, postgres.port);
  databases = ['monolith', 'signup', 'payment'].map((name) => ({
    name,
    pool: auditPool(stack, postgres.urlFor(name)),
  }));
});

afterAll(async () => {
  await stack.disposeAsync();
  for (const port of ports) expect(await isPortListening(port)).toBe(false);
});

describe.each(ROUTES)('$service POST $path', (route) => {
  const url = (): string => `${urls[route.service]}${route.path}`;
  const json = { 'content-type': 'application/json', ...route.headers };

  it('answers 400 to malformed JSON', async () => {
    await expectNothingWritten(async () => {
      const answer = await send(url(), { headers: json, chunks: ['{"email": "a@b.c",'] });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: 'malformed JSON body', detail: expect.any(String) });
    });
  });

  it('answers 400 to an empty body and to a body that is not an object', async () => {
    await expectNothingWritten(async () => {
      expect((await send(url(), { headers: json })).status).toBe(400);
      const answer = await send(url(), { headers: json, chunks: ['[1, 2]'] });
      expect(answer.status).toBe(400);
      expect(answer.json.error).toMatch(/JSON object/);
    });
  });

  it.each(Object.keys(route.body))('answers 400 naming %s when it is missing', async (field) => {
    await expectNothingWritten(async () => {
      const body = { ...route.body, [field]: undefined };
      const answer = await send(url(), { headers: json, chunks: [JSON.stringify(body)] });
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({ error: expect.stringContaining(field), field });
    });
  });

  it.each(Object.keys(route.body))('answers 400 naming %s when it has the wrong type', async (field) => {
    await expectNothingWritten(async () => {
      const body = { ...route.body, [field]: route.wrongTypes[field] };
      const answer = await send(url(), { headers: json, chunks: [JSON.stringify(body)] });
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({ error: expect.stringContaining(field), field });
    });
  });

  it('answers 413 to a declared body over 64 KiB and closes the connection', async () => {
    await expectNothingWritten(async () => {
      const body = JSON.stringify({ ...route.body, padding: 'x'.repeat(70 * 1024) });
      const answer = await send(url(), { headers: json, chunks: [body] });
      expect(answer.status).toBe(413);
      expect(answer.headers.connection).toBe('close');
      expect(answer.json).toMatchObject({ error: expect.stringContaining('65536'), limitBytes: 65_536 });
    });
  });

  it('answers 413 to a chunked body that grows past 64 KiB', async () => {
    await expectNothingWritten(async () => {
      const head = JSON.stringify(route.body).slice(0, -1);
      const chunks = [head, `,"padding":"`, ...Array.from({ length: 20 }, () => 'y'.repeat(8 * 1024)), '"}'];
      const answer = await send(url(), { headers: json, chunks });
      expect(answer.status).toBe(413);
    });
  });

  it('answers 400 naming X-Deadline-Ms when the budget is not a number', async () => {
    await expectNothingWritten(async () => {
      const headers = { ...json, 'x-deadline-ms': 'soon' };
      const answer = await send(url(), { headers, chunks: [JSON.stringify(route.body)] });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ field: 'X-Deadline-Ms' });
    });
  });

  it('answers 405 with an Allow header to the wrong method', async () => {
    await expectNothingWritten(async () => {
      const answer = await send(url(), { method: 'GET' });
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe('POST');
      expect(answer.json).toMatchObject({ error: expect.stringContaining('GET'), allow: 'POST' });
    });
  });
});

describe.each(['/charge', '/pay'])('POST %s without Idempotency-Key', (path) => {
  it('answers 400 naming the header and charges nothing', async () => {
    const service: ServiceName = path === '/pay' ? 'monolith' : 'payment-service';
    await expectNothingWritten(async () => {
      const answer = await send(`${urls[service]}${path}`, { chunks: [JSON.stringify(charge)] });
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({
        error: expect.stringContaining('Idempotency-Key'),
        field: 'Idempotency-Key',
      });
    });
  });

  it('answers 400 to a key longer than 200 characters', async () => {
    const service: ServiceName = path === '/pay' ? 'monolith' : 'payment-service';
    await expectNothingWritten(async () => {
      const headers = { 'idempotency-key': 'k'.repeat(201) };
      const answer = await send(`${urls[service]}${path}`, { headers, chunks: [JSON.stringify(charge)] });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ field: 'Idempotency-Key' });
    });
  });
});

describe.each(['monolith', 'payment-service', 'signup-service'] as const)('%s routing', (service) => {
  it('answers 404 in JSON to an unknown path', async () => {
    await expectNothingWritten(async () => {
      for (const path of ['/nope', '/signup/extra', '/']) {
        const answer = await send(`${urls[service]}${path}`, { chunks: [JSON.stringify(signup)] });
        expect(answer.status).toBe(404);
        expect(answer.json).toMatchObject({ error: expect.any(String), path });
      }
    });
  });

  it('answers 405 to POST /healthz and /metrics', async () => {
    for (const path of ['/healthz', '/metrics']) {
      const answer = await send(`${urls[service]}${path}`, { method: 'POST' });
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe('GET');
    }
  });

  it('is still healthy and counted every bad request as a 4xx', async () => {
    expect((await send(`${urls[service]}/healthz`, { method: 'GET' })).json).toEqual({
      status: 'ok',
      version: 'v1',
    });
    const metrics = (await send(`${urls[service]}/metrics.json`, { method: 'GET' })).json as {
      counters: { responsesByStatus: Record<string, number> };
    };
    const statuses = Object.keys(metrics.counters.responsesByStatus);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status.startsWith('4'))).toBe(true);
  });
});
