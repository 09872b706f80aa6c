import type pg from 'pg';
import type { RecountedGauge } from '../metrics/recounted-gauge.ts';
import type { CallOptions } from '../payment/payment-gateway.ts';
import type { CheckoutInput } from './checkout.ts';
import { insertUserWithOutboxRow } from './outbox-store.ts';

/** What the client of an outbox checkout learns at once: the user exists, the charge is on its way. */
export interface OutboxCheckoutResult {
  readonly userId: string;
  readonly status: 'pending';
}

export type OutboxCheckout = (input: CheckoutInput, call: CallOptions) => Promise<OutboxCheckoutResult>;

/**
 * Checkout through an outbox: the user and its charge, as an outbox row, commit in one transaction of
 * signup's own database, and the answer goes out without calling payment-service at all. The relay
 * (outbox-relay.ts) delivers the charge later, so a payment-service outage delays payments instead of
 * failing checkouts or leaving orphans.
 *
 * @example
 *   const outboxCheckout = createOutboxCheckout({ pool, pending });
 *   await outboxCheckout(input, { deadline }); // { userId, status: 'pending' }
 */
export function createOutboxCheckout(dependencies: {
  readonly pool: pg.Pool;
  /** The `outboxPending` gauge. */
  readonly pending: RecountedGauge;
}): OutboxCheckout {
  return async (input, call) => {
    const userId = await insertUserWithOutboxRow(
      dependencies.pool,
      { email: input.email, passwordHash: input.passwordHash, createdVia: 'checkout' },
      { amountCents: input.amountCents, idempotencyKey: input.idempotencyKey },
      call,
    );
    dependencies.pending.added();
    return { userId, status: 'pending' };
  };
}
