import type pg from 'pg';
import { asDatabaseError } from '../db/database-errors.ts';
import type { Queryable } from '../db/queryable.ts';
import { withTransaction, type TransactionOptions } from '../db/with-transaction.ts';
import { checkoutIdempotencyKey } from './checkout.ts';
import { insertUser, type NewUser } from './user-store.ts';

/** A saga checkout whose charge has not been settled: in flight, or its outcome unknown. */
export interface PendingCheckout {
  readonly userId: string;
  readonly idempotencyKey: string;
  readonly amountCents: number;
}

/**
 * Commits a user, with the id given, together with its pending-checkout mark, so no crash or database
 * outage between the two can leave a user the reconciler does not know about.
 *
 * @example
 *   await insertUserWithPendingCheckout(pool, randomUUID(), user, { amountCents: 1999 }, { deadline });
 */
export async function insertUserWithPendingCheckout(
  pool: pg.Pool,
  userId: string,
  user: NewUser,
  charge: { readonly amountCents: number; readonly idempotencyKey?: string | undefined },
  options: TransactionOptions = {},
): Promise<void> {
  await withTransaction(
    pool,
    async (tx) => {
      await insertUser(tx, user, userId);
      await tx.query(
        'INSERT INTO pending_checkouts (user_id, idempotency_key, amount_cents) VALUES ($1, $2, $3)',
        [userId, checkoutIdempotencyKey(charge.idempotencyKey, userId), charge.amountCents],
      );
    },
    options,
  );
}

/**
 * Removes the mark of a checkout whose charge is known to have happened; the user stays. Returns whether
 * there was a mark to remove (false when someone else settled it first).
 *
 * @example
 *   await clearPendingCheckout(pool, userId);
 */
export async function clearPendingCheckout(db: Queryable, userId: string): Promise<boolean> {
  try {
    const result = await db.query('DELETE FROM pending_checkouts WHERE user_id = $1', [userId]);
    return result.rowCount === 1;
  } catch (error) {
    throw asDatabaseError(error, 'clearing the pending checkout');
  }
}

/**
 * The saga's compensation: deletes the user of a checkout whose charge did not happen, and its mark, in
 * one transaction. Only while the mark is there: a checkout someone already settled is left alone.
 * Returns whether the user was deleted.
 *
 * @example
 *   if (await compensateCheckout(pool, userId)) metrics.sagaCompensated();
 */
export async function compensateCheckout(pool: pg.Pool, userId: string): Promise<boolean> {
  return await withTransaction(pool, async (tx) => {
    if (!(await clearPendingCheckout(tx, userId))) return false;
    try {
      await tx.query('DELETE FROM users WHERE id = $1', [userId]);
    } catch (error) {
      throw asDatabaseError(error, 'deleting the unpaid user');
    }
    return true;
  });
}

/**
 * Pending checkouts the reconciler may settle, oldest first: all but `excludeUserIds`, whose charges are
 * still running here (or stopped only a moment ago).
 *
 * @example
 *   const due = await listPendingCheckouts(pool, { excludeUserIds: inFlight.held(), limit: 50 });
 */
export async function listPendingCheckouts(
  db: Queryable,
  options: { readonly excludeUserIds: readonly string[]; readonly limit: number },
): Promise<PendingCheckout[]> {
  try {
    const result = await db.query<{ user_id: string; idempotency_key: string; amount_cents: number }>(
      `SELECT user_id, idempotency_key, amount_cents FROM pending_checkouts
       WHERE NOT (user_id = ANY ($1::uuid[]))
       ORDER BY created_at, user_id
       LIMIT $2`,
      [options.excludeUserIds, options.limit],
    );
    return result.rows.map((row) => ({
      userId: row.user_id,
      idempotencyKey: row.idempotency_key,
      amountCents: row.amount_cents,
    }));
  } catch (error) {
    throw asDatabaseError(error, 'listing pending checkouts');
  }
}

/**
 * All marks, in flight or not: the `sagaPending` gauge.
 *
 * @example
 *   await countPendingCheckouts(pool); // 0 once every checkout is settled
 */
export async function countPendingCheckouts(db: Queryable): Promise<number> {
  try {
    const result = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pending_checkouts');
    return result.rows[0]?.n ?? 0;
  } catch (error) {
    throw asDatabaseError(error, 'counting pending checkouts');
  }
}
