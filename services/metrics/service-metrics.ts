import type { IdempotencyMode } from '../payment/attempt-idempotency-key.ts';
import type { OutboundObserver } from '../payment/http-payment-gateway.ts';
import type {
  CircuitStateName,
  PaymentPolicyName,
  PaymentPolicyObserver,
} from '../payment/payment-policy.ts';
import type { ServiceVersion } from '../runtime/service-version.ts';
import type { CheckoutConsistency, CheckoutConsistencyObserver } from '../signup/consistency-strategy.ts';
import { startEventLoopDelaySampler, type EventLoopDelaySummary } from './event-loop-delay.ts';
import { createPrometheusMetrics } from './prometheus-metrics.ts';

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

/** What a calling service adds to its snapshot; see {@link MetricsSnapshot}. */
export type OutboundPolicySnapshot = Required<
  Pick<MetricsSnapshot, 'policy' | 'idempotency' | 'circuitState'>
>;

/** What signup-service adds about its checkout consistency strategy; see {@link MetricsSnapshot}. */
export type CheckoutConsistencySnapshot = Required<
  Pick<MetricsSnapshot, 'checkoutConsistency' | 'outboxPending' | 'sagaPending'>
>;

/**
 * What a scrape reads from outside the metrics themselves: the version, the pool, the outbound policy, the
 * checkout.
 */
export type ScrapeExtra = Pick<
  MetricsSnapshot,
  'version' | 'databasePool' | 'policy' | 'idempotency' | 'circuitState'
> &
  Partial<CheckoutConsistencySnapshot>;

/** What the HTTP server knows of a request once it is over, for the Prometheus request histogram. */
export interface FinishedRequest {
  readonly method: string;
  /** The matched route's path (also on a 405); undefined when no route matched. */
  readonly route: string | undefined;
  /** From receipt to the answer written or the client gone. */
  readonly durationMs: number;
}

export interface ServiceMetrics extends OutboundObserver, PaymentPolicyObserver, CheckoutConsistencyObserver {
  requestStarted(): void;
  /**
   * `status` is undefined when the client left before the answer was written. Without `request` the
   * request is counted but not in the Prometheus histogram, which needs its route and duration.
   */
  requestFinished(status: number | undefined, request?: FinishedRequest): void;
  /** Reads the metrics as JSON and resets the event-loop interval. */
  scrape(extra?: ScrapeExtra): MetricsSnapshot;
  /**
   * The same metrics in the Prometheus text format, with the request histogram and the Node process
   * metrics. Its event-loop interval is its own: it does not reset the one {@link scrape} reads.
   */
  exposition(extra?: ScrapeExtra): Promise<string>;
  /** The content type of {@link exposition}: `text/plain; version=0.0.4; charset=utf-8`. */
  readonly expositionContentType: string;
  stop(): void;
}

/**
 * @example
 *   const metrics = createServiceMetrics('monolith', 10);
 *   metrics.requestStarted(); metrics.requestFinished(201);
 *   metrics.scrape().counters.responsesByStatus; // { '201': 1 }
 */
export function createServiceMetrics(
  service: string,
  eventLoopResolutionMs: number,
  options: { processMetrics?: boolean } = {},
): ServiceMetrics {
  const startedAt = performance.now();
  const eventLoop = startEventLoopDelaySampler(eventLoopResolutionMs);
  const prometheus = createPrometheusMetrics(service, eventLoopResolutionMs, options);
  const responsesByStatus: Record<string, number> = {};
  const outboundFailuresByCause: Record<string, number> = {};
  let requests = 0;
  let requestsAborted = 0;
  let requestsInFlight = 0;
  let outboundCalls = 0;
  let outboundInFlight = 0;
  let outboundAttempts = 0;
  let outboundRetries = 0;
  let breakerOpened = 0;
  let breakerHalfOpened = 0;
  let breakerClosed = 0;
  let bulkheadRejections = 0;
  let sagaCompensations = 0;
  let sagaReconciled = 0;
  let outboxDelivered = 0;
  return {
    requestStarted() {
      requests += 1;
      requestsInFlight += 1;
    },
    requestFinished(status, request) {
      requestsInFlight -= 1;
      if (status === undefined) requestsAborted += 1;
      else responsesByStatus[status] = (responsesByStatus[status] ?? 0) + 1;
      if (request) prometheus.observeRequest(request.method, request.route, status, request.durationMs);
    },
    callStarted() {
      outboundCalls += 1;
      outboundInFlight += 1;
    },
    callFinished(failure) {
      outboundInFlight -= 1;
      if (failure) outboundFailuresByCause[failure.cause] = (outboundFailuresByCause[failure.cause] ?? 0) + 1;
    },
    attemptStarted() {
      outboundAttempts += 1;
    },
    retried() {
      outboundRetries += 1;
    },
    breakerOpened() {
      breakerOpened += 1;
    },
    breakerHalfOpened() {
      breakerHalfOpened += 1;
    },
    breakerClosed() {
      breakerClosed += 1;
    },
    bulkheadRejected() {
      bulkheadRejections += 1;
    },
    sagaCompensated() {
      sagaCompensations += 1;
    },
    sagaReconciled() {
      sagaReconciled += 1;
    },
    outboxDelivered(count) {
      outboxDelivered += count;
    },
    scrape(extra) {
      return { ...reading(extra), eventLoopDelayMs: eventLoop.takeInterval() };
    },
    exposition: (extra) => prometheus.exposition(reading(extra)),
    expositionContentType: prometheus.contentType,
    stop() {
      eventLoop.stop();
      prometheus.stop();
    },
  };

  /** Everything but the event-loop delay, whose interval each of the two views keeps for itself. */
  function reading(extra: ScrapeExtra | undefined): Omit<MetricsSnapshot, 'eventLoopDelayMs'> {
    return {
      service,
      uptimeS: Math.round(performance.now() - startedAt) / 1000,
      requestsInFlight,
      outboundInFlight,
      ...extra,
      counters: {
        requests,
        responsesByStatus: { ...responsesByStatus },
        requestsAborted,
        outboundCalls,
        outboundFailuresByCause: { ...outboundFailuresByCause },
        outboundAttempts,
        outboundRetries,
        breakerOpened,
        breakerHalfOpened,
        breakerClosed,
        bulkheadRejections,
        sagaCompensations,
        sagaReconciled,
        outboxDelivered,
      },
    };
  }
}
