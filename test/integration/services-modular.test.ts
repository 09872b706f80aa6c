import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type StartedPostgres } from '../../lab/runtime/local/embedded-postgres.ts';
import { startModular, type PaymentModulePlace, type StartedModular } from '../../services/modular.ts';
import { moduleDatabaseUrl } from '../../services/modular/module-schemas.ts';
import { auditPool, count as countIn, postJson, type JsonAnswer } from './support/services.ts';

// The modular monolith's promises: the three routes work in both places of the payment module; each module
// sees only its own schema; checkout leaves no user behind a failed charge (one transaction in-process, a
// rolled-back user transaction with the worker); a dead payment worker is answered, never hung.

const stack = new AsyncDisposableStack();
let postgres: StartedPostgres;
let audit: pg.Pool;
const services = new Map<PaymentModulePlace, StartedModular>();

let sequence = 0;
const uniqueEmail = (): string => `user-${process.pid}-${(sequence += 1)}@example.com`;
const count = (sql: string, values: unknown[] = []): Promise<number> => countIn(audit, sql, values);

beforeAll(async () => {
  postgres = stack.use(await startEmbeddedPostgres(['modular']));
  // Both places share one database, as two versions of the deployment would: their tables are the same.
  for (const paymentModule of ['in-process', 'worker'] as const) {
    const started = await startModular({
      databaseUrl: postgres.urlFor('modular'),
      scryptN: 1024,
      paymentModule,
    });
    stack.use(started);
    services.set(paymentModule, started);
  }
  // No search_path of its own: what the lab's audit sees through the database's default.
  audit = auditPool(stack, postgres.urlFor('modular'));
}, 60_000);

afterAll(() => stack.disposeAsync());

function serviceOf(place: PaymentModulePlace): StartedModular {
  const service = services.get(place);
  if (!service) throw new Error(`no modular service with the payment module ${place}`);
  return service;
}

describe.each(['in-process', 'worker'] as const)('modular (payment module %s)', (place) => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> =>
    postJson(`${serviceOf(place).url}${path}`, body, headers);

  it('signs up into the signup schema', async () => {
    const email = uniqueEmail();
    const answer = await post('/signup', { email, password: 'correct horse' });
    expect(answer).toEqual({ status: 201, json: { userId: expect.any(String) } });
    expect(await count('signup.users WHERE email = $1', [email])).toBe(1);
  });

  it('charges once per idempotency key into the payment schema, and refuses a reused key', async () => {
    const userId = crypto.randomUUID();
    const key = `pay-${place}`;
    const first = await post('/pay', { userId, amountCents: 1999 }, { 'idempotency-key': key });
    const second = await post('/pay', { userId, amountCents: 1999 }, { 'idempotency-key': key });
    const reused = await post('/pay', { userId, amountCents: 5 }, { 'idempotency-key': key });
    expect(first).toEqual({ status: 201, json: { paymentId: expect.any(String), replayed: false } });
    expect(second).toEqual({ status: 200, json: { paymentId: first.json['paymentId'], replayed: true } });
    expect(reused).toEqual({ status: 422, json: { error: expect.any(String), field: 'Idempotency-Key' } });
    expect(await count('payment.payments WHERE idempotency_key = $1', [key])).toBe(1);
  });

  it('answers 504 cause deadline and charges nothing when the budget is spent', async () => {
    const key = `late-${place}`;
    const headers = { 'idempotency-key': key, 'x-deadline-ms': '0' };
    const answer = await post('/pay', { userId: crypto.randomUUID(), amountCents: 100 }, headers);
    expect(answer).toEqual({ status: 504, json: { error: expect.any(String), cause: 'deadline' } });
    expect(await count('payment.payments WHERE idempotency_key = $1', [key])).toBe(0);
  });

  it('checks out: the user in signup, its payment in payment', async () => {
    const email = uniqueEmail();
    const answer = await post('/checkout', { email, password: 'password1', amountCents: 2500 });
    expect(answer).toEqual({
      status: 201,
      json: { userId: expect.any(String), paymentId: expect.any(String) },
    });
    const { rows } = await audit.query(
      `SELECT u.created_via, p.amount_cents FROM signup.users u JOIN payment.payments p ON p.user_id = u.id
        WHERE u.email = $1`,
      [email],
    );
    expect(rows).toEqual([{ created_via: 'checkout', amount_cents: 2500 }]);
  });

  it('leaves no user when the charge fails after the user was inserted', async () => {
    const key = `taken-${place}`;
    expect(
      (await post('/pay', { userId: crypto.randomUUID(), amountCents: 100 }, { 'idempotency-key': key }))
        .status,
    ).toBe(201);
    const email = uniqueEmail();
    const answer = await post(
      '/checkout',
      { email, password: 'password1', amountCents: 100 },
      { 'idempotency-key': key },
    );
    expect(answer).toEqual({ status: 422, json: { error: expect.any(String), field: 'Idempotency-Key' } });
    expect(await count('signup.users WHERE email = $1', [email])).toBe(0);
  });
});

