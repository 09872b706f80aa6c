import type pg from 'pg';
import type { RecountedGauge } from '../metrics/recounted-gauge.ts';
import type { RecordedCharge } from '../payment/payment-ledger.ts';
import type { Logger } from '../runtime/log.ts';
import type { CheckoutConsistencyObserver } from './consistency-strategy.ts';
import type { CheckoutsInFlight } from './checkouts-in-flight.ts';
import {
  clearPendingCheckout,
  compensateCheckout,
  countPendingCheckouts,
  listPendingCheckouts,
} from './pending-checkout-store.ts';

export interface SagaReconcilerDependencies {
  readonly pool: pg.Pool;
  /** payment-service's GET /charges?userId=; rejects when it cannot be asked. */
  chargesForUser(userId: string, signal: AbortSignal): Promise<readonly RecordedCharge[]>;
  readonly inFlight: CheckoutsInFlight;
  readonly pending: RecountedGauge;
  readonly observer: CheckoutConsistencyObserver;
  readonly log: Logger;
  readonly batchSize: number;
}

/**
 * One reconciler round: for each pending saga checkout no charge call here is waiting for, ask
 * payment-service for the user's payments. Any payment: the charge happened, clear the mark, the user
 * stays. None: it did not, delete the user (the compensation) and the mark. A lookup that fails ends the
 * round (payment-service is unreachable, the rest would fail the same way); the next round tries again.
 * Resolves `true` when a full batch was settled and more may be waiting.
 *
 * The question is "payments of this user" rather than "the payment with this key": with
 * PAYMENT_IDEMPOTENCY=off every attempt sent a fresh key that was never stored, while the user id is in
 * every charge whatever the key.
 *
 * @example
 *   const reconciler = startPeriodicTask({ name: 'saga_reconciler', intervalMs: 1000, log,
 *     run: (signal) => reconcilePendingCheckouts(dependencies, signal) });
 */
export async function reconcilePendingCheckouts(
  dependencies: SagaReconcilerDependencies,
  signal: AbortSignal,
): Promise<boolean> {
  const { pool, pending, observer, log } = dependencies;
  // Every round, even an idle one: the gauge must come back to the truth after a failed write.
  await pending.recount(() => countPendingCheckouts(pool));
  if (pending.value() === 0) return false;
  const due = await listPendingCheckouts(pool, {
    excludeUserIds: dependencies.inFlight.held(),
    limit: dependencies.batchSize,
  });
  for (const checkout of due) {
    if (signal.aborted) return false;
    let charges: readonly RecordedCharge[];
    try {
      charges = await dependencies.chargesForUser(checkout.userId, signal);
    } catch (error) {
      log.throttled('saga_lookup_failed', {
        message: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
    if (charges.length > 0) {
      if (await clearPendingCheckout(pool, checkout.userId)) {
        pending.removed();
        observer.sagaReconciled();
      }
    } else if (await compensateCheckout(pool, checkout.userId)) {
      pending.removed();
      observer.sagaReconciled();
      observer.sagaCompensated();
    }
  }
  return due.length === dependencies.batchSize;
}
