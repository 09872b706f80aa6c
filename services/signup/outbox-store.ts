import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { asDatabaseError, isUniqueViolation } from '../db/database-errors.ts';
import type { Queryable } from '../db/queryable.ts';
import { withTransaction, type TransactionOptions } from '../db/with-transaction.ts';
import { IdempotencyKeyReusedError } from '../payment/payment-ledger.ts';
import { checkoutIdempotencyKey } from './checkout.ts';
import { insertUser, type NewUser } from './user-store.ts';

/** A charge waiting in the outbox for payment-service. */
export interface OutboxRow {
  readonly id: string;
  readonly userId: string;
  readonly idempotencyKey: string;
  readonly amountCents: number;
}

/**
 * Commits a user and the outbox row for its charge in one transaction: both or neither, exactly what the
 * monolith gets from its single transaction, without waiting for payment-service. Returns the user id.
 *
 * @example
 *   const userId = await insertUserWithOutboxRow(pool, user, { amountCents: 1999 }, { deadline });
 */
export async function insertUserWithOutboxRow(
  pool: pg.Pool,
  user: NewUser,
  charge: { readonly amountCents: number; readonly idempotencyKey?: string | undefined },
  options: TransactionOptions = {},
): Promise<string> {
  return await withTransaction(
    pool,
    async (tx) => {
      const userId = await insertUser(tx, user);
      const idempotencyKey = checkoutIdempotencyKey(charge.idempotencyKey, userId);
      try {
        await tx.query(
          'INSERT INTO outbox (id, user_id, idempotency_key, amount_cents) VALUES ($1, $2, $3, $4)',
          [randomUUID(), userId, idempotencyKey, charge.amountCents],
        );
      } catch (error) {
        if (isUniqueViolation(error, 'outbox_idempotency_key_key')) {
          throw new IdempotencyKeyReusedError(
            `Idempotency-Key ${idempotencyKey} was already used for another checkout`,
            { cause: error },
          );
        }
        throw asDatabaseError(error, 'queueing the charge in the outbox');
      }
      return userId;
    },
    options,
  );
}

/**
 * Locks up to `limit` undelivered rows, oldest first, for the caller's transaction. SKIP LOCKED lets
 * several relays share one outbox without charging a row twice at the same time.
 *
 * @example
 *   await withTransaction(pool, async (tx) => { const rows = await claimUndelivered(tx, 50); ... });
 */
export async function claimUndelivered(tx: Queryable, limit: number): Promise<OutboxRow[]> {
  try {
    const result = await tx.query<{
      id: string;
      user_id: string;
      idempotency_key: string;
      amount_cents: number;
    }>(
      `SELECT id, user_id, idempotency_key, amount_cents FROM outbox
       WHERE delivered_at IS NULL
       ORDER BY created_at, id
       LIMIT $1
       FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return result.rows.map((row) => ({
      id: row.id,
      userId: row.user_id,
      idempotencyKey: row.idempotency_key,
      amountCents: row.amount_cents,
    }));
  } catch (error) {
    throw asDatabaseError(error, 'reading the outbox');
  }
}

/**
 * Records one relay round: `delivered` rows with the payment that answered them, `failed` rows with why.
 * Both count an attempt.
 *
 * @example
 *   await recordDeliveries(tx, [{ id, paymentId }], [{ id: other, error: 'refused' }]);
 */
export async function recordDeliveries(
  tx: Queryable,
  delivered: readonly { readonly id: string; readonly paymentId: string }[],
  failed: readonly { readonly id: string; readonly error: string }[],
): Promise<void> {
  try {
    if (delivered.length > 0) {
      await tx.query(
        `UPDATE outbox AS o
         SET delivered_at = now(), attempts = o.attempts + 1, payment_id = d.payment_id, last_error = NULL
         FROM unnest($1::uuid[], $2::uuid[]) AS d(id, payment_id)
         WHERE o.id = d.id`,
        [delivered.map((row) => row.id), delivered.map((row) => row.paymentId)],
      );
    }
    if (failed.length > 0) {
      await tx.query(
        `UPDATE outbox AS o
         SET attempts = o.attempts + 1, last_error = f.error
         FROM unnest($1::uuid[], $2::text[]) AS f(id, error)
         WHERE o.id = f.id`,
        [failed.map((row) => row.id), failed.map((row) => row.error)],
      );
    }
  } catch (error) {
    throw asDatabaseError(error, 'recording outbox deliveries');
  }
}

/**
 * Rows not delivered yet: the `outboxPending` gauge.
 *
 * @example
 *   await countUndelivered(pool); // 0 once payment-service has every charge
 */
export async function countUndelivered(db: Queryable): Promise<number> {
  try {
    const result = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL',
    );
    return result.rows[0]?.n ?? 0;
  } catch (error) {
    throw asDatabaseError(error, 'counting the outbox');
  }
}