describe('modular schemas', () => {
  it("keeps each module's pool to its own schema", async () => {
    const signupOnly = auditPool(stack, moduleDatabaseUrl(postgres.urlFor('modular'), ['signup']));
    const paymentOnly = auditPool(stack, moduleDatabaseUrl(postgres.urlFor('modular'), ['payment']));
    await expect(signupOnly.query('SELECT count(*) FROM payments')).rejects.toThrow(
      /relation "payments" does not exist/,
    );
    await expect(paymentOnly.query('SELECT count(*) FROM users')).rejects.toThrow(
      /relation "users" does not exist/,
    );
    const { rows } = await audit.query<{ table_schema: string; table_name: string }>(
      `SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_schema IN ('signup', 'payment', 'public') ORDER BY table_schema`,
    );
    expect(rows).toEqual([
      { table_schema: 'payment', table_name: 'payments' },
      { table_schema: 'signup', table_name: 'users' },
    ]);
  });
});

describe('modular payment worker', () => {
  it('runs the payment module on its own thread', () => {
    expect(serviceOf('worker').paymentWorker?.threadId()).toEqual(expect.any(Number));
    expect(serviceOf('in-process').paymentWorker).toBeUndefined();
  });

  it('answers a charge in flight 503 cause payment_worker when the worker dies, then restarts it', async () => {
    const service = serviceOf('worker');
    const key = `held-${process.pid}`;
    const userId = crypto.randomUUID();
    // An uncommitted payment with the same key makes the worker's INSERT wait on it: a charge in flight.
    const holder = await audit.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `INSERT INTO payment.payments (id, user_id, amount_cents, idempotency_key) VALUES ($1, $2, 100, $3)`,
        [crypto.randomUUID(), userId, key],
      );
      const inFlight = postJson(
        `${service.url}/pay`,
        { userId, amountCents: 100 },
        { 'idempotency-key': key },
      );
      await waitFor(async () => (await count("pg_stat_activity WHERE wait_event_type = 'Lock'")) > 0);
      const diedAt = performance.now();
      await service.paymentWorker?.crash();
      const answer = await inFlight;
      expect(answer).toEqual({
        status: 503,
        json: {
          error: 'payment module unavailable',
          cause: 'payment_worker',
          detail: expect.stringContaining('died'),
        },
      });
      expect(performance.now() - diedAt).toBeLessThan(1_000);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    // Restarts are at most once a second: until then charges are answered 503 at once; then one restarts it.
    let after: JsonAnswer;
    const restartStartedAt = performance.now();
    do {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await postJson(
        `${service.url}/pay`,
        { userId, amountCents: 100 },
        { 'idempotency-key': `${key}-after` },
      );
    } while (after.status === 503 && performance.now() - restartStartedAt < 3_000);
    expect(after.status).toBe(201);
  });

  it('answers a checkout in flight 503 when the worker dies, and rolls its user back', async () => {
    const service = serviceOf('worker');
    const key = `held-checkout-${process.pid}`;
    const email = uniqueEmail();
    const holder = await audit.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `INSERT INTO payment.payments (id, user_id, amount_cents, idempotency_key) VALUES ($1, $2, 100, $3)`,
        [crypto.randomUUID(), crypto.randomUUID(), key],
      );
      const inFlight = postJson(
        `${service.url}/checkout`,
        { email, password: 'password1', amountCents: 100 },
        { 'idempotency-key': key },
      );
      await waitFor(async () => (await count("pg_stat_activity WHERE wait_event_type = 'Lock'")) > 0);
      // The user's row is written, uncommitted, while the charge waits in the worker.
      await service.paymentWorker?.crash();
      expect(await inFlight).toMatchObject({ status: 503, json: { cause: 'payment_worker' } });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await count('signup.users WHERE email = $1', [email])).toBe(0);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const startedAt = performance.now();
  while (!(await condition())) {
    if (performance.now() - startedAt > timeoutMs)
      throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
