import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type StartedPostgres } from '../../lab/runtime/local/embedded-postgres.ts';
import { findFreePort, isPortListening } from '../../lab/runtime/ports.ts';
import { startHttpServer } from '../../services/http/http-server.ts';
import type { ServiceMetrics } from '../../services/metrics/service-metrics.ts';
import { startMonolith } from '../../services/monolith.ts';
import { startPaymentService } from '../../services/payment-service.ts';
import { createLogger } from '../../services/runtime/log.ts';
import type { StartedService } from '../../services/runtime/start-service.ts';
import { startSignupService, type SignupServiceConfig } from '../../services/signup-service.ts';
import { startTracing, type ServiceTracing } from '../../services/tracing/start-tracing.ts';
import { listen, postJson, readBody } from './support/services.ts';

// The services' spans, end to end: real services in this process on a real PostgreSQL, each traced
// under its own service.name into one in-memory exporter, and one real payment-service process exporting
// OTLP/HTTP JSON to a receiver in this test. A request carries the lab's traceparent, as the load
// generator's does; every span of it must land in that one trace, correctly parented.

const ROOT = path.resolve(import.meta.dirname, '../..');
const stack = new AsyncDisposableStack();
const exporter = new InMemorySpanExporter();
const tracings: ServiceTracing[] = [];
let postgres: StartedPostgres;
let payment: StartedService;
let signupCount = 0;

const checkoutBody = (): Record<string, unknown> => ({
  email: `tracing-${process.pid}-${(signupCount += 1)}@example.com`,
  password: 'password1',
  amountCents: 4200,
});

