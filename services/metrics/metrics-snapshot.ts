import type { IdempotencyMode } from '../payment/attempt-idempotency-key.ts';
import type { CircuitStateName, PaymentPolicyName } from '../payment/payment-policy.ts';
import type { ServiceVersion } from '../runtime/service-version.ts';
import type { CheckoutConsistency } from '../signup/consistency-strategy.ts';
import type { EventLoopDelaySummary } from './event-loop-delay.ts';

/**
 * The JSON served at GET /metrics.json (and at GET /metrics to a client that asks for JSON). Counters only
 * grow; the lab turns them into rates per second.
 */
export interface MetricsSnapshot {
  readonly service: string;
  /** The code it runs (SERVICE_VERSION); a deploy changes it. Absent only where a test measures without a service. */
  readonly version?: ServiceVersion;
  readonly uptimeS: number;
  readonly eventLoopDelayMs: EventLoopDelaySummary;
  readonly requestsInFlight: number;
  readonly outboundInFlight: number;
  readonly databasePool?: { readonly total: number; readonly idle: number; readonly waiting: number };
  /** Only on a service that calls another (signup-service): how it does so. */
  readonly policy?: PaymentPolicyName;
  readonly idempotency?: IdempotencyMode;
  /**
   * The circuit breaker's state at scrape time, `null` when the policy has none. cockatiel moves
   * Open -> HalfOpen only when the next call arrives, so it may read `open` after halfOpenAfter has passed.
   */
  readonly circuitState?: CircuitStateName | null;
  /** Only on signup-service: how its checkout keeps user and payment consistent (CHECKOUT_CONSISTENCY). */
  readonly checkoutConsistency?: CheckoutConsistency;
  /**
   * Only on signup-service: outbox rows payment-service has not acknowledged yet, and saga checkouts whose
   * charge is not settled yet (in flight, or its outcome unknown). Both 0 under other strategies. Kept in
   * memory and recounted each relay or reconciler round, so a scrape never waits on the database; they may
   * read high for one round, never low, so 0 means drained.
   */
  readonly outboxPending?: number;
  readonly sagaPending?: number;
  readonly counters: {
    readonly requests: number;
    readonly responsesByStatus: Readonly<Record<string, number>>;
    /** Requests whose client went away before an answer was written. */
    readonly requestsAborted: number;
    /** Logical calls (one per checkout); outboundAttempts / outboundCalls is the retry amplification. */
    readonly outboundCalls: number;
    readonly outboundFailuresByCause: Readonly<Record<string, number>>;
    /** HTTP requests actually sent, first attempts and retries alike. */
    readonly outboundAttempts: number;
    /**
     * Retries the policy scheduled. One whose backoff outlives the call's deadline is counted here but
     * never sent, so this can exceed outboundAttempts - outboundCalls.
     */
    readonly outboundRetries: number;
    /** Times the circuit opened (from closed, or again after a failed half-open probe). */
    readonly breakerOpened: number;
    /** Times an open circuit let a probe call through, and times a probe closed it again. */
    readonly breakerHalfOpened: number;
    readonly breakerClosed: number;
    readonly bulkheadRejections: number;
    /** Users deleted because their charge did not happen: at once by the checkout, or by the reconciler. */
    readonly sagaCompensations: number;
    /** Pending checkouts (mostly unknown outcomes) that the reconciler settled, either way. */
    readonly sagaReconciled: number;
    /** Outbox rows payment-service accepted or replayed. */
    readonly outboxDelivered: number;
  };
}
