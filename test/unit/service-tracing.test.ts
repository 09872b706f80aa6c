import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../../services/db/database-errors.ts';
import { ClientClosedRequestError } from '../../services/http/http-errors.ts';
import { createPaymentPolicy } from '../../services/payment/payment-policy.ts';
import { UpstreamError, UpstreamStatusError } from '../../services/payment/upstream-failure.ts';
import { ConfigError } from '../../services/runtime/config.ts';
import { DeadlineExceededError } from '../../services/runtime/deadline.ts';
import { createLogger } from '../../services/runtime/log.ts';
import { ChargeAfterSignupFailedError } from '../../services/signup/checkout.ts';
import { DuplicateEmailError } from '../../services/signup/user-store.ts';
import {
  activeTraceIds,
  endServerSpan,
  failureCause,
  inSpan,
  injectTraceContext,
  serverSpanOutcome,
  startServerSpan,
} from '../../services/tracing/spans.ts';
import { otlpTracesUrl, startTracing, tracingOptionsFromEnv } from '../../services/tracing/start-tracing.ts';

// The tracing helpers the services share, on the real OpenTelemetry SDK with an in-memory exporter: no
// network, no services. The services' own spans are proven end to end in
// test/integration/services-tracing.test.ts.

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`;

const exporter = new InMemorySpanExporter();
const tracing = await startTracing({
  serviceName: 'unit-service',
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
});

afterAll(() => tracing.shutdown());
beforeEach(() => exporter.reset());

/** Runs `work` as the handler of one traced request, as http-server.ts does, and returns the spans. */
async function inRequest(work: () => Promise<unknown>): Promise<ReadableSpan[]> {
  const traced = startServerSpan('unit-service', 'POST', '/work', { traceparent: TRACEPARENT });
  if (!traced) throw new Error('unit-service is not traced');
  await context.with(traced.context, work).catch(() => undefined);
  endServerSpan(traced.span, 201, {}, false);
  return exporter.getFinishedSpans();
}

const named = (spans: ReadableSpan[], name: string): ReadableSpan[] =>
  spans.filter((span) => span.name === name);
const one = (spans: ReadableSpan[], name: string): ReadableSpan => {
  const found = named(spans, name);
  expect(found, `spans named ${name}`).toHaveLength(1);
  return found[0] as ReadableSpan;
};

describe('serverSpanOutcome', () => {
  it.each([
    [201, { userId: 'u' }, false, { status: 201, failure: undefined }],
    [409, { error: 'taken', field: 'email' }, false, { status: 409, failure: undefined }],
    [504, { error: 'late', cause: 'deadline' }, false, { status: 504, failure: 'deadline' }],
    [
      502,
      { error: 'x', cause: 'upstream_status', status: 503 },
      false,
      { status: 502, failure: 'upstream_status' },
    ],
    [500, { error: 'internal error' }, false, { status: 500, failure: 'http_500' }],
    [499, { error: 'client closed the request' }, true, { status: 499, failure: 'http_499' }],
    [201, { userId: 'u' }, true, { status: 499, failure: 'http_499' }],
    [504, { error: 'late', cause: 'deadline' }, true, { status: 499, failure: 'deadline' }],
    [503, null, false, { status: 503, failure: 'http_503' }],
  ])('%i %j client left: %s -> %j', (status, body, clientLeft, expected) => {
    expect(serverSpanOutcome(status, body, clientLeft)).toEqual(expected);
  });
});

describe('failureCause', () => {
  it.each([
    [new DeadlineExceededError('late'), 'deadline'],
    [new DatabaseUnavailableError('connect ECONNREFUSED'), 'database'],
    [new ClientClosedRequestError('gone'), 'client_closed'],
    [new UpstreamError('payment-service', { cause: 'refused', detail: 'ECONNREFUSED' }), 'refused'],
    [new DuplicateEmailError('taken'), 'duplicate_email'],
    [new Error('plain'), 'error'],
    ['a string', 'error'],
    [null, 'error'],
  ])('%s -> %s', (error, cause) => {
    expect(failureCause(error)).toBe(cause);
  });

  it("names the charge's own cause through the checkout's wrapper", () => {
    const charge = new UpstreamError('payment-service', { cause: 'reset', detail: 'socket hang up' });
    expect(failureCause(new ChargeAfterSignupFailedError('user-1', charge))).toBe('reset');
  });
});

describe('tracingOptionsFromEnv', () => {
  it('is off without OTEL_EXPORTER_OTLP_ENDPOINT, and an empty value counts as unset', async () => {
    expect(tracingOptionsFromEnv('monolith', {}).endpoint).toBeUndefined();
    expect(tracingOptionsFromEnv('monolith', { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }).endpoint).toBeUndefined();
    expect((await startTracing(tracingOptionsFromEnv('monolith', {}))).enabled).toBe(false);
  });

  it('reads the endpoint and the batch delay', () => {
    expect(
      tracingOptionsFromEnv('payment-service', {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      }),
    ).toEqual({ serviceName: 'payment-service', endpoint: 'http://127.0.0.1:4318', scheduledDelayMs: 50 });
  });

  it.each(['127.0.0.1:4318', 'localhost:4318', 'grpc://collector:4317', 'not a url'])(
    'refuses %s, naming the variable and an example',
    (endpoint) => {
      const read = () => tracingOptionsFromEnv('monolith', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
      expect(read).toThrow(ConfigError);
      expect(read).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be .* e\.g\. http:\/\/127\.0\.0\.1:4318/);
    },
  );

  it('refuses a batch delay that is not a whole number of milliseconds', () => {
    expect(() =>
      tracingOptionsFromEnv('monolith', {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_BSP_SCHEDULE_DELAY: '0.2s',
      }),
    ).toThrow(/OTEL_BSP_SCHEDULE_DELAY must be an integer/);
  });

  it('builds the traces URL as the OTLP specification does', () => {
    expect(otlpTracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces');
    expect(otlpTracesUrl('http://collector:4318/')).toBe('http://collector:4318/v1/traces');
    expect(otlpTracesUrl('http://lab/otlp')).toBe('http://lab/otlp/v1/traces');
  });
});

describe('spans outside a traced request', () => {
  it('runs the work as it is, records nothing and injects no traceparent', async () => {
    const headers: Record<string, string> = {};
    const result = await inSpan('db transaction', async (span) => {
      span.setAttribute('ignored', true);
      injectTraceContext(headers);
      expect(activeTraceIds()).toBeUndefined();
      return 42;
    });
    expect(result).toBe(42);
    expect(headers).toEqual({});
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('makes no server span for a service that is not traced', () => {
    expect(startServerSpan('other-service', 'POST', '/x', { traceparent: TRACEPARENT })).toBeUndefined();
    expect(startServerSpan(undefined, 'POST', '/x', {})).toBeUndefined();
  });
});

describe('spans inside a traced request', () => {
  it("continue the caller's trace, nest, and put their ids on log lines", async () => {
    const lines: string[] = [];
    const log = createLogger('unit-service', (line) => lines.push(line), 0);
    const headers: Record<string, string> = {};
    const spans = await inRequest(() =>
      inSpan('outer', () =>
        inSpan(
          'inner',
          async () => {
            log.info('inside');
            injectTraceContext(headers);
          },
          { kind: SpanKind.CLIENT, attributes: { 'splitlab.attempt': 1 } },
        ),
      ),
    );
    log.info('outside');

    const server = one(spans, 'POST /work');
    const outer = one(spans, 'outer');
    const inner = one(spans, 'inner');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe(TRACE_ID);
    expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
    expect(server.resource.attributes['service.name']).toBe('unit-service');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/work',
      'http.response.status_code': 201,
    });
    expect(outer.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(inner.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(inner.kind).toBe(SpanKind.CLIENT);
    expect(inner.attributes['splitlab.attempt']).toBe(1);
    expect(headers['traceparent']).toBe(`00-${TRACE_ID}-${inner.spanContext().spanId}-01`);

    const [inside, outside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(inside).toMatchObject({
      event: 'inside',
      trace_id: TRACE_ID,
      span_id: inner.spanContext().spanId,
    });
    expect(outside).not.toHaveProperty('trace_id');
    expect(outside).not.toHaveProperty('span_id');
  });

  it("record a rejection as ERROR with the failure's cause and pass it on", async () => {
    let seen: unknown;
    const spans = await inRequest(async () => {
      try {
        await inSpan('db transaction', async () => {
          throw new DatabaseUnavailableError('connect ECONNREFUSED');
        });
      } catch (error) {
        seen = error;
      }
    });
    expect(seen).toBeInstanceOf(DatabaseUnavailableError);
    expect(one(spans, 'db transaction').status).toEqual({ code: SpanStatusCode.ERROR, message: 'database' });
  });

  it('mark a server span failed on a 5xx with the cause of its body', () => {
    const traced = startServerSpan('unit-service', 'POST', '/checkout', {});
    if (!traced) throw new Error('unit-service is not traced');
    endServerSpan(traced.span, 504, { error: 'late', cause: 'deadline' }, false);
    const [server] = exporter.getFinishedSpans();
    expect(server?.parentSpanContext).toBeUndefined();
    expect(server?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'deadline' });
    expect(server?.attributes['http.response.status_code']).toBe(504);
  });
});

describe('the payment policy inside a traced request', () => {
  const quick = { backoff: { initialDelayMs: 1, maxDelayMs: 5 }, deadlineMs: 2_000 };

  it('makes one `charge payment` span with a `retry` event per retry, attempts counted', async () => {
    const policy = createPaymentPolicy('retry', { ...quick, retries: 2, attemptTimeoutMs: 500 });
    const spans = await inRequest(() =>
      policy.execute(async () => {
        throw new UpstreamStatusError(503, '{"cause":"database"}');
      }, {}),
    );
    const charge = one(spans, 'charge payment');
    expect(charge.status).toEqual({ code: SpanStatusCode.ERROR, message: 'upstream_status' });
    expect(charge.attributes).toMatchObject({ 'splitlab.policy': 'retry', 'splitlab.attempts': 3 });
    const retries = charge.events.filter((event) => event.name === 'retry');
    expect(retries.map((event) => event.attributes?.['attempt'])).toEqual([2, 3]);
    for (const event of retries) expect(event.attributes?.['delay_ms']).toBeGreaterThanOrEqual(0);
  });

  it('records each attempt that its own timeout cut as a `timeout` event', async () => {
    const policy = createPaymentPolicy('retry', { ...quick, retries: 1, attemptTimeoutMs: 30 });
    const spans = await inRequest(() =>
      policy.execute(
        ({ signal }) =>
          new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
        {},
      ),
    );
    const charge = one(spans, 'charge payment');
    const timeouts = charge.events.filter((event) => event.name === 'timeout');
    expect(timeouts.map((event) => event.attributes)).toEqual([
      { scope: 'attempt', attempt: 1, timeout_ms: 30 },
      { scope: 'attempt', attempt: 2, timeout_ms: 30 },
    ]);
    expect(charge.status).toEqual({ code: SpanStatusCode.ERROR, message: 'deadline' });
  });

  it("records the call's own deadline once, not once per layer", async () => {
    const policy = createPaymentPolicy('timeout', { deadlineMs: 30 });
    const spans = await inRequest(() => policy.execute(() => new Promise(() => undefined), {}));
    const charge = one(spans, 'charge payment');
    // timeout_ms is the budget left when the call started: 30 ms less what passed before it.
    expect(charge.events.map((event) => [event.name, event.attributes])).toEqual([
      ['timeout', { scope: 'call', timeout_ms: expect.toSatisfy((ms: number) => ms > 20 && ms <= 30) }],
    ]);
  });

  it("runs a call the bulkhead queued in its own request's trace, not in the trace of the call that freed the slot", async () => {
    const policy = createPaymentPolicy('bulkhead', { ...quick, bulkheadLimit: 1, bulkheadQueue: 1 });
    let releaseFirst: () => void = () => undefined;
    const seenTraceIds: (string | undefined)[] = [];
    const request = (traceId: string, attempt: () => Promise<void>) => {
      const traced = startServerSpan('unit-service', 'POST', '/work', {
        traceparent: `00-${traceId}-${CALLER_SPAN_ID}-01`,
      });
      if (!traced) throw new Error('unit-service is not traced');
      return context.with(traced.context, () =>
        policy.execute(async () => {
          seenTraceIds.push(activeTraceIds()?.trace_id);
          await attempt();
        }, {}),
      );
    };
    const first = request('1'.repeat(32), () => new Promise<void>((resolve) => (releaseFirst = resolve)));
    await expect.poll(() => seenTraceIds.length).toBe(1);
    const queued = request('2'.repeat(32), async () => undefined);
    releaseFirst();
    await Promise.all([first, queued]);
    expect(seenTraceIds).toEqual(['1'.repeat(32), '2'.repeat(32)]);
    const charges = named(exporter.getFinishedSpans(), 'charge payment');
    expect(charges.map((span) => span.spanContext().traceId).sort()).toEqual([
      '1'.repeat(32),
      '2'.repeat(32),
    ]);
  });

  it('records the call that opened the circuit and the call it refused', async () => {
    const policy = createPaymentPolicy('breaker', { ...quick, retries: 0, breakerThreshold: 1 });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const spans = await inRequest(async () => {
      await policy.execute(() => Promise.reject(refused), {}).catch(() => undefined);
      await policy.execute(() => Promise.reject(refused), {}).catch(() => undefined);
    });
    const [opening, rejected] = named(spans, 'charge payment');
    expect(opening?.events.map((event) => event.name)).toContain('circuit opened');
    expect(opening?.status.message).toBe('refused');
    expect(rejected?.events.map((event) => event.name)).toEqual(['circuit open']);
    expect(rejected?.status.message).toBe('circuit_open');
    expect(rejected?.attributes['splitlab.attempts']).toBe(0);
  });
});
