import type pg from 'pg';
import { databaseAddress } from '../runtime/config.ts';

/** A table, or an index that only some services need; created in the order a service lists them. */
export type TableName = 'users' | 'payments' | 'payments_by_user' | 'pending_checkouts' | 'outbox';

/**
 * The lab audits `users` and `payments` directly, so their names and columns are a contract. There is no
 * foreign key from payments to users: the split deployment keeps them in different databases, and the
 * monolith mirrors that so both deployments run the same SQL. `pending_checkouts` and `outbox` live in
 * signup's database next to `users`, for CHECKOUT_CONSISTENCY=saga and =outbox. `payments.currency` came
 * with /charge v2 (see runtime/service-version.ts); its default is the currency every charge had before, so
 * v1 code, which never names it, and a table made before it keep working.
 */
const TABLES: Readonly<Record<TableName, string>> = {
  users: `CREATE TABLE IF NOT EXISTS users (
    id uuid PRIMARY KEY,
    email text UNIQUE NOT NULL,
    password_hash text NOT NULL,
    created_via text NOT NULL CHECK (created_via IN ('signup', 'checkout')),
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  payments: `CREATE TABLE IF NOT EXISTS payments (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    amount_cents integer NOT NULL CHECK (amount_cents > 0),
    idempotency_key text UNIQUE NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  ALTER TABLE payments ADD COLUMN IF NOT EXISTS currency text NOT NULL DEFAULT 'EUR'
    CHECK (currency ~ '^[A-Z]{3}$')`,
  // Only payment-service asks "payments of this user" (GET /charges); the monolith does without.
  payments_by_user: 'CREATE INDEX IF NOT EXISTS payments_user_id_idx ON payments (user_id)',
  // The saga's log: a row per checkout whose charge has not been settled yet, written with the user, so
  // a crash between the user's commit and the charge's answer leaves a trace the reconciler finds.
  pending_checkouts: `CREATE TABLE IF NOT EXISTS pending_checkouts (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    idempotency_key text NOT NULL,
    amount_cents integer NOT NULL CHECK (amount_cents > 0),
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  // The key is unique so that two checkouts sent with one client Idempotency-Key cannot both be queued:
  // payment-service would refuse the second one forever.
  outbox: `CREATE TABLE IF NOT EXISTS outbox (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idempotency_key text UNIQUE NOT NULL,
    amount_cents integer NOT NULL CHECK (amount_cents > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    payment_id uuid,
    last_error text
  );
  CREATE INDEX IF NOT EXISTS outbox_undelivered_idx ON outbox (created_at, id) WHERE delivered_at IS NULL`,
};

/** Thrown when PostgreSQL stayed unreachable for the whole start-up budget. */
export class DatabaseUnreachableError extends Error {
  readonly code = 'DATABASE_UNREACHABLE';
  override name = 'DatabaseUnreachableError';
}

/**
 * Creates the tables, retrying while PostgreSQL is not up yet (containers start in any order).
 *
 * @example
 *   await ensureSchema(pool, ['users', 'payments'], { databaseUrl, timeoutMs: 15_000 });
 */
export async function ensureSchema(
  pool: pg.Pool,
  tables: readonly TableName[],
  options: { databaseUrl: string; timeoutMs: number },
): Promise<void> {
  const startedAt = performance.now();
  let attempt = 0;
  let lastError: unknown;
  for (;;) {
    const left = options.timeoutMs - (performance.now() - startedAt);
    if (left <= 0) break;
    attempt += 1;
    try {
      // Start-up is the only place where a slow connect must not eat the whole budget.
      await withinMs(left, createTables(pool, tables));
      return;
    } catch (error) {
      // Concurrent CREATE TABLE IF NOT EXISTS can collide on the catalog; the next attempt sees the table.
      lastError = error;
    }
    const pause = Math.min(1_000, 100 * 2 ** Math.min(attempt, 4));
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, left))));
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new DatabaseUnreachableError(
    `PostgreSQL at ${databaseAddress(options.databaseUrl)} (DATABASE_URL) was not reachable within ` +
      `${options.timeoutMs} ms after ${attempt} attempts; last error: ${reason}. ` +
      'Check that the database is running and DATABASE_URL points at it.',
    { cause: lastError },
  );
}

async function createTables(pool: pg.Pool, tables: readonly TableName[]): Promise<void> {
  for (const table of tables) await pool.query(TABLES[table]);
}

async function withinMs<T>(ms: number, work: Promise<T>): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms)} ms`)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
