/**
 * How split's signup-service keeps a checkout's user (its database) and payment (payment-service's
 * database) consistent, with the eventual consistency patterns of distributed systems, sagas and outboxes:
 *
 * - `none`: commit the user, then charge. A failed charge leaves the user behind, unpaid (an orphan).
 * - `saga`: commit the user with a "pending checkout" mark, then charge. When the charge surely did not
 *   happen, compensate at once (delete the user). When its outcome is unknown (the answer never came),
 *   keep the user and let a reconciler ask payment-service later whether the charge exists.
 * - `outbox`: commit the user and an outbox row in one transaction and answer 202 at once; a relay
 *   charges every row with its own idempotency key until payment-service has it.
 *
 * The monolith needs none of these: its checkout is one transaction.
 */
export type CheckoutConsistency = 'none' | 'saga' | 'outbox';

export const CHECKOUT_CONSISTENCY_NAMES: readonly CheckoutConsistency[] = ['none', 'saga', 'outbox'];

/** Hears what the saga and the outbox did, so /metrics can count it. */
export interface CheckoutConsistencyObserver {
  /** A user was deleted because its charge did not happen (at once, or found out by the reconciler). */
  sagaCompensated(): void;
  /**
   * The reconciler settled a pending checkout, either way: one whose outcome was unknown, or one whose
   * checkout could not settle it itself (the database failed right then).
   */
  sagaReconciled(): void;
  /** The relay saw payment-service accept (or replay) this many outbox rows. */
  outboxDelivered(count: number): void;
}
