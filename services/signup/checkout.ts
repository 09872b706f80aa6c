import type { CallOptions, PaymentGateway } from '../payment/payment-gateway.ts';
import { assertBeforeDeadline, monotonicClock } from '../runtime/deadline.ts';
import type { NewUser } from './user-store.ts';

export interface CheckoutInput {
  readonly email: string;
  readonly passwordHash: string;
  readonly amountCents: number;
  /** The client's Idempotency-Key; `checkout-<userId>` when absent. */
  readonly idempotencyKey?: string | undefined;
}

export interface CheckoutDependencies {
  createUser(user: NewUser): Promise<string>;
  readonly payments: PaymentGateway;
}

export interface CheckoutResult {
  readonly userId: string;
  readonly paymentId: string;
}

/** The user was written but the charge failed; `cause` says why. */
export class ChargeAfterSignupFailedError extends Error {
  readonly code = 'CHARGE_AFTER_SIGNUP_FAILED';
  override name = 'ChargeAfterSignupFailedError';
  readonly userId: string;

  constructor(userId: string, cause: unknown) {
    super(`user ${userId} was created but the charge failed`, { cause });
    this.userId = userId;
  }
}

/**
 * The Idempotency-Key of a checkout's charge: the client's, else one derived from the new user, so a
 * retried or relayed charge of the same checkout always carries the same key.
 *
 * @example
 *   checkoutIdempotencyKey(undefined, '0b7e...'); // 'checkout-0b7e...'
 */
export function checkoutIdempotencyKey(clientKey: string | undefined, userId: string): string {
  return clientKey ?? `checkout-${userId}`;
}

/**
 * Signup and first payment as one business action, written once for both deployments. The caller picks
 * the transaction boundary through the dependencies: the monolith passes a user writer and an in-process
 * gateway on one transaction (all or nothing); the split deployment commits the user first and charges
 * over HTTP, so a failed charge leaves a user without a payment. The saga (saga-checkout.ts) wraps this
 * function with compensation; the outbox (outbox-checkout.ts) replaces the call with a queued row.
 *
 * @example
 *   const { userId, paymentId } = await checkout(input, { createUser, payments: gateway }, { deadline });
 */
export async function checkout(
  input: CheckoutInput,
  dependencies: CheckoutDependencies,
  call: CallOptions,
): Promise<CheckoutResult> {
  // A caller whose budget (X-Deadline-Ms) is already spent gets its 504 before anything is written: in
  // split, creating the user first left an orphan that no charge could ever follow.
  assertBeforeDeadline(call.deadline, monotonicClock(), 'creating the user');
  const userId = await dependencies.createUser({
    email: input.email,
    passwordHash: input.passwordHash,
    createdVia: 'checkout',
  });
  try {
    const { paymentId } = await dependencies.payments.charge(
      {
        userId,
        amountCents: input.amountCents,
        idempotencyKey: checkoutIdempotencyKey(input.idempotencyKey, userId),
      },
      call,
    );
    return { userId, paymentId };
  } catch (error) {
    throw new ChargeAfterSignupFailedError(userId, error);
  }
}
