import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { RecountedGauge } from '../metrics/recounted-gauge.ts';
import { chargeOutcomeOf, type ChargeOutcome } from '../payment/charge-outcome.ts';
import type { CallOptions, PaymentGateway } from '../payment/payment-gateway.ts';
import type { Logger } from '../runtime/log.ts';
import {
  ChargeAfterSignupFailedError,
  checkout,
  type CheckoutInput,
  type CheckoutResult,
} from './checkout.ts';
import type { CheckoutConsistencyObserver } from './consistency-strategy.ts';
import type { CheckoutsInFlight } from './checkouts-in-flight.ts';
import {
  clearPendingCheckout,
  compensateCheckout,
  insertUserWithPendingCheckout,
} from './pending-checkout-store.ts';

/**
 * The saga's charge failed. `outcome: 'not_charged'`: the user was deleted again (`compensated: true`)
 * or, if that failed too, is left to the reconciler. `outcome: 'unknown'`: the user stays, pending, until
 * the reconciler learns from payment-service whether the charge committed. `cause` is the charge's error.
 */
export class SagaCheckoutFailedError extends Error {
  readonly code = 'SAGA_CHECKOUT_FAILED';
  override name = 'SagaCheckoutFailedError';
  readonly userId: string;
  readonly outcome: ChargeOutcome;
  readonly compensated: boolean;

  constructor(userId: string, cause: unknown, resolution: { outcome: ChargeOutcome; compensated: boolean }) {
    const what =
      resolution.outcome === 'unknown'
        ? 'its outcome is unknown; the user stays pending until payment-service is asked'
        : resolution.compensated
          ? 'it did not happen, so the user was deleted again'
          : 'it did not happen; deleting the user failed and is left to the reconciler';
    super(`the charge for user ${userId} failed: ${what}`, { cause });
    this.userId = userId;
    this.outcome = resolution.outcome;
    this.compensated = resolution.compensated;
  }
}

export interface SagaCheckoutDependencies {
  readonly pool: pg.Pool;
  readonly payments: PaymentGateway;
  readonly inFlight: CheckoutsInFlight;
  /** The `sagaPending` gauge: one per pending-checkout mark. */
  readonly pending: RecountedGauge;
  readonly observer: CheckoutConsistencyObserver;
  readonly log: Logger;
  /** How long the reconciler leaves a checkout alone after its charge's outcome became unknown. */
  readonly graceMs: number;
}

export type SagaCheckout = (input: CheckoutInput, call: CallOptions) => Promise<CheckoutResult>;

/**
 * Checkout as a saga: commit the user with a pending mark, charge, then settle. A charge that surely did
 * not happen is compensated at once (the user is deleted); one whose outcome is unknown is not guessed:
 * the user stays marked and the reconciler (saga-reconciler.ts) asks payment-service later. A step of
 * the settling that fails (the database is down) is also left to the reconciler, which is why the mark
 * is written before the charge rather than after it.
 *
 * @example
 *   const sagaCheckout = createSagaCheckout({ pool, payments, inFlight, pending, observer, log, graceMs: 1000 });
 *   const { userId, paymentId } = await sagaCheckout(input, { deadline });
 */
export function createSagaCheckout(dependencies: SagaCheckoutDependencies): SagaCheckout {
  const { pool, inFlight, pending, observer, log } = dependencies;

  const settleCharged = async (userId: string): Promise<void> => {
    try {
      if (await clearPendingCheckout(pool, userId)) pending.removed();
    } catch (error) {
      // The charge happened and the client is told so; the reconciler will find the payment and clear it.
      log.throttled('saga_clear_failed', { message: error instanceof Error ? error.message : String(error) });
    }
    inFlight.finished(userId, 0);
  };

  const compensate = async (userId: string): Promise<boolean> => {
    let compensated = false;
    try {
      // Not bound to the client's deadline or connection: compensation is owed whether or not it listens.
      compensated = await compensateCheckout(pool, userId);
    } catch (error) {
      log.throttled('saga_compensation_failed', {
        message: error instanceof Error ? error.message : String(error),
      });
    }
    if (compensated) {
      pending.removed();
      observer.sagaCompensated();
    }
    inFlight.finished(userId, 0);
    return compensated;
  };

  return async (input, call) => {
    let result: CheckoutResult;
    try {
      result = await checkout(
        input,
        {
          createUser: async (user) => {
            // Fenced off from the reconciler before the row can be seen: a reconciler that found the
            // mark between the commit and the charge would read "no payment" and delete the user.
            const userId = randomUUID();
            inFlight.started(userId);
            try {
              await insertUserWithPendingCheckout(
                pool,
                userId,
                user,
                { amountCents: input.amountCents, idempotencyKey: input.idempotencyKey },
                call,
              );
            } catch (error) {
              inFlight.finished(userId, 0);
              throw error;
            }
            pending.added();
            return userId;
          },
          payments: dependencies.payments,
        },
        call,
      );
    } catch (error) {
      // Anything else failed before a user was committed: nothing to settle.
      if (!(error instanceof ChargeAfterSignupFailedError)) throw error;
      const outcome = chargeOutcomeOf(error.cause);
      if (outcome === 'unknown') {
        inFlight.finished(error.userId, dependencies.graceMs);
        throw new SagaCheckoutFailedError(error.userId, error.cause, { outcome, compensated: false });
      }
      const compensated = await compensate(error.userId);
      throw new SagaCheckoutFailedError(error.userId, error.cause, { outcome, compensated });
    }
    await settleCharged(result.userId);
    return result;
  };
}
