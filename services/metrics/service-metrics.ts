import type { OutboundObserver } from '../payment/http-payment-gateway.ts';
import type { PaymentPolicyObserver } from '../payment/payment-policy.ts';
import type { CheckoutConsistencyObserver } from '../signup/consistency-strategy.ts';
import { startEventLoopDelaySampler } from './event-loop-delay.ts';
import { createPrometheusMetrics } from './prometheus-metrics.ts';

import type { MetricsSnapshot } from './metrics-snapshot.ts';

export type { MetricsSnapshot };

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
