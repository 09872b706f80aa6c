import { randomUUID } from 'node:crypto';
import { asDatabaseError, DatabaseUnavailableError } from '../db/database-errors.ts';
import type { Queryable } from '../db/queryable.ts';
import { DEFAULT_CURRENCY } from './charge-request.ts';
import type { ChargeRequest, ChargeResult } from './payment-gateway.ts';

/** The key was already used for a different user, amount or currency; answered as 422. */
export class IdempotencyKeyReusedError extends Error {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  override name = 'IdempotencyKeyReusedError';
  readonly field = 'Idempotency-Key';
}

interface PaymentRow {
  id: string;
  user_id: string;
  amount_cents: number;
  currency: string;
}

/**
 * Records a charge at most once per idempotency key. The unique constraint, not a read-then-write, is what
 * guarantees it: two concurrent requests with one key both reach the INSERT, one of them inserts, the
 * other waits for it and then replays its row.
 *
 * @example
 *   const { paymentId, replayed } = await recordCharge(tx, { userId, amountCents: 1999, idempotencyKey: 'k1' });
 */
export async function recordCharge(db: Queryable, request: ChargeRequest): Promise<ChargeResult> {
  const currency = request.currency ?? DEFAULT_CURRENCY;
  try {
    const id = randomUUID();
    const inserted = await db.query(
      `INSERT INTO payments (id, user_id, amount_cents, idempotency_key, currency) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [id, request.userId, request.amountCents, request.idempotencyKey, currency],
    );
    if (inserted.rowCount === 1) return { paymentId: id, replayed: false };

    const existing = await db.query<PaymentRow>(
      'SELECT id, user_id, amount_cents, currency FROM payments WHERE idempotency_key = $1',
      [request.idempotencyKey],
    );
    const row = existing.rows[0];
    if (!row) throw new DatabaseUnavailableError('payment row vanished between conflict and read');
    if (
      row.user_id !== request.userId ||
      row.amount_cents !== request.amountCents ||
      row.currency !== currency
    ) {
      throw new IdempotencyKeyReusedError(
        `Idempotency-Key ${request.idempotencyKey} was already used for a different user, amount or currency`,
      );
    }
    return { paymentId: row.id, replayed: true };
  } catch (error) {
    throw asDatabaseError(error, 'recording the payment');
  }
}

/** One payment as GET /charges lists it. */
export interface RecordedCharge {
  readonly paymentId: string;
  readonly userId: string;
  readonly amountCents: number;
  readonly idempotencyKey: string;
}

/**
 * Every payment recorded for a user, oldest first: how a saga's reconciler finds out whether a charge
 * whose answer it never got did commit. It asks by user rather than by key because with
 * PAYMENT_IDEMPOTENCY=off each attempt sent a key of its own that nobody kept.
 *
 * @example
 *   const charges = await chargesForUser(pool, userId); // [] when the charge never happened
 */
export async function chargesForUser(db: Queryable, userId: string): Promise<RecordedCharge[]> {
  try {
    const result = await db.query<Omit<PaymentRow, 'currency'> & { idempotency_key: string }>(
      `SELECT id, user_id, amount_cents, idempotency_key FROM payments WHERE user_id = $1
       ORDER BY created_at, id`,
      [userId],
    );
    return result.rows.map((row) => ({
      paymentId: row.id,
      userId: row.user_id,
      amountCents: row.amount_cents,
      idempotencyKey: row.idempotency_key,
    }));
  } catch (error) {
    throw asDatabaseError(error, 'listing payments');
  }
}