/** A fresh trace as the lab starts it: its trace id and the id of the lab's own (parent) span. */
function labTrace(): { traceId: string; parentId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

const spansOf = (traceId: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
const serviceOf = (span: ReadableSpan): unknown => span.resource.attributes['service.name'];
const idOf = (span: ReadableSpan | undefined): string | undefined => span?.spanContext().spanId;
const parentOf = (span: ReadableSpan | undefined): string | undefined => span?.parentSpanContext?.spanId;

function only(spans: ReadableSpan[], where: (span: ReadableSpan) => boolean, what: string): ReadableSpan {
  const found = spans.filter(where);
  expect(found, `${what}: ${found.length} found`).toHaveLength(1);
  return found[0] as ReadableSpan;
}

/** Waits until the trace has at least `count` spans: the last ones end as the answer is written. */
async function traceOf(traceId: string, count: number): Promise<ReadableSpan[]> {
  await expect.poll(() => spansOf(traceId).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(count);
  return spansOf(traceId);
}

/** Every span's parent is in the trace, except the server span's, which is the lab's. */
function expectOneTree(spans: ReadableSpan[], labParentId: string): void {
  const ids = new Set(spans.map(idOf));
  for (const span of spans) {
    expect([...ids, labParentId], `parent of ${span.name}`).toContain(parentOf(span));
  }
}

function signupService(overrides: Partial<SignupServiceConfig> = {}): Promise<StartedService> {
  return startSignupService({
    databaseUrl: postgres.urlFor('signup'),
    scryptN: 1024,
    paymentUrl: payment.url,
    ...overrides,
  });
}

beforeAll(async () => {
  for (const serviceName of ['monolith', 'signup-service', 'payment-service', 'log-probe']) {
    tracings.push(
      await startTracing({ serviceName, spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
    );
  }
  postgres = stack.use(await startEmbeddedPostgres(['monolith', 'signup', 'payment']));
  payment = stack.use(await startPaymentService({ databaseUrl: postgres.urlFor('payment') }));
});

afterAll(async () => {
  await stack.disposeAsync();
  await Promise.all(tracings.map((tracing) => tracing.shutdown()));
  expect(await isPortListening(postgres.port)).toBe(false);
});

describe('split checkout', () => {
  it('is one trace: signup server span -> charge payment -> POST /charge client -> payment-service server span', async () => {
    await using signup = await signupService();
    const { traceId, parentId, traceparent } = labTrace();
    const answer = await postJson(`${signup.url}/checkout`, checkoutBody(), { traceparent });
    expect(answer.status).toBe(201);

    // signup: server, scrypt hash, charge payment, client; payment: server, db transaction, record charge.
    const spans = await traceOf(traceId, 7);
    const server = only(
      spans,
      (span) => span.kind === SpanKind.SERVER && serviceOf(span) === 'signup-service',
      'signup-service server span',
    );
    expect(server.name).toBe('POST /checkout');
    expect(parentOf(server)).toBe(parentId);
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/checkout',
      'http.response.status_code': 201,
    });
    expect(server.status.code).toBe(SpanStatusCode.UNSET);

    const scrypt = only(spans, (span) => span.name === 'scrypt hash', 'scrypt hash');
    expect(parentOf(scrypt)).toBe(idOf(server));

    const charge = only(spans, (span) => span.name === 'charge payment', 'charge payment');
    expect(serviceOf(charge)).toBe('signup-service');
    expect(charge.kind).toBe(SpanKind.INTERNAL);
    expect(parentOf(charge)).toBe(idOf(server));
    expect(charge.attributes).toMatchObject({ 'splitlab.policy': 'timeout', 'splitlab.attempts': 1 });

    const client = only(spans, (span) => span.kind === SpanKind.CLIENT, 'client span');
    expect(client.name).toBe('POST /charge');
    expect(parentOf(client)).toBe(idOf(charge));
    expect(client.attributes).toEqual({
      'http.request.method': 'POST',
      'url.full': `${payment.url}/charge`,
      'server.address': '127.0.0.1',
      'server.port': payment.port,
      'http.response.status_code': 201,
      'splitlab.attempt': 1,
    });

    const paymentServer = only(
      spans,
      (span) => span.kind === SpanKind.SERVER && serviceOf(span) === 'payment-service',
      'payment-service server span',
    );
    expect(paymentServer.name).toBe('POST /charge');
    expect(parentOf(paymentServer)).toBe(idOf(client));
    expect(paymentServer.attributes['http.response.status_code']).toBe(201);

    const paymentTransaction = only(
      spans,
      (span) => span.name === 'db transaction' && serviceOf(span) === 'payment-service',
      'payment-service db transaction',
    );
    expect(parentOf(paymentTransaction)).toBe(idOf(paymentServer));
    expect(paymentTransaction.attributes['db.system.name']).toBe('postgresql');
    const record = only(spans, (span) => span.name === 'record charge', 'record charge');
    expect(parentOf(record)).toBe(idOf(paymentTransaction));

    expectOneTree(spans, parentId);
    // The client span lasts the whole remote call: the callee's server span fits inside it.
    expect(spanStartMs(paymentServer)).toBeGreaterThanOrEqual(spanStartMs(client));
    expect(spanEndMs(paymentServer)).toBeLessThanOrEqual(spanEndMs(client));
  });

  it('gives a retry policy one client span per attempt, siblings numbered 1..n, each with its own traceparent', async () => {
    const traceparents: string[] = [];
    const failing = http.createServer((request, response) => {
      traceparents.push(String(request.headers['traceparent']));
      request.resume();
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'database unavailable', cause: 'database' }));
    });
    await using upstream = await listen(failing);
    await using signup = await signupService({
      paymentUrl: upstream.url,
      paymentPolicy: 'retry',
      paymentRetries: 2,
    });
    const { traceId, parentId, traceparent } = labTrace();
    const answer = await postJson(`${signup.url}/checkout`, checkoutBody(), { traceparent });
    expect(answer).toMatchObject({ status: 502, json: { cause: 'upstream_status', status: 503 } });

    const spans = await traceOf(traceId, 6);
    const server = only(spans, (span) => span.kind === SpanKind.SERVER, 'server span');
    expect(server.status).toEqual({ code: SpanStatusCode.ERROR, message: 'upstream_status' });
    expect(server.attributes['http.response.status_code']).toBe(502);

    const charge = only(spans, (span) => span.name === 'charge payment', 'charge payment');
    expect(charge.status).toEqual({ code: SpanStatusCode.ERROR, message: 'upstream_status' });
    expect(charge.attributes).toMatchObject({ 'splitlab.policy': 'retry', 'splitlab.attempts': 3 });
    const retries = charge.events.filter((event) => event.name === 'retry');
    expect(retries.map((event) => event.attributes?.['attempt'])).toEqual([2, 3]);

    const clients = spans
      .filter((span) => span.kind === SpanKind.CLIENT)
      .sort((a, b) => spanStartMs(a) - spanStartMs(b));
    expect(clients.map((span) => span.attributes['splitlab.attempt'])).toEqual([1, 2, 3]);
    for (const client of clients) {
      expect(parentOf(client)).toBe(idOf(charge));
      expect(client.status).toEqual({ code: SpanStatusCode.ERROR, message: 'upstream_status' });
      expect(client.attributes['http.response.status_code']).toBe(503);
    }
    // Each attempt told the callee which span it came from.
    expect(traceparents).toEqual(clients.map((client) => `00-${traceId}-${idOf(client)}-01`));
    expectOneTree(spans, parentId);
  });

  it('records the attempts its timeouts cut as `timeout` events, and the cause on every span', async () => {
    const silent = http.createServer((request) => request.resume()); // reads, never answers
    await using upstream = await listen(silent);
    await using signup = await signupService({
      paymentUrl: upstream.url,
      paymentPolicy: 'retry',
      paymentRetries: 1,
      paymentAttemptTimeoutMs: 200,
      paymentDeadlineMs: 4_000,
    });
    const { traceId, traceparent } = labTrace();
    const answer = await postJson(`${signup.url}/checkout`, checkoutBody(), { traceparent });
    expect(answer).toMatchObject({ status: 504, json: { cause: 'deadline' } });

    const spans = await traceOf(traceId, 5);
    const charge = only(spans, (span) => span.name === 'charge payment', 'charge payment');
    expect(
      charge.events.filter((event) => event.name === 'timeout').map((event) => event.attributes),
    ).toEqual([
      { scope: 'attempt', attempt: 1, timeout_ms: 200 },
      { scope: 'attempt', attempt: 2, timeout_ms: 200 },
    ]);
    await expect.poll(() => spansOf(traceId).filter((span) => span.kind === SpanKind.CLIENT).length).toBe(2);
    for (const client of spansOf(traceId).filter((span) => span.kind === SpanKind.CLIENT)) {
      expect(client.status).toEqual({ code: SpanStatusCode.ERROR, message: 'deadline' });
    }
    const server = only(spans, (span) => span.kind === SpanKind.SERVER, 'server span');
    expect(server.status).toEqual({ code: SpanStatusCode.ERROR, message: 'deadline' });
  });

  it('records the call the open breaker refused as a `circuit open` event without a client span', async () => {
    const closedPort = await findFreePort();
    await using signup = await signupService({
      paymentUrl: `http://127.0.0.1:${closedPort}`,
      paymentPolicy: 'breaker',
      paymentRetries: 0,
      paymentBreakerThreshold: 1,
    });
    const first = labTrace();
    const firstAnswer = await postJson(`${signup.url}/checkout`, checkoutBody(), {
      traceparent: first.traceparent,
    });
    expect(firstAnswer.json['cause']).toBe('refused');
    const second = labTrace();
    const answer = await postJson(`${signup.url}/checkout`, checkoutBody(), {
      traceparent: second.traceparent,
    });
    expect(answer).toMatchObject({ status: 503, json: { cause: 'circuit_open' } });

    const opening = only(await traceOf(first.traceId, 4), (s) => s.name === 'charge payment', 'first call');
    expect(opening.events.map((event) => event.name)).toContain('circuit opened');
    const spans = await traceOf(second.traceId, 3);
    const refused = only(spans, (span) => span.name === 'charge payment', 'refused call');
    expect(refused.events.map((event) => event.name)).toEqual(['circuit open']);
    expect(refused.status).toEqual({ code: SpanStatusCode.ERROR, message: 'circuit_open' });
    expect(spans.filter((span) => span.kind === SpanKind.CLIENT)).toEqual([]);
  });
});

