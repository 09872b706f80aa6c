import { afterEach, describe, expect, it } from 'vitest';
import type { LabState } from '../../lab/interactive/control-files.ts';
import { formatUpBanner, METRICS_NOTE, STEADY_LOAD_RATES } from '../../lab/interactive/lab-text.ts';
import { snapshotUrl } from '../../lab/measure/metrics-scraper.ts';
import { prefersJson } from '../../services/metrics/metrics-routes.ts';
import { createServiceMetrics, type ServiceMetrics } from '../../services/metrics/service-metrics.ts';
import { parseFamilies, parseSamples, samplesOf, valueOf } from '../support/prometheus-text.ts';

const DURATION = 'http_server_request_duration_seconds';

describe('the Prometheus view of a service', () => {
  const started: ServiceMetrics[] = [];
  const metricsFor = (service: string, processMetrics = false): ServiceMetrics => {
    const metrics = createServiceMetrics(service, 10, { processMetrics });
    started.push(metrics);
    return metrics;
  };
  afterEach(() => {
    for (const metrics of started.splice(0)) metrics.stop();
  });

  it('counts finished requests in the duration histogram by method, route and status, in seconds', async () => {
    const metrics = metricsFor('payment-service');
    const finish = (method: string, route: string | undefined, status: number | undefined, ms: number) => {
      metrics.requestStarted();
      metrics.requestFinished(status, { method, route, durationMs: ms });
    };
    for (const ms of [0.4, 3, 4]) finish('POST', '/charge', 201, ms);
    finish('POST', '/charge', 201, 300);
    finish('GET', undefined, 404, 0.2);
    finish('FOO', '/charge', 405, 0.3);
    finish('POST', '/charge', undefined, 20);
    // Without what the server knows of the request, it is counted in the JSON but not in the histogram.
    metrics.requestStarted();
    metrics.requestFinished(201);

    const text = await metrics.exposition();
    expect(parseFamilies(text).get(DURATION)).toMatchObject({ type: 'HISTOGRAM' });
    const samples = parseSamples(text);
    const created = { method: 'POST', route: '/charge', status: '201' };
    expect(valueOf(samples, `${DURATION}_count`, created)).toBe(4);
    expect(valueOf(samples, `${DURATION}_sum`, created)).toBeCloseTo(0.3074, 6);
    expect(valueOf(samples, `${DURATION}_bucket`, { ...created, le: '0.001' })).toBe(1);
    expect(valueOf(samples, `${DURATION}_bucket`, { ...created, le: '0.005' })).toBe(3);
    expect(valueOf(samples, `${DURATION}_bucket`, { ...created, le: '0.25' })).toBe(3);
    expect(valueOf(samples, `${DURATION}_bucket`, { ...created, le: '0.5' })).toBe(4);
    expect(valueOf(samples, `${DURATION}_bucket`, { ...created, le: '+Inf' })).toBe(4);
    expect(samplesOf(samples, `${DURATION}_bucket`, created).map((sample) => sample.labels['le'])).toEqual([
      '0.001',
      '0.0025',
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.075',
      '0.1',
      '0.25',
      '0.5',
      '0.75',
      '1',
      '2.5',
      '5',
      '7.5',
      '10',
      '+Inf',
    ]);
    // No route matched: the label is left out, so made-up paths cannot make series.
    const notFound = samplesOf(samples, `${DURATION}_count`, { method: 'GET', status: '404' });
    expect(notFound.map((sample) => [sample.labels, sample.value])).toEqual([
      [{ method: 'GET', status: '404', service: 'payment-service' }, 1],
    ]);
    expect(valueOf(samples, `${DURATION}_count`, { method: '_OTHER', route: '/charge', status: '405' })).toBe(
      1,
    );
    expect(valueOf(samples, `${DURATION}_count`, { method: 'POST', route: '/charge', status: '499' })).toBe(
      1,
    );
    expect(samplesOf(samples, `${DURATION}_count`).reduce((sum, sample) => sum + sample.value, 0)).toBe(7);
    expect(metrics.scrape().counters).toMatchObject({ requests: 8, requestsAborted: 1 });
    expect(samples.every((sample) => sample.labels['service'] === 'payment-service')).toBe(true);
  });

  it('shows the same counters and gauges as the JSON snapshot, read at each scrape', async () => {
    const metrics = metricsFor('signup-service');
    metrics.requestStarted();
    metrics.requestStarted();
    metrics.callStarted();
    for (let call = 0; call < 3; call += 1) {
      metrics.callStarted();
      metrics.attemptStarted();
      metrics.retried();
      metrics.attemptStarted();
      metrics.callFinished({ cause: call === 0 ? 'deadline' : 'refused', detail: 'x' });
    }
    metrics.breakerOpened();
    metrics.breakerHalfOpened();
    metrics.breakerOpened();
    metrics.bulkheadRejected();
    metrics.sagaCompensated();
    metrics.sagaReconciled();
    metrics.sagaReconciled();
    metrics.outboxDelivered(5);
    const extra = {
      databasePool: { total: 4, idle: 1, waiting: 2 },
      policy: 'breaker',
      idempotency: 'on',
      circuitState: 'open',
      checkoutConsistency: 'saga',
      outboxPending: 0,
      sagaPending: 3,
    } as const;

    const text = await metrics.exposition(extra);
    const families = parseFamilies(text);
    expect(families.get('splitlab_outbound_calls_total')?.type).toBe('COUNTER');
    expect(families.get('splitlab_circuit_breaker_state')?.type).toBe('GAUGE');
    const samples = parseSamples(text);
    const json = metrics.scrape(extra);
    expect(valueOf(samples, 'http_server_active_requests')).toBe(json.requestsInFlight);
    expect(valueOf(samples, 'http_server_active_requests')).toBe(2);
    expect(valueOf(samples, 'splitlab_outbound_calls_in_flight')).toBe(1);
    expect(valueOf(samples, 'splitlab_outbound_calls_total')).toBe(json.counters.outboundCalls);
    expect(valueOf(samples, 'splitlab_outbound_calls_total')).toBe(4);
    expect(valueOf(samples, 'splitlab_outbound_attempts_total')).toBe(6);
    expect(valueOf(samples, 'splitlab_outbound_retries_total')).toBe(3);
    expect(valueOf(samples, 'splitlab_outbound_failures_total', { cause: 'refused' })).toBe(2);
    expect(valueOf(samples, 'splitlab_outbound_failures_total', { cause: 'deadline' })).toBe(1);
    expect(valueOf(samples, 'splitlab_bulkhead_rejections_total')).toBe(1);
    expect(
      Object.fromEntries(
        samplesOf(samples, 'splitlab_circuit_breaker_state').map((sample) => [
          sample.labels['state'],
          sample.value,
        ]),
      ),
    ).toEqual({ closed: 0, open: 1, halfOpen: 0, isolated: 0 });
    expect(valueOf(samples, 'splitlab_circuit_breaker_transitions_total', { state: 'open' })).toBe(2);
    expect(valueOf(samples, 'splitlab_circuit_breaker_transitions_total', { state: 'halfOpen' })).toBe(1);
    expect(valueOf(samples, 'splitlab_circuit_breaker_transitions_total', { state: 'closed' })).toBe(0);
    expect(valueOf(samples, 'splitlab_outbound_policy_info', { policy: 'breaker', idempotency: 'on' })).toBe(
      1,
    );
    expect(valueOf(samples, 'splitlab_checkout_consistency_info', { strategy: 'saga' })).toBe(1);
    expect(valueOf(samples, 'splitlab_saga_pending')).toBe(3);
    expect(valueOf(samples, 'splitlab_outbox_pending')).toBe(0);
    expect(valueOf(samples, 'splitlab_saga_compensations_total')).toBe(1);
    expect(valueOf(samples, 'splitlab_saga_reconciled_total')).toBe(2);
    expect(valueOf(samples, 'splitlab_outbox_delivered_total')).toBe(5);
    expect(valueOf(samples, 'db_client_connection_count', { state: 'idle' })).toBe(1);
    expect(valueOf(samples, 'db_client_connection_count', { state: 'used' })).toBe(3);
    expect(valueOf(samples, 'db_client_connection_pending_requests')).toBe(2);

    // The next scrape reads the state as it is then: the circuit closed, the call in flight ended.
    metrics.breakerClosed();
    metrics.callFinished();
    const later = parseSamples(await metrics.exposition({ ...extra, circuitState: 'closed' }));
    expect(valueOf(later, 'splitlab_circuit_breaker_state', { state: 'open' })).toBe(0);
    expect(valueOf(later, 'splitlab_circuit_breaker_state', { state: 'closed' })).toBe(1);
    expect(valueOf(later, 'splitlab_circuit_breaker_transitions_total', { state: 'closed' })).toBe(1);
    expect(valueOf(later, 'splitlab_outbound_calls_in_flight')).toBe(0);
  });

  it('leaves out what a service does not have: no breaker state or policy without a breaker or a call', async () => {
    const metrics = metricsFor('payment-service');
    const samples = parseSamples(
      await metrics.exposition({ databasePool: { total: 1, idle: 1, waiting: 0 } }),
    );
    expect(samplesOf(samples, 'splitlab_circuit_breaker_state')).toEqual([]);
    expect(samplesOf(samples, 'splitlab_outbound_policy_info')).toEqual([]);
    expect(samplesOf(samples, 'splitlab_checkout_consistency_info')).toEqual([]);
    expect(samplesOf(samples, 'splitlab_outbound_failures_total')).toEqual([]);
    expect(valueOf(samples, 'splitlab_outbound_calls_total')).toBe(0);
    const retry = metricsFor('signup-service');
    const noBreaker = parseSamples(
      await retry.exposition({ policy: 'retry', idempotency: 'off', circuitState: null }),
    );
    expect(samplesOf(noBreaker, 'splitlab_circuit_breaker_state')).toEqual([]);
    expect(valueOf(noBreaker, 'splitlab_outbound_policy_info', { policy: 'retry' })).toBe(1);
  });

  it('adds the Node process metrics, labelled by service, for two services in one process', async () => {
    const payment = metricsFor('payment-service', true);
    const signup = metricsFor('signup-service', true);
    for (const [service, metrics] of [
      ['payment-service', payment],
      ['signup-service', signup],
    ] as const) {
      const samples = parseSamples(await metrics.exposition());
      for (const name of [
        'process_cpu_user_seconds_total',
        'nodejs_heap_size_used_bytes',
        'process_start_time_seconds',
      ]) {
        expect(valueOf(samples, name, { service }), name).toBeGreaterThan(0);
      }
      expect(samples.every((sample) => sample.labels['service'] === service)).toBe(true);
    }
    expect(payment.expositionContentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('keeps its own event-loop interval: a Prometheus scrape does not reset what the lab reads', async () => {
    const metrics = metricsFor('monolith');
    metrics.scrape();
    await metrics.exposition();
    // Hold the event loop in 40 ms slices, as a burst of scrypt would; Node's sampler reliably records
    // repeated blocks (measured here: 60-75 ms of delay over three runs), not always a single one.
    const startedAt = performance.now();
    while (performance.now() - startedAt < 300) {
      const until = performance.now() + 40;
      while (performance.now() < until);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const prometheus = parseSamples(await metrics.exposition());
    const json = metrics.scrape();
    // Both saw the blocks, although the Prometheus scrape came first.
    expect(json.eventLoopDelayMs.max).toBeGreaterThanOrEqual(25);
    expect(valueOf(prometheus, 'splitlab_event_loop_delay_max_seconds')).toBeGreaterThanOrEqual(0.025);
    // And each reset only its own: the next read starts over.
    expect(metrics.scrape().eventLoopDelayMs.max).toBeLessThan(25);
  });
});

describe('content negotiation at GET /metrics', () => {
  it('answers JSON only to a client that ranks JSON above the text format', () => {
    expect(prefersJson('application/json')).toBe(true);
    expect(prefersJson('application/json, text/plain;q=0.5')).toBe(true);
    expect(prefersJson('text/plain;q=0.9, application/json;q=0.8')).toBe(false);
    expect(prefersJson(undefined)).toBe(false);
    expect(prefersJson('*/*')).toBe(false);
    expect(prefersJson('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe(false);
    // What Prometheus 3 sends.
    expect(
      prefersJson(
        'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,*/*;q=0.1',
      ),
    ).toBe(false);
    expect(prefersJson('application/json;q=0')).toBe(false);
  });
});

describe('where the lab reads the JSON snapshot', () => {
  it('is /metrics.json beside the /metrics a runtime names', () => {
    expect(snapshotUrl('http://127.0.0.1:41234/metrics')).toBe('http://127.0.0.1:41234/metrics.json');
    expect(snapshotUrl('http://[::1]:80/metrics')).toBe('http://[::1]/metrics.json');
    expect(snapshotUrl('http://127.0.0.1:1/metrics.json')).toBe('http://127.0.0.1:1/metrics.json');
  });

  it('is said in the banner of npm run lab -- up, under the metrics addresses', () => {
    const state: LabState = {
      pid: 1,
      startedAt: '2025-01-31T12:00:00.000Z',
      status: 'ready',
      deployment: 'split',
      runtime: 'local',
      load: false,
      socket: '/tmp/control.sock',
      urls: {
        routes: { signup: 'http://a/signup', pay: 'http://a/charge', checkout: 'http://a/checkout' },
        metrics: {
          'payment-service': 'http://127.0.0.1:2002/metrics',
          'signup-service': 'http://127.0.0.1:2001/metrics',
        },
      },
    };
    const banner = formatUpBanner(state, STEADY_LOAD_RATES).split('\n');
    const first = banner.indexOf('  metrics    payment-service http://127.0.0.1:2002/metrics');
    expect(first).toBeGreaterThan(0);
    expect(banner[first + 1]).toBe('             signup-service http://127.0.0.1:2001/metrics');
    expect(banner[first + 2]).toBe(`             ${METRICS_NOTE}`);
  });
});
