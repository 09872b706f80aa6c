import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type StartedPostgres } from '../../lab/runtime/local/embedded-postgres.ts';
import { findFreePort, isPortListening } from '../../lab/runtime/ports.ts';
import type { MetricsSnapshot } from '../../services/metrics/service-metrics.ts';
import { startMonolith } from '../../services/monolith.ts';
import { startPaymentService } from '../../services/payment-service.ts';
import { startSignupService, type SignupServiceConfig } from '../../services/signup-service.ts';
import {
  parseFamilies,
  parseSamples,
  samplesOf,
  valueOf,
  type PrometheusSample,
} from '../support/prometheus-text.ts';
import { listen, metricsOf, post } from './support/services.ts';

// GET /metrics in the Prometheus text format, on real services with real PostgreSQL: what a Prometheus
// server would read after real traffic, parsed with a Prometheus text parser, checked against the requests
// sent and against the JSON snapshot the lab reads at /metrics.json.

const DURATION = 'http_server_request_duration_seconds';
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** The Accept header Prometheus 3 sends when it scrapes. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,*/*;q=0.1';

const stack = new AsyncDisposableStack();
let postgres: StartedPostgres;
let monolithUrl: string;
let paymentUrl: string;
let paymentPort: number;

let sequence = 0;
const uniqueEmail = (): string => `prometheus-${process.pid}-${(sequence += 1)}@example.com`;

beforeAll(async () => {
  postgres = stack.use(await startEmbeddedPostgres(['monolith', 'signup', 'payment']));
  const payment = stack.use(await startPaymentService({ databaseUrl: postgres.urlFor('payment') }));
  ({ url: paymentUrl, port: paymentPort } = payment);
  monolithUrl = stack.use(
    await startMonolith({ databaseUrl: postgres.urlFor('monolith'), scryptN: 1024 }),
  ).url;
});

afterAll(async () => {
  await stack.disposeAsync();
  expect(await isPortListening(paymentPort)).toBe(false);
  expect(await isPortListening(postgres.port)).toBe(false);
});

interface Scrape {
  readonly contentType: string | null;
  readonly text: string;
  readonly samples: PrometheusSample[];
}

async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`, { headers: { accept: PROMETHEUS_ACCEPT } });
  expect(response.status).toBe(200);
  const text = await response.text();
  return { contentType: response.headers.get('content-type'), text, samples: parseSamples(text) };
}

/** Request counts of the duration histogram, by `method route status` (route `-` when left out). */
function requestCounts(samples: readonly PrometheusSample[]): Map<string, number> {
  return new Map(
    samplesOf(samples, `${DURATION}_count`).map((sample) => [
      `${sample.labels['method']} ${sample.labels['route'] ?? '-'} ${sample.labels['status']}`,
      sample.value,
    ]),
  );
}

/** What each series gained between two scrapes; series that did not change are left out. */
function countsSince(before: Scrape, after: Scrape): Record<string, number> {
  const earlier = requestCounts(before.samples);
  const gained: Record<string, number> = {};
  for (const [series, count] of requestCounts(after.samples)) {
    const delta = count - (earlier.get(series) ?? 0);
    if (delta !== 0) gained[series] = delta;
  }
  return gained;
}

