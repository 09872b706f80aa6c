import type { Queryable } from '../db/queryable.ts';
import { ClientClosedRequestError } from '../http/http-errors.ts';
import { assertBeforeDeadline, monotonicClock, type Clock } from '../runtime/deadline.ts';
import { inSpan } from '../tracing/spans.ts';
import type { CallOptions, ChargeRequest, ChargeResult, PaymentGateway } from './payment-gateway.ts';
import { recordCharge } from './payment-ledger.ts';

/**
 * The monolith's gateway: a function call on the caller's transaction, so the charge commits or rolls
 * back together with whatever the caller wrote before it.
 *
 * @example
 *   await withTransaction(pool, (tx) => createInProcessPaymentGateway(tx).charge(request, { deadline }));
 */
export function createInProcessPaymentGateway(db: Queryable, clock: Clock = monotonicClock): PaymentGateway {
  return {
    // No client span: a function call on the caller's transaction. Its own INTERNAL span, named apart from
    // split's `charge payment` (the logical remote call), shows the ledger write inside `db transaction`.
    charge: (request: ChargeRequest, options: CallOptions): Promise<ChargeResult> =>
      inSpan('record charge', async (span) => {
        throwIfStopped(options, clock, 'charging');
        const result = await recordCharge(db, request);
        span.setAttribute('splitlab.replayed', result.replayed);
        // The caller commits right after this returns; a late charge must not be committed.
        throwIfStopped(options, clock, 'committing the charge');
        return result;
      }),
  };
}

function throwIfStopped(options: CallOptions, clock: Clock, stage: string): void {
  if (options.signal?.aborted)
    throw new ClientClosedRequestError(`client closed the request before ${stage}`);
  assertBeforeDeadline(options.deadline, clock(), stage);
}
