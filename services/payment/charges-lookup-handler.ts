import type pg from 'pg';
import type { Handler } from '../http/router.ts';
import { parseUserIdQuery } from './charge-request.ts';
import { chargesForUser } from './payment-ledger.ts';

/**
 * GET /charges?userId=<uuid> on payment-service: 200 `{ userId, payments: [{ paymentId, userId,
 * amountCents, idempotencyKey }] }`, an empty list when the user was never charged; 400 naming `userId`
 * for a missing or malformed id. signup-service's saga reconciler asks it whether a charge whose answer
 * was lost did commit.
 *
 * @example
 *   const route = { method: 'GET', path: '/charges', handler: createChargesLookupHandler(pool) };
 */
export function createChargesLookupHandler(pool: pg.Pool): Handler {
  return async (context) => {
    const userId = parseUserIdQuery(context.query('userId'));
    const payments = await chargesForUser(pool, userId);
    return { status: 200, body: { userId, payments } };
  };
}