describe('monolith checkout', () => {
  it('is one service: server span, scrypt hash, and the charge inside one db transaction, no client span', async () => {
    await using monolith = await startMonolith({ databaseUrl: postgres.urlFor('monolith'), scryptN: 1024 });
    const { traceId, parentId, traceparent } = labTrace();
    const answer = await postJson(`${monolith.url}/checkout`, checkoutBody(), { traceparent });
    expect(answer.status).toBe(201);

    const spans = await traceOf(traceId, 4);
    expect(new Set(spans.map(serviceOf))).toEqual(new Set(['monolith']));
    expect(spans.filter((span) => span.kind === SpanKind.CLIENT)).toEqual([]);
    expect(spans.filter((span) => span.name === 'charge payment')).toEqual([]);
    const server = only(spans, (span) => span.kind === SpanKind.SERVER, 'server span');
    expect(server.name).toBe('POST /checkout');
    expect(parentOf(server)).toBe(parentId);
    const transaction = only(spans, (span) => span.name === 'db transaction', 'db transaction');
    expect(parentOf(transaction)).toBe(idOf(server));
    expect(transaction.attributes['db.system.name']).toBe('postgresql');
    expect(parentOf(only(spans, (span) => span.name === 'record charge', 'record charge'))).toBe(
      idOf(transaction),
    );
    expect(parentOf(only(spans, (span) => span.name === 'scrypt hash', 'scrypt hash'))).toBe(idOf(server));
    expectOneTree(spans, parentId);
  });

  it('traces neither /healthz nor /metrics', async () => {
    const { traceId, traceparent } = labTrace();
    for (const probe of ['/healthz', '/metrics']) {
      expect((await fetch(`${payment.url}${probe}`, { headers: { traceparent } })).status).toBe(200);
    }
    expect(spansOf(traceId)).toEqual([]);
  });
});

