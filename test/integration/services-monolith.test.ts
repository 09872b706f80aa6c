import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type StartedPostgres } from '../../lab/runtime/local/embedded-postgres.ts';
import { isPortListening } from '../../lab/runtime/ports.ts';
import { startMonolith } from '../../services/monolith.ts';
import { verifyPassword } from '../../services/signup/password-hash.ts';
import { auditPool, count as countIn, postJson, type JsonAnswer } from './support/services.ts';

// The monolith's promises: a password is stored as a real scrypt hash, one idempotency key charges once
// even under concurrency, and checkout is one transaction: a failure anywhere leaves no row at all.

const stack = new AsyncDisposableStack();
let postgres: StartedPostgres;
let audit: pg.Pool;
let url: string;

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> {
  return await postJson(`${url}${path}`, body, headers);
}

async function count(sql: string, values: unknown[] = []): Promise<number> {
  return await countIn(audit, sql, values);
}

let sequence = 0;
const uniqueEmail = (): string => `user-${process.pid}-${(sequence += 1)}@example.com`;
const randomUserId = (): string => crypto.randomUUID();

beforeAll(async () => {
  postgres = stack.use(await startEmbeddedPostgres(['monolith']));
  const monolith = stack.use(
    await startMonolith({ databaseUrl: postgres.urlFor('monolith'), scryptN: 1024 }),
  );
  url = monolith.url;
  audit = auditPool(stack, postgres.urlFor('monolith'));
});

afterAll(() => stack.disposeAsync());

describe('monolith POST /signup', () => {
  it('stores the user with a verifiable scrypt hash, never the password', async () => {
    const email = uniqueEmail();
    const answer = await post('/signup', { email, password: 'correct horse' });
    expect(answer.status).toBe(201);
    const { rows } = await audit.query('SELECT * FROM users WHERE id = $1', [answer.json['userId']]);
    expect(rows[0]).toMatchObject({ email, created_via: 'signup', created_at: expect.any(Date) });
    const hash = String(rows[0].password_hash);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(hash).not.toContain('correct horse');
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('wrong horse!', hash)).toBe(false);
  });

  it('answers 409 naming email for a second signup with the same email', async () => {
    const email = uniqueEmail();
    expect((await post('/signup', { email, password: 'password1' })).status).toBe(201);
    const again = await post('/signup', { email, password: 'password2' });
    expect(again).toEqual({ status: 409, json: { error: expect.stringContaining(email), field: 'email' } });
    expect(await count('users WHERE email = $1', [email])).toBe(1);
  });
});

