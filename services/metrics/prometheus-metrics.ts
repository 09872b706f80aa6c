import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CircuitStateName } from '../payment/payment-policy.ts';
import { startEventLoopDelaySampler, type EventLoopDelaySummary } from './event-loop-delay.ts';
import type { MetricsSnapshot } from './metrics-snapshot.ts';

/**
 * Request durations from 1 ms (a pay in the monolith) to 10 s (twice the payment deadline): OpenTelemetry's
 * advice for `http.server.request.duration`, with 1 and 2.5 ms in front so fast routes are not one bucket.
 */
export const REQUEST_DURATION_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** The circuit states, one 0/1 series each (see {@link createPrometheusMetrics}). */
const CIRCUIT_STATES: readonly CircuitStateName[] = ['closed', 'open', 'halfOpen', 'isolated'];

/**
 * Methods kept as they are in the `method` label; any other becomes `_OTHER`, as OpenTelemetry's HTTP
 * conventions say, so a client sending made-up methods cannot create a series per method.
 */
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/** The status label of a request whose client left before the answer was written: nginx's convention. */
export const CLIENT_CLOSED_STATUS = 499;

/** What /metrics reads besides the histogram: the same numbers as the JSON snapshot, at the same moment. */
export type PrometheusReading = Omit<MetricsSnapshot, 'eventLoopDelayMs'>;

export interface PrometheusMetrics {
  /**
   * One finished request. `route` is the matched route's path, undefined when no route matched (a 404):
   * the label is then left out, so unknown paths cannot create series. `status` is undefined when the
   * client left before the answer was written (labelled 499).
   */
  observeRequest(
    method: string,
    route: string | undefined,
    status: number | undefined,
    durationMs: number,
  ): void;
  /** The Prometheus text exposition of every metric, `reading` included. */
  exposition(reading: PrometheusReading): Promise<string>;
  /** `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  stop(): void;
}

/**
 * The Prometheus side of a service's metrics, in its own prom-client registry (several services may run
 * in one process, as the integration tests do; the global registry would refuse the second). Every series
 * carries a `service` label. Besides the request histogram, the numbers are the JSON snapshot's own,
 * copied in when a scrape asks (prom-client's `collect`), so both views always agree and the request path
 * pays for one histogram observation only.
 *
 * The circuit state is one gauge per state, 1 for the current one and 0 for the others, rather than a
 * numeric code: a query or a Grafana state timeline can then name the state (`state="open"`), sum and
 * average mean "fraction of scrapes in that state", and no reader needs to know a code table.
 *
 * @example
 *   const prometheus = createPrometheusMetrics('payment-service', 10);
 *   prometheus.observeRequest('POST', '/charge', 201, 3.2);
 *   await prometheus.exposition(reading); // '# HELP http_server_request_duration_seconds ...'
 */
export function createPrometheusMetrics(
  service: string,
  eventLoopResolutionMs: number,
  options: { processMetrics?: boolean } = {},
): PrometheusMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // The Node process metrics (CPU, memory, heap, GC, handles, prom-client's own event-loop lag). Each
  // call adds a GC observer that is never removed; that costs nothing with one service per process.
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  // Its own interval, apart from the JSON's: a Prometheus scrape must not reset what the lab reads.
  const eventLoop = startEventLoopDelaySampler(eventLoopResolutionMs);
  const registers = [registry];
  let reading: PrometheusReading | undefined;
  let eventLoopDelayMs: EventLoopDelaySummary | undefined;