describe('log lines', () => {
  it("written inside a request's span carry its trace_id and span_id; outside, neither", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger(
      'log-probe',
      (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
      0,
    );
    const metrics = { requestStarted: () => undefined, requestFinished: () => undefined };
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      log,
      metrics: metrics as unknown as ServiceMetrics,
      bodyLimitBytes: 1_024,
      unobservedPaths: new Set(),
      routes: [
        {
          method: 'POST',
          path: '/log',
          handler: async () => {
            log.info('handled');
            return { status: 200, body: {} };
          },
        },
        {
          method: 'POST',
          path: '/fail',
          handler: async () => {
            throw new Error('a bug');
          },
        },
      ],
    });
    const url = `http://127.0.0.1:${server.port}`;
    const handled = labTrace();
    const failed = labTrace();
    try {
      expect((await postJson(`${url}/log`, {}, { traceparent: handled.traceparent })).status).toBe(200);
      expect((await postJson(`${url}/fail`, {}, { traceparent: failed.traceparent })).status).toBe(500);
    } finally {
      await server.close(0);
    }
    log.info('outside');

    const handledServer = only(await traceOf(handled.traceId, 1), () => true, 'handled server span');
    const failedServer = only(await traceOf(failed.traceId, 1), () => true, 'failed server span');
    expect(failedServer.status).toEqual({ code: SpanStatusCode.ERROR, message: 'http_500' });
    // The server's own `draining` and `drained` lines at close are outside every request too.
    const drainEvents = new Set(['draining', 'drained']);
    expect(lines.filter((line) => drainEvents.has(String(line['event'])))).toEqual([
      expect.not.objectContaining({ trace_id: expect.anything() }),
      expect.not.objectContaining({ trace_id: expect.anything() }),
    ]);
    expect(lines.filter((line) => !drainEvents.has(String(line['event'])))).toEqual([
      expect.objectContaining({ event: 'handled', trace_id: handled.traceId, span_id: idOf(handledServer) }),
      // The one log line a request's failure writes, through error-reply.ts.
      expect.objectContaining({
        event: 'unexpected_error',
        trace_id: failed.traceId,
        span_id: idOf(failedServer),
      }),
      expect.not.objectContaining({ trace_id: expect.anything() }),
    ]);
  });
});