describe('monolith POST /pay', () => {
  it('charges once per idempotency key and replays the first payment', async () => {
    const userId = randomUserId();
    const first = await post('/pay', { userId, amountCents: 1999 }, { 'idempotency-key': 'pay-once' });
    const second = await post('/pay', { userId, amountCents: 1999 }, { 'idempotency-key': 'pay-once' });
    expect(first).toEqual({ status: 201, json: { paymentId: expect.any(String), replayed: false } });
    expect(second).toEqual({ status: 200, json: { paymentId: first.json['paymentId'], replayed: true } });
    expect(await count("payments WHERE idempotency_key = 'pay-once'")).toBe(1);
  });

  it('charges once when the same key arrives twenty times at once', async () => {
    const userId = randomUserId();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        post('/pay', { userId, amountCents: 500 }, { 'idempotency-key': 'race' }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(19);
    expect(new Set(answers.map((answer) => answer.json['paymentId'])).size).toBe(1);
    expect(await count("payments WHERE idempotency_key = 'race'")).toBe(1);
  });

  it('answers 422 when a key is reused for a different amount, and charges nothing more', async () => {
    const userId = randomUserId();
    expect((await post('/pay', { userId, amountCents: 100 }, { 'idempotency-key': 'reused' })).status).toBe(
      201,
    );
    const reused = await post('/pay', { userId, amountCents: 999 }, { 'idempotency-key': 'reused' });
    expect(reused).toEqual({ status: 422, json: { error: expect.any(String), field: 'Idempotency-Key' } });
    expect(await count("payments WHERE idempotency_key = 'reused'")).toBe(1);
  });

  it('answers 504 cause deadline and writes nothing when X-Deadline-Ms is already spent', async () => {
    const headers = { 'idempotency-key': 'too-late', 'x-deadline-ms': '0' };
    const answer = await post('/pay', { userId: randomUserId(), amountCents: 100 }, headers);
    expect(answer).toEqual({ status: 504, json: { error: expect.any(String), cause: 'deadline' } });
    expect(await count("payments WHERE idempotency_key = 'too-late'")).toBe(0);
  });
});

describe('monolith POST /checkout is one transaction', () => {
  it('creates the user and the payment together', async () => {
    const email = uniqueEmail();
    const answer = await post('/checkout', { email, password: 'password1', amountCents: 2500 });
    expect(answer).toEqual({
      status: 201,
      json: { userId: expect.any(String), paymentId: expect.any(String) },
    });
    const { rows } = await audit.query(
      `SELECT u.created_via, p.amount_cents, p.idempotency_key, p.user_id
         FROM users u JOIN payments p ON p.user_id = u.id WHERE u.email = $1`,
      [email],
    );
    expect(rows).toEqual([
      {
        created_via: 'checkout',
        amount_cents: 2500,
        idempotency_key: `checkout-${String(answer.json['userId'])}`,
        user_id: answer.json['userId'],
      },
    ]);
  });

  it('uses the client Idempotency-Key when one is given', async () => {
    const answer = await post(
      '/checkout',
      { email: uniqueEmail(), password: 'password1', amountCents: 100 },
      { 'idempotency-key': 'client-checkout-key' },
    );
    expect(answer.status).toBe(201);
    expect(await count("payments WHERE idempotency_key = 'client-checkout-key'")).toBe(1);
  });

  it('writes no payment when the email is already taken', async () => {
    const email = uniqueEmail();
    expect((await post('/signup', { email, password: 'password1' })).status).toBe(201);
    const payments = await count('payments');
    const answer = await post(
      '/checkout',
      { email, password: 'password1', amountCents: 100 },
      {
        'idempotency-key': 'dup-email',
      },
    );
    expect(answer).toMatchObject({ status: 409, json: { field: 'email' } });
    expect(await count('payments')).toBe(payments);
    expect(await count("payments WHERE idempotency_key = 'dup-email'")).toBe(0);
  });

  it('rolls the user back when the charge fails after the user was inserted', async () => {
    // The key already belongs to another payment, so the charge fails after INSERT INTO users ran.
    expect(
      (await post('/pay', { userId: randomUserId(), amountCents: 100 }, { 'idempotency-key': 'taken' }))
        .status,
    ).toBe(201);
    const email = uniqueEmail();
    const answer = await post(
      '/checkout',
      { email, password: 'password1', amountCents: 100 },
      {
        'idempotency-key': 'taken',
      },
    );
    expect(answer).toEqual({ status: 422, json: { error: expect.any(String), field: 'Idempotency-Key' } });
    expect(await count('users WHERE email = $1', [email])).toBe(0);
  });

  it('rolls back and answers 504 when the caller budget is already spent', async () => {
    const email = uniqueEmail();
    const answer = await post(
      '/checkout',
      { email, password: 'password1', amountCents: 100 },
      { 'x-deadline-ms': '0' },
    );
    expect(answer).toMatchObject({ status: 504, json: { cause: 'deadline' } });
    expect(await count('users WHERE email = $1', [email])).toBe(0);
  });
});

describe('monolith observability', () => {
  it('reports healthy, and its metrics in the documented shape', async () => {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', version: 'v1' });
    const metrics = (await (await fetch(`${url}/metrics.json`)).json()) as Record<string, unknown>;
    expect(metrics).toMatchObject({
      service: 'monolith',
      uptimeS: expect.any(Number),
      eventLoopDelayMs: {
        p50: expect.any(Number),
        p90: expect.any(Number),
        p99: expect.any(Number),
        max: expect.any(Number),
      },
      requestsInFlight: 0,
      outboundInFlight: 0,
      counters: {
        requests: expect.any(Number),
        responsesByStatus: expect.objectContaining({ '201': expect.any(Number), '409': expect.any(Number) }),
        outboundCalls: 0,
        outboundFailuresByCause: {},
      },
    });
  });

  it('answers 503 cause database while PostgreSQL is down, without crashing', async () => {
    // A PostgreSQL of its own, so stopping it does not disturb the other tests.
    await using other = await startEmbeddedPostgres(['monolith']);
    await using service = await startMonolith({
      databaseUrl: other.urlFor('monolith'),
      scryptN: 1024,
      databaseTimeoutMs: 1_000,
    });
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    await other.stop();

    const health = await fetch(`${service.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ error: expect.any(String), cause: 'database' });
    const signup = await fetch(`${service.url}/signup`, {
      method: 'POST',
      body: JSON.stringify({ email: uniqueEmail(), password: 'password1' }),
    });
    expect(signup.status).toBe(503);
    expect(await signup.json()).toMatchObject({ cause: 'database', detail: expect.any(String) });
    const pay = await fetch(`${service.url}/pay`, {
      method: 'POST',
      headers: { 'idempotency-key': 'db-down' },
      body: JSON.stringify({ userId: randomUserId(), amountCents: 1 }),
    });
    expect(pay.status).toBe(503);
    // The process survived the outage and still answers.
    expect((await fetch(`${service.url}/metrics`)).status).toBe(200);
    const port = service.port;
    await service.close();
    await service.close();
    expect(await isPortListening(port)).toBe(false);
  });

  it('gives up starting after the start-up budget, naming the database address', async () => {
    await expect(
      startMonolith({ databaseUrl: 'postgres://u:secret@127.0.0.1:1/monolith', startupTimeoutMs: 500 }),
    ).rejects.toThrow(/PostgreSQL at 127\.0\.0\.1:1 \(DATABASE_URL\) was not reachable within 500 ms/);
  });
});