  const requestDuration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests, from receipt to the answer written or the client gone.',
    labelNames: ['method', 'route', 'status'],
    buckets: REQUEST_DURATION_BUCKETS_S,
    registers,
  });

  // Each metric below copies its value from the reading when a scrape collects it. A reset first, so a
  // label that is gone from the reading (a circuit state, a failure cause) is gone from the scrape too.
  const gauge = (name: string, help: string, read: (current: PrometheusReading) => number | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.set(reading === undefined ? 0 : (read(reading) ?? 0));
      },
    });
  const counter = (name: string, help: string, read: (current: PrometheusReading) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        // The reading is the total since start: after a reset, one inc sets the counter to it.
        this.reset();
        if (reading !== undefined) this.inc(read(reading));
      },
    });
  type ByLabel = (current: PrometheusReading) => Readonly<Record<string, number>> | undefined;
  const labelledGauge = (name: string, help: string, label: string, read: ByLabel) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        const values = reading === undefined ? undefined : read(reading);
        for (const [key, value] of Object.entries(values ?? {})) this.set({ [label]: key }, value);
      },
    });
  const labelledCounter = (name: string, help: string, label: string, read: ByLabel) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        const values = reading === undefined ? undefined : read(reading);
        for (const [key, value] of Object.entries(values ?? {})) this.inc({ [label]: key }, value);
      },
    });
  /** An info metric: always 1, its labels say how the service is set up; absent when `read` says nothing. */
  const info = (
    name: string,
    help: string,
    labelNames: readonly string[],
    read: (current: PrometheusReading) => Record<string, string> | undefined,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        const labels = reading === undefined ? undefined : read(reading);
        if (labels !== undefined) this.set(labels, 1);
      },
    });

  gauge(
    'http_server_active_requests',
    'HTTP server requests being answered (not counting /metrics and /healthz).',
    (current) => current.requestsInFlight,
  );
  labelledGauge(
    'db_client_connection_count',
    'Connections of the database pool, by state (idle or used).',
    'state',
    ({ databasePool }) =>
      databasePool && { idle: databasePool.idle, used: databasePool.total - databasePool.idle },
  );
  gauge(
    'db_client_connection_pending_requests',
    'Queries waiting for a connection of the database pool.',
    (current) => current.databasePool?.waiting,
  );
  for (const quantile of ['p50', 'p90', 'p99', 'max'] as const) {
    gauge(
      `splitlab_event_loop_delay_${quantile}_seconds`,
      `Event-loop delay since the previous scrape, ${quantile}: the lateness beyond the ${eventLoopResolutionMs} ms ` +
        'sampling interval, as the lab reports it (nodejs_eventloop_lag_* include the interval).',
      () => (eventLoopDelayMs === undefined ? undefined : eventLoopDelayMs[quantile] / 1000),
    );
  }

  gauge(
    'splitlab_outbound_calls_in_flight',
    'Calls to another service (payment-service) in progress, retries and backoff included.',
    (current) => current.outboundInFlight,
  );
  counter(
    'splitlab_outbound_calls_total',
    'Logical calls to another service, one per checkout; attempts / calls is the retry amplification.',
    (current) => current.counters.outboundCalls,
  );
  counter(
    'splitlab_outbound_attempts_total',
    'HTTP requests sent to another service, first attempts and retries alike.',
    (current) => current.counters.outboundAttempts,
  );
  counter(
    'splitlab_outbound_retries_total',
    'Retries the resilience policy scheduled (one whose backoff outlives the deadline is never sent).',
    (current) => current.counters.outboundRetries,
  );
  labelledCounter(
    'splitlab_outbound_failures_total',
    'Logical calls that failed, by cause (deadline, refused, reset, upstream_status, ...).',
    'cause',
    (current) => current.counters.outboundFailuresByCause,
  );
  counter(
    'splitlab_bulkhead_rejections_total',
    'Calls the bulkhead refused because its slots and queue were full.',
    (current) => current.counters.bulkheadRejections,
  );
  labelledGauge(
    'splitlab_circuit_breaker_state',
    'The circuit breaker state: 1 for the current state, 0 for the others; absent without a breaker.',
    'state',
    ({ circuitState }) =>
      circuitState === undefined || circuitState === null
        ? undefined
        : Object.fromEntries(CIRCUIT_STATES.map((state) => [state, state === circuitState ? 1 : 0])),
  );
  labelledCounter(
    'splitlab_circuit_breaker_transitions_total',
    'Times the circuit opened, let a probe call through (halfOpen), and closed again.',
    'state',
    ({ counters }) => ({
      open: counters.breakerOpened,
      halfOpen: counters.breakerHalfOpened,
      closed: counters.breakerClosed,
    }),
  );
  info(
    'splitlab_service_info',
    'Always 1: the version of the code the service runs (SERVICE_VERSION); a deploy changes it.',
    ['version'],
    ({ version }) => (version === undefined ? undefined : { version }),
  );
  info(
    'splitlab_outbound_policy_info',
    'Always 1: the resilience policy and idempotency mode of the calls to another service.',
    ['policy', 'idempotency'],
    ({ policy, idempotency }) =>
      policy === undefined || idempotency === undefined ? undefined : { policy, idempotency },
  );

  info(
    'splitlab_checkout_consistency_info',
    "Always 1: how signup-service's checkout keeps the user and the payment consistent.",
    ['strategy'],
    ({ checkoutConsistency }) =>
      checkoutConsistency === undefined ? undefined : { strategy: checkoutConsistency },
  );
  gauge(
    'splitlab_outbox_pending',
    'Outbox rows payment-service has not acknowledged yet (may read high for one relay round, never low).',
    (current) => current.outboxPending,
  );
  gauge(
    'splitlab_saga_pending',
    'Saga checkouts whose charge is not settled yet (may read high for one reconciler round, never low).',
    (current) => current.sagaPending,
  );
  counter(
    'splitlab_saga_compensations_total',
    'Users deleted because their charge did not happen.',
    (current) => current.counters.sagaCompensations,
  );
  counter(
    'splitlab_saga_reconciled_total',
    'Pending saga checkouts the reconciler settled, either way.',
    (current) => current.counters.sagaReconciled,
  );
  counter(
    'splitlab_outbox_delivered_total',
    'Outbox rows payment-service accepted or replayed.',
    (current) => current.counters.outboxDelivered,
  );

  return {
    observeRequest(method, route, status, durationMs) {
      const labels: Record<string, string> = {
        method: KNOWN_METHODS.has(method) ? method : '_OTHER',
        status: String(status ?? CLIENT_CLOSED_STATUS),
      };
      if (route !== undefined) labels['route'] = route;
      requestDuration.observe(labels, Math.max(0, durationMs) / 1000);
    },
    async exposition(current) {
      // Set before collecting: every collect of this scrape reads the same moment.
      reading = current;
      eventLoopDelayMs = eventLoop.takeInterval();
      return await registry.metrics();
    },
    contentType: registry.contentType,
    stop() {
      eventLoop.stop();
      registry.clear();
    },
  };
}