describe('GET /metrics on payment-service', () => {
  it('counts each answered request once in the duration histogram, by method, route and status', async () => {
    const before = await scrape(paymentUrl);
    const jsonBefore = await metricsOf(paymentUrl);
    let clientSeconds = 0;
    const timed = async (request: () => Promise<unknown>): Promise<void> => {
      const startedAt = performance.now();
      await request();
      clientSeconds += (performance.now() - startedAt) / 1000;
    };
    const charge = (key: string, userId: string) =>
      post(`${paymentUrl}/charge`, { userId, amountCents: 100 }, { 'idempotency-key': key });
    const charges = [1, 2, 3, 4].map((index) => ({
      key: `prometheus-${process.pid}-${index}`,
      userId: crypto.randomUUID(),
    }));
    for (const { key, userId } of charges) await timed(() => charge(key, userId));
    // The same key and body again: a replay, answered 200.
    await timed(() => charge(charges[0]?.key ?? '', charges[0]?.userId ?? ''));
    await timed(() =>
      post(`${paymentUrl}/charge`, { amountCents: 'lots' }, { 'idempotency-key': 'bad-body' }),
    );
    await timed(() => fetch(`${paymentUrl}/no-such-route`).then((response) => response.text()));
    await timed(() => fetch(`${paymentUrl}/charge`, { method: 'PUT' }).then((response) => response.text()));
    // Scrapes and health checks are not load: none of these is counted.
    await fetch(`${paymentUrl}/healthz`).then((response) => response.text());
    await fetch(`${paymentUrl}/metrics.json`).then((response) => response.text());
    await scrape(paymentUrl);

    const after = await scrape(paymentUrl);
    expect(after.contentType).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(countsSince(before, after)).toEqual({
      'POST /charge 201': 4,
      'POST /charge 200': 1,
      'POST /charge 400': 1,
      'GET - 404': 1,
      'PUT /charge 405': 1,
    });
    const jsonAfter = await metricsOf(paymentUrl);
    expect(jsonAfter.counters.requests - jsonBefore.counters.requests).toBe(8);

    const families = parseFamilies(after.text);
    expect(families.get(DURATION)?.type).toBe('HISTOGRAM');
    for (const series of samplesOf(after.samples, `${DURATION}_count`)) {
      const { service, method, route, status } = series.labels;
      expect(service).toBe('payment-service');
      expect(['/charge', '/charges', undefined]).toContain(route);
      const labels = { method: method ?? '', status: status ?? '', ...(route ? { route } : {}) };
      const buckets = samplesOf(after.samples, `${DURATION}_bucket`, labels).filter(
        (bucket) => bucket.labels['route'] === route,
      );
      expect(buckets.at(-1)?.labels['le']).toBe('+Inf');
      expect(buckets.at(-1)?.value).toBe(series.value);
      // Cumulative: each bucket holds at least the one before it.
      expect(buckets.map((bucket) => bucket.value)).toEqual(
        [...buckets.map((bucket) => bucket.value)].sort((a, b) => a - b),
      );
    }
    // In seconds: the server's time for a request is within the client's time for it.
    const sumOf = (scraped: Scrape) =>
      samplesOf(scraped.samples, `${DURATION}_sum`).reduce((sum, sample) => sum + sample.value, 0);
    const serverSeconds = sumOf(after) - sumOf(before);
    expect(serverSeconds).toBeGreaterThan(0);
    expect(serverSeconds).toBeLessThanOrEqual(clientSeconds);
  });

  it('serves the lab gauges, the database pool and the Node process metrics, all labelled by service', async () => {
    const { text, samples } = await scrape(paymentUrl);
    const families = parseFamilies(text);
    for (const [name, type] of [
      ['http_server_active_requests', 'GAUGE'],
      ['splitlab_outbound_calls_in_flight', 'GAUGE'],
      ['splitlab_event_loop_delay_p99_seconds', 'GAUGE'],
      ['db_client_connection_count', 'GAUGE'],
      ['splitlab_outbound_calls_total', 'COUNTER'],
      ['splitlab_bulkhead_rejections_total', 'COUNTER'],
      ['process_cpu_user_seconds_total', 'COUNTER'],
      ['process_resident_memory_bytes', 'GAUGE'],
      ['nodejs_eventloop_lag_p99_seconds', 'GAUGE'],
    ] as const) {
      expect(families.get(name)?.type, name).toBe(type);
    }
    expect(valueOf(samples, 'http_server_active_requests')).toBe(0);
    expect(valueOf(samples, 'db_client_connection_count', { state: 'idle' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(samples.length).toBeGreaterThan(50);
    expect(samples.filter((sample) => sample.labels['service'] !== 'payment-service')).toEqual([]);
    // payment-service calls no one: no breaker, no policy.
    expect(samplesOf(samples, 'splitlab_circuit_breaker_state')).toEqual([]);
    expect(samplesOf(samples, 'splitlab_outbound_policy_info')).toEqual([]);
  });

  it('still serves the JSON snapshot at /metrics.json, and at /metrics to a client asking for JSON', async () => {
    for (const request of [
      fetch(`${paymentUrl}/metrics.json`),
      fetch(`${paymentUrl}/metrics`, { headers: { accept: 'application/json' } }),
    ]) {
      const response = await request;
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const snapshot = (await response.json()) as MetricsSnapshot;
      expect(snapshot).toMatchObject({
        service: 'payment-service',
        requestsInFlight: 0,
        eventLoopDelayMs: { p99: expect.any(Number) },
        counters: { requests: expect.any(Number), responsesByStatus: expect.any(Object) },
      });
    }
    // A browser, or curl without an Accept header, gets the text format.
    const plain = await fetch(`${paymentUrl}/metrics`);
    expect(plain.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(await plain.text()).toMatch(/^# HELP /);
  });
});

describe('GET /metrics on the monolith', () => {
  it('counts signup, pay and checkout apart', async () => {
    const before = await scrape(monolithUrl);
    expect(
      (await post(`${monolithUrl}/signup`, { email: uniqueEmail(), password: 'password1' })).status,
    ).toBe(201);
    for (let index = 0; index < 3; index += 1) {
      const answer = await post(
        `${monolithUrl}/pay`,
        { userId: crypto.randomUUID(), amountCents: 100 },
        { 'idempotency-key': `prometheus-pay-${process.pid}-${index}` },
      );
      expect(answer.status).toBe(201);
    }
    const checkout = await post(`${monolithUrl}/checkout`, {
      email: uniqueEmail(),
      password: 'password1',
      amountCents: 4200,
    });
    expect(checkout.status).toBe(201);
    const after = await scrape(monolithUrl);
    expect(countsSince(before, after)).toEqual({
      'POST /signup 201': 1,
      'POST /pay 201': 3,
      'POST /checkout 201': 1,
    });
    expect(valueOf(after.samples, `${DURATION}_count`, { route: '/pay', service: 'monolith' })).toBe(3);
  });
});

describe('GET /metrics on signup-service', () => {
  function signupService(overrides: Partial<SignupServiceConfig>) {
    return startSignupService({
      databaseUrl: postgres.urlFor('signup'),
      scryptN: 1024,
      paymentUrl,
      ...overrides,
    });
  }
  const checkoutBody = () => ({ email: uniqueEmail(), password: 'password1', amountCents: 4200 });

  it('shows calls, attempts, retries, failures by cause and the open circuit as the JSON does', async () => {
    const closedPort = await findFreePort();
    await using service = await signupService({
      paymentUrl: `http://127.0.0.1:${closedPort}`,
      paymentPolicy: 'breaker',
      paymentBreakerThreshold: 2,
    });
    const causes: unknown[] = [];
    for (let index = 0; index < 4; index += 1) {
      causes.push((await post(`${service.url}/checkout`, checkoutBody())).json['cause']);
    }
    expect(causes).toEqual(['refused', 'refused', 'circuit_open', 'circuit_open']);

    const { samples } = await scrape(service.url);
    const json = await metricsOf(service.url);
    // Three attempts for each refused call; none while the circuit is open.
    expect(json.counters).toMatchObject({ outboundCalls: 4, outboundAttempts: 6 });
    expect(valueOf(samples, 'splitlab_outbound_calls_total')).toBe(json.counters.outboundCalls);
    expect(valueOf(samples, 'splitlab_outbound_attempts_total')).toBe(json.counters.outboundAttempts);
    expect(valueOf(samples, 'splitlab_outbound_retries_total')).toBe(json.counters.outboundRetries);
    expect(
      Object.fromEntries(
        samplesOf(samples, 'splitlab_outbound_failures_total').map((sample) => [
          sample.labels['cause'],
          sample.value,
        ]),
      ),
    ).toEqual({ refused: 2, circuit_open: 2 });
    expect(
      Object.fromEntries(
        samplesOf(samples, 'splitlab_circuit_breaker_state').map((sample) => [
          sample.labels['state'],
          sample.value,
        ]),
      ),
    ).toEqual({ closed: 0, open: 1, halfOpen: 0, isolated: 0 });
    expect(valueOf(samples, 'splitlab_circuit_breaker_transitions_total', { state: 'open' })).toBe(1);
    expect(valueOf(samples, 'splitlab_outbound_policy_info', { policy: 'breaker', idempotency: 'on' })).toBe(
      1,
    );
    expect(valueOf(samples, 'splitlab_checkout_consistency_info', { strategy: 'none' })).toBe(1);
    expect(valueOf(samples, 'splitlab_saga_pending')).toBe(0);
    // refused is a 502, circuit_open a 503.
    expect(Object.fromEntries(requestCounts(samples))).toEqual({
      'POST /checkout 502': 2,
      'POST /checkout 503': 2,
    });
  });

  it('reads the in-flight gauges live, and times a request that waited out its deadline in the right buckets', async () => {
    const stuck = net.createServer((socket) => socket.on('data', () => undefined));
    await using upstream = await listen(stuck);
    await using service = await signupService({
      paymentUrl: upstream.url,
      paymentPolicy: 'bulkhead',
      paymentDeadlineMs: 1_000,
      paymentBulkheadLimit: 1,
      paymentBulkheadQueue: 0,
    });
    const holding = post(`${service.url}/checkout`, checkoutBody());
    await expect
      .poll(async () => valueOf((await scrape(service.url)).samples, 'splitlab_outbound_calls_in_flight'))
      .toBe(1);
    expect(valueOf((await scrape(service.url)).samples, 'http_server_active_requests')).toBe(1);
    const refused = await post(`${service.url}/checkout`, checkoutBody());
    expect(refused).toMatchObject({ status: 503, json: { cause: 'bulkhead_full' } });
    const timedOut = await holding;
    expect(timedOut.json['cause']).toBe('deadline');

    const { samples } = await scrape(service.url);
    expect(valueOf(samples, 'splitlab_outbound_calls_in_flight')).toBe(0);
    expect(valueOf(samples, 'http_server_active_requests')).toBe(0);
    expect(valueOf(samples, 'splitlab_bulkhead_rejections_total')).toBe(1);
    const waited = { route: '/checkout', status: String(timedOut.status) };
    expect(valueOf(samples, `${DURATION}_count`, waited)).toBe(1);
    // It waited the 1 s deadline: not within 0.75 s; within 5 s, however slow the machine is.
    expect(valueOf(samples, `${DURATION}_bucket`, { ...waited, le: '0.75' })).toBe(0);
    expect(valueOf(samples, `${DURATION}_bucket`, { ...waited, le: '5' })).toBe(1);
    expect(valueOf(samples, `${DURATION}_sum`, waited)).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, `${DURATION}_sum`, waited)).toBeLessThanOrEqual(timedOut.elapsedMs / 1000);
  });
});
