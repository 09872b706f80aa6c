import { spawn } from 'node:child_process';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type StartedPostgres } from '../../lab/runtime/local/embedded-postgres.ts';
import { isPortListening } from '../../lab/runtime/ports.ts';
import { startPaymentService } from '../../services/payment-service.ts';
import type { ServiceVersion } from '../../services/runtime/service-version.ts';
import type { StartedService } from '../../services/runtime/start-service.ts';
import { startSignupService, type SignupServiceConfig } from '../../services/signup-service.ts';
import { parseSamples, valueOf } from '../support/prometheus-text.ts';
import { auditPool, metricsOf, postJson as post } from './support/services.ts';

// SERVICE_VERSION against real PostgreSQL and real services: payment's /charge contract by version, the
// skew a deploy can create (signup v1 calling payment v2), and the version each service shows.

const ROOT = path.resolve(import.meta.dirname, '../..');
const stack = new AsyncDisposableStack();
let postgres: StartedPostgres;
let paymentDb: pg.Pool;
const payments = new Map<ServiceVersion, StartedService>();

let sequence = 0;
const checkoutBody = (): Record<string, unknown> => ({
  email: `versions-${process.pid}-${(sequence += 1)}@example.com`,
  password: 'password1',
  amountCents: 4200,
});
const chargeKey = (): string => `versions-${process.pid}-${(sequence += 1)}`;

function paymentOf(version: ServiceVersion): StartedService {
  const service = payments.get(version);
  if (!service) throw new Error(`payment-service ${version} was not started`);
  return service;
}

function signupService(version: ServiceVersion, overrides: Partial<SignupServiceConfig> = {}) {
  return startSignupService({
    databaseUrl: postgres.urlFor('signup'),
    scryptN: 1024,
    paymentUrl: paymentOf('v2').url,
    version,
    ...overrides,
  });
}

async function currencyOf(paymentId: unknown): Promise<string | undefined> {
  const result = await paymentDb.query<{ currency: string }>('SELECT currency FROM payments WHERE id = $1', [
    paymentId,
  ]);
  return result.rows[0]?.currency;
}

beforeAll(async () => {
  postgres = stack.use(await startEmbeddedPostgres(['signup', 'payment']));
  paymentDb = auditPool(stack, postgres.urlFor('payment'));
  // Three payment-services of different versions on one database, as during a rolling deploy.
  for (const version of ['v1', 'v2', 'v2-expand'] as const) {
    payments.set(
      version,
      stack.use(await startPaymentService({ databaseUrl: postgres.urlFor('payment'), version, drainMs: 0 })),
    );
  }
});

afterAll(async () => {
  const ports = [...payments.values()].map((service) => service.port);
  await stack.disposeAsync();
  for (const port of [...ports, postgres.port]) expect(await isPortListening(port)).toBe(false);
});

describe('payment-service /charge by version', () => {
  const userId = (): string => crypto.randomUUID();

  it('v2 refuses a v1 body with 400 naming currency, and stores nothing', async () => {
    const key = chargeKey();
    const answer = await post(
      `${paymentOf('v2').url}/charge`,
      { userId: userId(), amountCents: 100 },
      { 'idempotency-key': key },
    );
    expect(answer).toEqual({
      status: 400,
      json: { error: expect.stringContaining('currency is required by /charge v2'), field: 'currency' },
    });
    const stored = await paymentDb.query('SELECT 1 FROM payments WHERE idempotency_key = $1', [key]);
    expect(stored.rowCount).toBe(0);
  });

  it('v2 accepts a v2 body and stores its currency', async () => {
    const answer = await post(
      `${paymentOf('v2').url}/charge`,
      { userId: userId(), amountCents: 100, currency: 'USD' },
      { 'idempotency-key': chargeKey() },
    );
    expect(answer).toEqual({ status: 201, json: { paymentId: expect.any(String), replayed: false } });
    expect(await currencyOf(answer.json['paymentId'])).toBe('USD');
  });

  it('v2 refuses a malformed currency, naming the field', async () => {
    const answer = await post(
      `${paymentOf('v2').url}/charge`,
      { userId: userId(), amountCents: 100, currency: 'usd' },
      { 'idempotency-key': chargeKey() },
    );
    expect(answer).toMatchObject({ status: 400, json: { field: 'currency' } });
  });

  it('v2-expand accepts both bodies: without a currency it charges EUR', async () => {
    const url = `${paymentOf('v2-expand').url}/charge`;
    const v1 = await post(url, { userId: userId(), amountCents: 100 }, { 'idempotency-key': chargeKey() });
    const v2 = await post(
      url,
      { userId: userId(), amountCents: 100, currency: 'GBP' },
      { 'idempotency-key': chargeKey() },
    );
    expect([v1.status, v2.status]).toEqual([201, 201]);
    expect(await currencyOf(v1.json['paymentId'])).toBe('EUR');
    expect(await currencyOf(v2.json['paymentId'])).toBe('GBP');
  });

  it('v1 ignores a currency it does not know and charges EUR (tolerant reader)', async () => {
    const answer = await post(
      `${paymentOf('v1').url}/charge`,
      { userId: userId(), amountCents: 100, currency: 'USD' },
      { 'idempotency-key': chargeKey() },
    );
    expect(answer.status).toBe(201);
    expect(await currencyOf(answer.json['paymentId'])).toBe('EUR');
  });
});

