import type pg from 'pg';
import { withTransaction } from '../db/with-transaction.ts';
import type { Handler } from '../http/router.ts';
import { SERVICE_DEFAULTS } from '../runtime/service-defaults.ts';
import type { ServiceVersion } from '../runtime/service-version.ts';
import { IDEMPOTENCY_KEY_HEADER, parseChargeBody, parseIdempotencyKey } from './charge-request.ts';
import { createInProcessPaymentGateway } from './in-process-payment-gateway.ts';

/**
 * The charge endpoint, the same code behind the monolith's POST /pay and payment-service's POST /charge:
 * 201 `{ paymentId, replayed: false }` the first time, 200 `{ paymentId, replayed: true }` for a repeated
 * Idempotency-Key. An `X-Deadline-Ms` budget that runs out means nothing is committed and 504. `version`
 * is the contract the body is read by (see parseChargeBody): v2 refuses a body without a currency.
 *
 * @example
 *   const route = { method: 'POST', path: '/charge', handler: createChargeHandler(pool, 'v2') };
 */
export function createChargeHandler(
  pool: pg.Pool,
  version: ServiceVersion = SERVICE_DEFAULTS.version,
): Handler {
  return async (context) => {
    const body = parseChargeBody(await context.readJsonBody(), version);
    const idempotencyKey = parseIdempotencyKey(context.header(IDEMPOTENCY_KEY_HEADER), { required: true });
    const call = { deadline: context.deadline, signal: context.signal };
    const result = await withTransaction(
      pool,
      (tx) => createInProcessPaymentGateway(tx).charge({ ...body, idempotencyKey }, call),
      call,
    );
    return { status: result.replayed ? 200 : 201, body: result };
  };
}