describe('node services/payment-service.ts with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  interface OtlpRequest {
    readonly path: string | undefined;
    readonly contentType: string | undefined;
    readonly body: OtlpBody;
  }
  interface OtlpSpan {
    traceId: string;
    spanId: string;
    parentSpanId?: string;
    name: string;
    kind: number;
  }
  interface OtlpBody {
    resourceSpans: {
      resource: { attributes: { key: string; value: { stringValue?: string } }[] };
      scopeSpans: { spans: OtlpSpan[] }[];
    }[];
  }

  /** A tiny OTLP/HTTP receiver: keeps every request, answers 200 `{}` as a collector does. */
  async function startReceiver() {
    const received: OtlpRequest[] = [];
    const server = http.createServer((request, response) => {
      void readBody(request).then((text) => {
        received.push({
          path: request.url,
          contentType: request.headers['content-type'],
          body: JSON.parse(text) as OtlpBody,
        });
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{}');
      });
    });
    const listening = await listen(server);
    const spansOfTrace = (traceId: string) =>
      received.flatMap((request) =>
        request.body.resourceSpans.flatMap((resourceSpans) =>
          resourceSpans.scopeSpans.flatMap((scope) =>
            scope.spans
              .filter((span) => span.traceId === traceId)
              .map((span) => ({
                ...span,
                service: resourceSpans.resource.attributes.find((a) => a.key === 'service.name')?.value
                  .stringValue,
              })),
          ),
        ),
      );
    return Object.assign(listening, { received, spansOfTrace });
  }

  async function startPaymentProcess(env: Record<string, string>) {
    const child = spawn(process.execPath, ['services/payment-service.ts'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: postgres.urlFor('payment'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await expect.poll(() => stdout.includes('\n') || child.exitCode !== null, { timeout: 20_000 }).toBe(true);
    const line = JSON.parse(stdout.split('\n')[0] ?? '') as { port: number };
    return {
      url: `http://127.0.0.1:${line.port}`,
      port: line.port,
      stderr: () => stderr,
      stop: async () => {
        child.kill('SIGTERM');
        return await exited;
      },
      async [Symbol.asyncDispose]() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
      },
    };
  }

  const charge = (url: string, traceparent: string) =>
    postJson(
      `${url}/charge`,
      { userId: randomUUID(), amountCents: 100 },
      { traceparent, 'idempotency-key': randomUUID() },
    );

  it('exports its spans as OTLP JSON to <endpoint>/v1/traces soon after the request', async () => {
    await using receiver = await startReceiver();
    await using service = await startPaymentProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    const { traceId, parentId, traceparent } = labTrace();
    const sentAt = performance.now();
    expect((await charge(service.url, traceparent)).status).toBe(201);
    // server span, db transaction, record charge; the batch waits 200 ms at most.
    await expect.poll(() => receiver.spansOfTrace(traceId).length, { timeout: 5_000 }).toBe(3);
    const arrivedAfterMs = performance.now() - sentAt;

    const request = receiver.received.find((r) => r.body.resourceSpans.length > 0);
    expect(request).toMatchObject({ path: '/v1/traces', contentType: 'application/json' });
    const spans = receiver.spansOfTrace(traceId);
    const server = spans.find((span) => span.name === 'POST /charge');
    expect(server).toMatchObject({ kind: 2, parentSpanId: parentId, service: 'payment-service' });
    expect(spans.map((span) => span.name).sort()).toEqual([
      'POST /charge',
      'db transaction',
      'record charge',
    ]);
    // 200 ms batch delay plus export; generous for a busy 2-core machine.
    expect(arrivedAfterMs).toBeLessThan(3_000);
    expect(await service.stop()).toBe(0);
    expect(service.stderr()).not.toContain('trace_export_failed');
  });

  it('flushes the spans still batched when it gets SIGTERM, then exits 0', async () => {
    await using receiver = await startReceiver();
    // A batch delay far longer than the test: only the shutdown flush can deliver these spans.
    await using service = await startPaymentProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    });
    const { traceId, traceparent } = labTrace();
    expect((await charge(service.url, traceparent)).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.spansOfTrace(traceId)).toEqual([]);

    expect(await service.stop()).toBe(0);
    expect(
      receiver
        .spansOfTrace(traceId)
        .map((span) => span.name)
        .sort(),
    ).toEqual(['POST /charge', 'db transaction', 'record charge']);
    expect(await isPortListening(service.port)).toBe(false);
  });
});

function spanStartMs(span: ReadableSpan): number {
  return span.startTime[0] * 1_000 + span.startTime[1] / 1e6;
}

function spanEndMs(span: ReadableSpan): number {
  return span.endTime[0] * 1_000 + span.endTime[1] / 1e6;
}