describe('signup-service checkout against payment-service v2', () => {
  it.each(['timeout', 'retry'] as const)(
    'signup v1 fails with 502 upstream_status after exactly one attempt (PAYMENT_POLICY=%s)',
    async (paymentPolicy) => {
      await using signup = await signupService('v1', { paymentPolicy });
      const checkouts = 3;
      for (let index = 0; index < checkouts; index += 1) {
        const answer = await post(`${signup.url}/checkout`, checkoutBody());
        expect(answer).toMatchObject({
          status: 502,
          json: {
            cause: 'upstream_status',
            status: 400,
            detail: expect.stringContaining('currency is required by /charge v2'),
            userId: expect.any(String),
          },
        });
      }
      const metrics = await metricsOf(signup.url);
      // A 400 is not transient: the retry policy must not send the same refused body again.
      expect(metrics.counters).toMatchObject({
        outboundCalls: checkouts,
        outboundAttempts: checkouts,
        outboundRetries: 0,
        outboundFailuresByCause: { upstream_status: checkouts },
      });
    },
  );

  it.each(['v2', 'v2-expand'] as const)('signup %s checks out with 201, charged in EUR', async (version) => {
    await using signup = await signupService(version);
    const answer = await post(`${signup.url}/checkout`, checkoutBody());
    expect(answer).toEqual({
      status: 201,
      json: { userId: expect.any(String), paymentId: expect.any(String) },
    });
    expect(await currencyOf(answer.json['paymentId'])).toBe('EUR');
  });

  it('signup v1 checks out against payment v2-expand: the expand step serves the old caller', async () => {
    await using signup = await signupService('v1', { paymentUrl: paymentOf('v2-expand').url });
    const answer = await post(`${signup.url}/checkout`, checkoutBody());
    expect(answer.status).toBe(201);
  });
});

describe('the running version is visible', () => {
  it('in /healthz, /metrics.json and the Prometheus text of each service', async () => {
    await using signup = await signupService('v2-expand');
    const cases: [StartedService, ServiceVersion][] = [
      [paymentOf('v1'), 'v1'],
      [paymentOf('v2'), 'v2'],
      [signup, 'v2-expand'],
    ];
    for (const [service, version] of cases) {
      expect(await (await fetch(`${service.url}/healthz`)).json()).toEqual({ status: 'ok', version });
      expect((await metricsOf(service.url)).version).toBe(version);
      const text = await (await fetch(`${service.url}/metrics`)).text();
      const samples = parseSamples(text);
      expect(valueOf(samples, 'splitlab_service_info', { version, service: service.name })).toBe(1);
      expect(text).toMatch(new RegExp(`^splitlab_service_info\\{[^}]*version="${version}"[^}]*\\} 1$`, 'm'));
    }
  });

  it('defaults to v1 when SERVICE_VERSION is unset', async () => {
    await using payment = await startPaymentService({ databaseUrl: postgres.urlFor('payment') });
    expect(await (await fetch(`${payment.url}/healthz`)).json()).toEqual({ status: 'ok', version: 'v1' });
  });
});

describe('SERVICE_VERSION in the environment', () => {
  it.each(['services/payment-service.ts', 'services/signup-service.ts', 'services/monolith.ts'])(
    '%s exits 1 on an unknown version, naming the variable and the choices',
    async (script) => {
      const child = spawn(process.execPath, [script], {
        cwd: ROOT,
        env: {
          PATH: process.env['PATH'] ?? '',
          DATABASE_URL: postgres.urlFor('payment'),
          PAYMENT_URL: 'http://127.0.0.1:9',
          SERVICE_VERSION: 'v3',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(JSON.parse(stderr.trim())).toMatchObject({
        event: 'startup_failed',
        error: 'SERVICE_VERSION must be one of v1, v2, v2-expand, got "v3"',
      });
    },
  );
});
