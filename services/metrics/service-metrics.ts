import type { OutboundObserver } from '../payment/http-payment-gateway.ts';
import { startEventLoopDelaySampler, type EventLoopDelaySummary } from './event-loop-delay.ts';

/** The JSON served at GET /metrics. Counters only grow; the lab turns them into rates per second. */
export interface MetricsSnapshot {
  readonly service: string;
  readonly uptimeS: number;
  readonly eventLoopDelayMs: EventLoopDelaySummary;
  readonly requestsInFlight: number;
  readonly outboundInFlight: number;
  readonly databasePool?: { readonly total: number; readonly idle: number; readonly waiting: number };
  readonly counters: {
    readonly requests: number;
    readonly responsesByStatus: Readonly<Record<string, number>>;
    /** Requests whose client went away before an answer was written. */
    readonly requestsAborted: number;
    readonly outboundCalls: number;
    readonly outboundFailuresByCause: Readonly<Record<string, number>>;
  };
}

export interface ServiceMetrics extends OutboundObserver {
  requestStarted(): void;
  /** `status` is undefined when the client left before the answer was written. */
  requestFinished(status: number | undefined): void;
  /** Reads the metrics and resets the event-loop interval. */
  scrape(extra?: Pick<MetricsSnapshot, 'databasePool'>): MetricsSnapshot;
  stop(): void;
}

/**
 * @example
 *   const metrics = createServiceMetrics('monolith', 10);
 *   metrics.requestStarted(); metrics.requestFinished(201);
 *   metrics.scrape().counters.responsesByStatus; // { '201': 1 }
 */
export function createServiceMetrics(service: string, eventLoopResolutionMs: number): ServiceMetrics {
  const startedAt = performance.now();
  const eventLoop = startEventLoopDelaySampler(eventLoopResolutionMs);
  const responsesByStatus: Record<string, number> = {};
  const outboundFailuresByCause: Record<string, number> = {};
  let requests = 0;
  let requestsAborted = 0;
  let requestsInFlight = 0;
  let outboundCalls = 0;
  let outboundInFlight = 0;
  return {
    requestStarted() {
      requests += 1;
      requestsInFlight += 1;
    },
    requestFinished(status) {
      requestsInFlight -= 1;
      if (status === undefined) requestsAborted += 1;
      else responsesByStatus[status] = (responsesByStatus[status] ?? 0) + 1;
    },
    callStarted() {
      outboundCalls += 1;
      outboundInFlight += 1;
    },
    callFinished(failure) {
      outboundInFlight -= 1;
      if (failure) outboundFailuresByCause[failure.cause] = (outboundFailuresByCause[failure.cause] ?? 0) + 1;
    },
    scrape(extra) {
      return {
        service,
        uptimeS: Math.round(performance.now() - startedAt) / 1000,
        eventLoopDelayMs: eventLoop.takeInterval(),
        requestsInFlight,
        outboundInFlight,
        ...extra,
        counters: {
          requests,
          responsesByStatus: { ...responsesByStatus },
          requestsAborted,
          outboundCalls,
          outboundFailuresByCause: { ...outboundFailuresByCause },
        },
      };
    },
    stop() {
      eventLoop.stop();
    },
  };
}
