import type pg from 'pg';
import { withTransaction } from '../db/with-transaction.ts';
import type { Handler } from '../http/router.ts';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from '../payment/charge-request.ts';
import type { PaymentGateway } from '../payment/payment-gateway.ts';
import { ChargeAfterSignupFailedError, checkout } from './checkout.ts';
import { hashPassword, type ScryptCost } from './password-hash.ts';
import { parseCheckoutRequest } from './signup-request.ts';
import type { Queryable } from '../db/queryable.ts';
import { insertUser } from './user-store.ts';

/**
 * POST /checkout where the user is written in a transaction that stays open until the charge is done:
 * a failed charge rolls the user back, so no orphan is left. `gatewayFor` gives the payment side for that
 * transaction: the monolith's in-process gateway writing on it (one transaction for both), or the modular
 * monolith's worker thread (a transaction of its own, the user committed only after it).
 *
 * @example
 *   createTransactionalCheckoutHandler(pool, scrypt, async (tx) => createInProcessPaymentGateway(tx));
 */
export function createTransactionalCheckoutHandler(
  pool: pg.Pool,
  scrypt: ScryptCost,
  gatewayFor: (tx: Queryable) => Promise<PaymentGateway>,
): Handler {
  return async (context) => {
    const request = parseCheckoutRequest(await context.readJsonBody());
    const idempotencyKey = parseIdempotencyKey(context.header(IDEMPOTENCY_KEY_HEADER), { required: false });
    const passwordHash = await hashPassword(request.password, scrypt);
    const call = { deadline: context.deadline, signal: context.signal };
    try {
      const result = await withTransaction(
        pool,
        async (tx) =>
          checkout(
            { email: request.email, passwordHash, amountCents: request.amountCents, idempotencyKey },
            { createUser: (user) => insertUser(tx, user), payments: await gatewayFor(tx) },
            call,
          ),
        call,
      );
      return { status: 201, body: result };
    } catch (error) {
      // The user was rolled back with (or after) the failed charge: there is no orphan to name, only the cause.
      throw error instanceof ChargeAfterSignupFailedError ? error.cause : error;
    }
  };
}
