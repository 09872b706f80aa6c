/**
 * The lab's OTLP receiver against the real OpenTelemetry exporter: spans a BatchSpanProcessor exports
 * arrive decoded, are forwarded as they came to a second receiver, and what is not OTLP/JSON is refused
 * and counted. Everything over real HTTP on loopback.
 */
import { gzipSync } from 'node:zlib';
import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { isPortListening } from '../../lab/runtime/ports.ts';
import { startTraceCollector, type TraceCollector } from '../../lab/tracing/trace-collector.ts';
import { spanRecordSchema } from '../../lab/tracing/trace-schema.ts';

const started: TraceCollector[] = [];
const providers: TracerProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.shutdown()));
  await Promise.all(started.splice(0).map((collector) => collector.stop()));
});

async function collector(options: Parameters<typeof startTraceCollector>[0] = {}): Promise<TraceCollector> {
  const receiver = await startTraceCollector(options);
  started.push(receiver);
  return receiver;
}

/** A service's tracer as the services set theirs up: OTLP/HTTP JSON, batched with a short delay. */
function serviceTracer(endpoint: string, serviceName: string): { tracer: Tracer; provider: TracerProvider } {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }),
        scheduledDelayMillis: 200,
      }),
    ],
  });
  providers.push(provider);
  return { tracer: provider.getTracer('splitlab-test'), provider };
}

/** A checkout as signup-service traces it: server span, a failed charge attempt with its retry event. */
function traceCheckout(tracer: Tracer): string {
  const server = tracer.startSpan('POST /checkout', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'url.path': '/checkout' },
  });
  const inServer = trace.setSpan(context.active(), server);
  const call = tracer.startSpan('charge payment', { kind: SpanKind.INTERNAL }, inServer);
  const attempt = tracer.startSpan(
    'POST /charge',
    { kind: SpanKind.CLIENT, attributes: { 'splitlab.attempt': 1, 'server.port': 8670 } },
    trace.setSpan(inServer, call),
  );
  attempt.setStatus({ code: SpanStatusCode.ERROR, message: 'deadline' });
  attempt.end();
  call.addEvent('retry', { attempt: 2, delay_ms: 12.5 });
  call.end();
  server.setAttribute('http.response.status_code', 503);
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'deadline' });
  server.end();
  return server.spanContext().traceId;
}

/** `count` payment-service server spans, each its own trace, as OTLP/JSON. */
function oneSpanBatch(count: number): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'payment-service' } }] },
        scopeSpans: [
          {
            spans: Array.from({ length: count }, (_, index) => ({
              traceId: (index + 1).toString(16).padStart(32, '0'),
              spanId: (index + 1).toString(16).padStart(16, '0'),
              name: 'POST /charge',
              kind: 2,
              startTimeUnixNano: '1764540000000000000',
              endTimeUnixNano: '1764540000001000000',
            })),
          },
        ],
      },
    ],
  };
}

