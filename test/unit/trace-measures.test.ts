/**
 * Figures read from whole traces: the share of the entry server span spent calling payment-service
 * (overlaps counted once), services touched, whether payment-service answered, charge attempts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  entryServerSpan,
  groupByTrace,
  measureTrace,
  unionLength,
} from '../../lab/tracing/trace-measures.ts';
import type { SpanRecord } from '../../lab/tracing/trace-schema.ts';

const TRACE = '5b8efff798038103d269b633813fc60c';
let nextId = 0;

function span(
  fields: Partial<SpanRecord> & Pick<SpanRecord, 'name' | 'kind' | 'startMs' | 'durationMs'>,
): SpanRecord {
  nextId += 1;
  return {
    traceId: TRACE,
    spanId: nextId.toString(16).padStart(16, '0'),
    service: 'signup-service',
    status: 'unset',
    attributes: {},
    events: [],
    ...fields,
  };
}

/** A split checkout: the server span 0..100 ms, two charge attempts inside it, each answered by payment-service. */
function splitCheckout(attempts: { startMs: number; durationMs: number; answered: boolean }[]): SpanRecord[] {
  const server = span({
    name: 'POST /checkout',
    kind: 'server',
    startMs: 0,
    durationMs: 100,
    parentSpanId: 'ffffffffffffffff',
  });
  const call = span({
    name: 'charge payment',
    kind: 'internal',
    startMs: 5,
    durationMs: 90,
    parentSpanId: server.spanId,
  });
  const spans = [server, call];
  attempts.forEach((attempt, index) => {
    const client = span({
      name: 'POST /charge',
      kind: 'client',
      parentSpanId: call.spanId,
      attributes: { 'splitlab.attempt': index + 1, 'url.full': 'http://payment-service:8670/charge' },
      startMs: attempt.startMs,
      durationMs: attempt.durationMs,
    });
    spans.push(client);
    if (attempt.answered) {
      spans.push(
        span({
          name: 'POST /charge',
          kind: 'server',
          service: 'payment-service',
          parentSpanId: client.spanId,
          startMs: attempt.startMs + 1,
          durationMs: attempt.durationMs - 2,
        }),
      );
    }
  });
  return spans;
}

describe('measureTrace', () => {
  it('measures a split checkout with a retry', () => {
    const measures = measureTrace(
      splitCheckout([
        { startMs: 10, durationMs: 20, answered: false },
        { startMs: 40, durationMs: 30, answered: true },
      ]),
    );
    expect(measures).toEqual({ services: 2, attempts: 2, calleeSaw: true, outboundShare: 0.5 });
  });

  it('counts overlapping attempts once, and only within the server span', () => {
    const measures = measureTrace(
      splitCheckout([
        { startMs: 10, durationMs: 30, answered: true },
        { startMs: 20, durationMs: 30, answered: true },
        // Outlives the server span (the client left): only 90..100 counts.
        { startMs: 90, durationMs: 50, answered: false },
      ]),
    );
    expect(measures?.outboundShare).toBeCloseTo(0.5, 9);
    expect(measures?.attempts).toBe(3);
  });

  it('a monolith checkout spends nothing on payment calls and touches one service', () => {
    const server = span({
      name: 'POST /checkout',
      kind: 'server',
      service: 'monolith',
      startMs: 0,
      durationMs: 30,
    });
    const spans = [
      server,
      span({
        name: 'db transaction',
        kind: 'internal',
        service: 'monolith',
        parentSpanId: server.spanId,
        startMs: 1,
        durationMs: 20,
      }),
    ];
    expect(measureTrace(spans)).toEqual({ services: 1, attempts: 0, calleeSaw: false, outboundShare: null });
  });

  it('a call recognised by its payment-service child counts, though not named /charge', () => {
    const spans = splitCheckout([{ startMs: 10, durationMs: 40, answered: true }]);
    const client = spans.find((s) => s.kind === 'client');
    if (client) {
      client.name = 'POST';
      client.attributes = {};
    }
    expect(measureTrace(spans)).toEqual({ services: 2, attempts: 1, calleeSaw: true, outboundShare: 0.4 });
  });

  it('an attempt that never reached payment-service counts, but payment-service did not see it', () => {
    const measures = measureTrace(splitCheckout([{ startMs: 10, durationMs: 90, answered: false }]));
    expect(measures).toEqual({ services: 1, attempts: 1, calleeSaw: false, outboundShare: 0.9 });
  });

  it('a request straight to payment-service sees the callee without calling out', () => {
    const server = span({
      name: 'POST /charge',
      kind: 'server',
      service: 'payment-service',
      startMs: 0,
      durationMs: 4,
    });
    expect(measureTrace([server])).toEqual({
      services: 1,
      attempts: 0,
      calleeSaw: true,
      outboundShare: null,
    });
  });

  it('is undefined for a trace with no spans, and has no share without its entry server span', () => {
    expect(measureTrace([])).toBeUndefined();
    const orphan = span({ name: 'POST /charge', kind: 'client', startMs: 0, durationMs: 5 });
    expect(measureTrace([orphan])).toEqual({
      services: 1,
      attempts: 1,
      calleeSaw: false,
      outboundShare: null,
    });
  });

  it('a zero-length server span has share 0, not a division by zero', () => {
    const server = span({ name: 'POST /checkout', kind: 'server', startMs: 0, durationMs: 0 });
    const client = span({
      name: 'POST /charge',
      kind: 'client',
      parentSpanId: server.spanId,
      startMs: 0,
      durationMs: 0,
    });
    expect(measureTrace([server, client])?.outboundShare).toBe(0);
  });
});

describe('entryServerSpan', () => {
  it("is the server span whose parent is not in the trace, not payment-service's", () => {
    const spans = splitCheckout([{ startMs: 10, durationMs: 20, answered: true }]);
    expect(entryServerSpan(spans)?.name).toBe('POST /checkout');
    expect(entryServerSpan(spans.filter((s) => s.service === 'payment-service'))?.service).toBe(
      'payment-service',
    );
  });
});

describe('groupByTrace', () => {
  it('groups spans by trace id in arrival order', () => {
    const a = span({ name: 'a', kind: 'server', startMs: 0, durationMs: 1 });
    const b = span({
      name: 'b',
      kind: 'server',
      startMs: 0,
      durationMs: 1,
      traceId: '0af7651916cd43dd8448eb211c80319c',
    });
    const c = span({ name: 'c', kind: 'internal', startMs: 0, durationMs: 1 });
    expect([...groupByTrace([a, b, c]).values()].map((trace) => trace.map((s) => s.name))).toEqual([
      ['a', 'c'],
      ['b'],
    ]);
  });
});

describe('unionLength', () => {
  const intervals = fc.array(
    fc
      .tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 50 }))
      .map(([from, length]) => [from, from + length] as const),
    { maxLength: 12 },
  );

  it('equals the count of covered unit cells (integer intervals)', () => {
    fc.assert(
      fc.property(intervals, (list) => {
        const covered = new Set<number>();
        for (const [from, to] of list) for (let cell = from; cell < to; cell++) covered.add(cell);
        expect(unionLength(list)).toBe(covered.size);
      }),
    );
  });

  it('is at most the sum and at least the longest interval', () => {
    fc.assert(
      fc.property(intervals, (list) => {
        const lengths = list.map(([from, to]) => to - from);
        const union = unionLength(list);
        expect(union).toBeLessThanOrEqual(lengths.reduce((sum, length) => sum + length, 0));
        expect(union).toBeGreaterThanOrEqual(Math.max(0, ...lengths));
      }),
    );
  });
});