async function post(url: string, body: string | Uint8Array, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', body, headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('trace collector', () => {
  it('receives what a real OTLP exporter sends, decoded, and forwards it as it came', async () => {
    const jaegerStandIn = await collector();
    const lab = await collector({ forwardTo: [{ name: 'stand-in', endpoint: jaegerStandIn.endpoint }] });
    const { tracer } = serviceTracer(lab.endpoint, 'signup-service');

    const traceIds = [traceCheckout(tracer), traceCheckout(tracer)];
    const endedAt = performance.now();
    // The batch leaves after its 200 ms delay; a cold exporter on a busy machine takes longer.
    while (lab.spans().length < 6 && performance.now() - endedAt < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    console.log(
      `trace collector: spans arrived ${Math.round(performance.now() - endedAt)} ms after they ended`,
    );

    expect(lab.spans()).toHaveLength(6);
    for (const span of lab.spans()) expect(spanRecordSchema.parse(span)).toEqual(span);
    const [server, call, attempt] = lab.trace(traceIds[0] ?? '');
    expect(server).toMatchObject({
      service: 'signup-service',
      name: 'POST /checkout',
      kind: 'server',
      status: 'error',
      statusMessage: 'deadline',
      attributes: {
        'http.request.method': 'POST',
        'url.path': '/checkout',
        'http.response.status_code': 503,
      },
    });
    expect(server?.parentSpanId).toBeUndefined();
    expect(call).toMatchObject({ name: 'charge payment', kind: 'internal', parentSpanId: server?.spanId });
    expect(call?.events).toEqual([
      { name: 'retry', atMs: expect.any(Number), attributes: { attempt: 2, delay_ms: 12.5 } },
    ]);
    expect(attempt).toMatchObject({
      name: 'POST /charge',
      kind: 'client',
      parentSpanId: call?.spanId,
      attributes: { 'splitlab.attempt': 1, 'server.port': 8670 },
    });
    // Times are the spans' own clock (epoch ms), within the test's few seconds.
    expect(Math.abs((server?.startMs ?? 0) - Date.now())).toBeLessThan(10_000);
    expect(lab.trace('0'.repeat(32))).toEqual([]);

    expect(lab.summary()).toEqual({
      spansReceived: 6,
      tracesReceived: 2,
      exportedTo: ['stand-in'],
      forwardFailures: 0,
    });

    await lab.stop(); // waits for the forwards still under way
    expect(jaegerStandIn.spans()).toEqual(lab.spans());
    expect(lab.losses()).toEqual({ malformedBatches: 0, unsupportedBatches: 0, droppedSpans: 0 });
  });

  it('refuses protobuf (415), bodies that are not OTLP/JSON (400), other paths (404), and counts them', async () => {
    const lab = await collector();
    const traces = `${lab.endpoint}/v1/traces`;

    const protobuf = await post(traces, new Uint8Array([10, 0]), {
      'content-type': 'application/x-protobuf',
    });
    expect(protobuf.status).toBe(415);
    expect(protobuf.body.message).toMatch(/JSON only.*OTEL_EXPORTER_OTLP_PROTOCOL=http\/json/);

    const notJson = await post(traces, '{"resourceSpans": [', { 'content-type': 'application/json' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.message).toMatch(/not JSON/);

    const notOtlp = await post(
      traces,
      JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'x' }] }] }] }),
      {
        'content-type': 'application/json; charset=utf-8',
      },
    );
    expect(notOtlp.status).toBe(400);
    expect(notOtlp.body.message).toMatch(/resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId/);

    const elsewhere = await post(`${lab.endpoint}/v1/metrics`, '{}', { 'content-type': 'application/json' });
    expect(elsewhere.status).toBe(404);

    expect(lab.losses()).toEqual({ malformedBatches: 2, unsupportedBatches: 1, droppedSpans: 0 });
    expect(lab.spans()).toEqual([]);
  });

  it('takes gzip bodies, and keeps at most maxSpans, counting the rest as dropped', async () => {
    const lab = await collector({ maxSpans: 3 });
    const body = JSON.stringify(oneSpanBatch(5));
    const answer = await post(`${lab.endpoint}/v1/traces`, gzipSync(body), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ partialSuccess: { rejectedSpans: '2' } });
    expect(lab.spans()).toHaveLength(3);
    expect(lab.summary()).toMatchObject({ spansReceived: 5, tracesReceived: 5 });
    expect(lab.losses().droppedSpans).toBe(2);
  });

  it('counts forward failures without failing the export', async () => {
    const refusing = await collector();
    const refusingEndpoint = refusing.endpoint;
    await refusing.stop();
    const lab = await collector({
      forwardTo: [
        { name: 'gone', endpoint: refusingEndpoint },
        // A receiver that answers 404 to every batch: the lab's own, at a path that is not /v1/traces.
        { name: 'wrong path', endpoint: `${(await collector()).endpoint}/nowhere` },
      ],
    });
    const { tracer, provider } = serviceTracer(lab.endpoint, 'monolith');
    traceCheckout(tracer);
    await provider.forceFlush();
    expect(lab.spans()).toHaveLength(3);
    await lab.stop(); // waits for the forwards
    expect(lab.summary().forwardFailures).toBe(2);
    expect(lab.summary().exportedTo).toEqual(['gone', 'wrong path']);
  });

  it('settle waits for quiet counted from its call, and for a batch that arrives meanwhile', async () => {
    const lab = await collector();
    let from = performance.now();
    await lab.settle({ quietMs: 300, timeoutMs: 3_000 });
    const idleMs = performance.now() - from;

    from = performance.now();
    const settled = lab.settle({ quietMs: 500, timeoutMs: 3_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const postingAtMs = performance.now() - from;
    const answer = await post(`${lab.endpoint}/v1/traces`, JSON.stringify(oneSpanBatch(1)), {
      'content-type': 'application/json',
    });
    const postedAtMs = performance.now() - from;
    await settled;
    const waitedMs = performance.now() - from;
    console.log(
      `trace collector: idle settle ${Math.round(idleMs)} ms; with a batch at ${Math.round(postedAtMs)} ms, ${Math.round(waitedMs)} ms`,
    );
    expect(answer.status).toBe(200);
    expect(idleMs).toBeGreaterThanOrEqual(299);
    expect(idleMs).toBeLessThan(800);
    // 500 ms of quiet after the batch, not after the call.
    expect(waitedMs).toBeGreaterThanOrEqual(postingAtMs + 499);
    expect(waitedMs).toBeLessThan(postedAtMs + 1_000);
    expect(lab.spans()).toHaveLength(1);
  });

  it('settle waits out a steady stream of exports until its timeout', async () => {
    const lab = await collector();
    const { tracer, provider } = serviceTracer(lab.endpoint, 'monolith');
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        traceCheckout(tracer);
        await provider.forceFlush();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const from = performance.now();
    await lab.settle({ quietMs: 400, timeoutMs: 1_500 });
    const waitedMs = performance.now() - from;
    console.log(`trace collector: settle under a steady stream returned after ${Math.round(waitedMs)} ms`);
    streaming = false;
    await stream;
    // An export every ~100 ms never leaves 400 ms of quiet: settle ends at its timeout (timer slack only).
    expect(waitedMs).toBeGreaterThanOrEqual(1_490);
    expect(waitedMs).toBeLessThan(1_800);
  });

  it('frees its port on stop, and stop is safe twice', async () => {
    const lab = await collector();
    const port = Number(new URL(lab.endpoint).port);
    expect(await isPortListening(port)).toBe(true);
    await lab.stop();
    await lab.stop();
    expect(await isPortListening(port)).toBe(false);
  });
});
