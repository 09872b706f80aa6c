/**
 * The exemplar choice, by its properties over generated outcomes: what is chosen belongs to its group and
 * kind, the median and slowest are what they claim, one failure per cause closest to the cause's median,
 * and the input's order does not matter.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chooseExemplars,
  pickExemplarRequests,
  UNKNOWN_CAUSE,
  type ExemplarCandidate,
} from '../../lab/tracing/choose-exemplars.ts';
import type { LogLine, SpanRecord } from '../../lab/tracing/trace-schema.ts';
import { traceExemplarSchema } from '../../lab/tracing/trace-schema.ts';

const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/);

/** Outcomes with unique trace ids, few routes, phases and causes (so groups have several members). */
const outcomes = fc.uniqueArray(
  fc.record({
    route: fc.constantFrom('signup', 'checkout'),
    phase: fc.constantFrom('baseline', 'fault', 'recovery'),
    traceId: hex32,
    sentAtMs: fc.integer({ min: 1_764_540_000_000, max: 1_764_540_060_000 }),
    // Small integers: ties of latency are common, and must be broken the same way every time.
    latencyMs: fc.integer({ min: 1, max: 40 }),
    ok: fc.boolean(),
    cause: fc.constantFrom('deadline', 'refused', 'http_503', ''),
    status: fc.option(fc.constantFrom(200, 503), { nil: null }),
  }),
  { selector: (outcome) => outcome.traceId, maxLength: 80 },
);

const keyOf = (request: ExemplarCandidate): string => `${request.route}/${request.phase}`;
const causeOf = (request: ExemplarCandidate): string => (request.cause ? request.cause : UNKNOWN_CAUSE);
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    ((sorted[Math.floor((sorted.length - 1) / 2)] ?? 0) + (sorted[Math.ceil((sorted.length - 1) / 2)] ?? 0)) /
    2
  );
};

describe('pickExemplarRequests', () => {
  it('chooses, per route and phase, requests of that group and of the right outcome', () => {
    fc.assert(
      fc.property(outcomes, (requests) => {
        for (const { kind, request, cause } of pickExemplarRequests(requests)) {
          expect(requests).toContain(request);
          expect(request.ok).toBe(kind !== 'failure');
          if (kind === 'failure') expect(cause).toBe(causeOf(request));
          else expect(cause).toBeUndefined();
        }
      }),
    );
  });

  it('the median success has at most half the successes on either side of it', () => {
    fc.assert(
      fc.property(outcomes, (requests) => {
        for (const { request } of pickExemplarRequests(requests).filter((c) => c.kind === 'median success')) {
          const successes = requests.filter((other) => other.ok && keyOf(other) === keyOf(request));
          const below = successes.filter((other) => other.latencyMs < request.latencyMs).length;
          const above = successes.filter((other) => other.latencyMs > request.latencyMs).length;
          expect(below).toBeLessThanOrEqual(successes.length / 2);
          expect(above).toBeLessThanOrEqual(successes.length / 2);
        }
      }),
    );
  });

  it('the slowest success is the highest latency, and a group of one success shows it once', () => {
    fc.assert(
      fc.property(outcomes, (requests) => {
        const chosen = pickExemplarRequests(requests);
        const groups = new Set(requests.map(keyOf));
        for (const group of groups) {
          const successes = requests.filter((request) => request.ok && keyOf(request) === group);
          const kinds = chosen.filter((c) => keyOf(c.request) === group && c.kind !== 'failure');
          const slowest = kinds.find((c) => c.kind === 'slowest success');
          expect(kinds.filter((c) => c.kind === 'median success')).toHaveLength(successes.length > 0 ? 1 : 0);
          expect(kinds.filter((c) => c.kind === 'slowest success')).toHaveLength(
            successes.length > 1 ? 1 : 0,
          );
          if (slowest) {
            expect(slowest.request.latencyMs).toBe(Math.max(...successes.map((s) => s.latencyMs)));
          }
        }
      }),
    );
  });

  it('one failure per cause, the one closest to that cause’s median latency', () => {
    fc.assert(
      fc.property(outcomes, (requests) => {
        const chosen = pickExemplarRequests(requests).filter((c) => c.kind === 'failure');
        const failures = requests.filter((request) => !request.ok);
        const expected = new Set(failures.map((request) => `${keyOf(request)}/${causeOf(request)}`));
        const got = chosen.map((c) => `${keyOf(c.request)}/${c.cause}`);
        expect(got.length).toBe(expected.size);
        expect(new Set(got)).toEqual(expected);
        for (const { request, cause } of chosen) {
          const sameCause = failures.filter(
            (other) => keyOf(other) === keyOf(request) && causeOf(other) === cause,
          );
          const middle = median(sameCause.map((other) => other.latencyMs));
          const closest = Math.min(...sameCause.map((other) => Math.abs(other.latencyMs - middle)));
          expect(Math.abs(request.latencyMs - middle)).toBe(closest);
        }
      }),
    );
  });

  it('chooses the same requests whatever the order of the outcomes', () => {
    fc.assert(
      fc.property(
        outcomes.chain((requests) =>
          fc.tuple(fc.constant(requests), fc.shuffledSubarray(requests, { minLength: requests.length })),
        ),
        ([requests, shuffled]) => {
          const summarize = (list: ExemplarCandidate[]): string[] =>
            pickExemplarRequests(list)
              .map((c) => `${keyOf(c.request)} ${c.kind} ${c.cause ?? ''} ${c.request.traceId}`)
              .sort();
          expect(summarize(shuffled)).toEqual(summarize(requests));
        },
      ),
    );
  });

  it('picks the lower middle success of an even count, and keeps phases in the order they came', () => {
    const request = (
      traceNumber: number,
      phase: string,
      latencyMs: number,
      ok = true,
    ): ExemplarCandidate => ({
      route: 'checkout',
      phase,
      traceId: traceNumber.toString(16).padStart(32, '0'),
      sentAtMs: 1_000 + traceNumber,
      latencyMs,
      ok,
      ...(ok ? {} : { cause: 'deadline' }),
    });
    const chosen = pickExemplarRequests([
      request(1, 'fault', 40),
      request(2, 'baseline', 10),
      request(3, 'baseline', 30),
      request(4, 'baseline', 20),
      request(5, 'baseline', 99),
      request(6, 'fault', 1000, false),
      request(7, 'fault', 1010, false),
      request(8, 'fault', 5, false), // an outlier: the fault began while it was in flight
    ]);
    expect(chosen.map((c) => [c.request.phase, c.kind, c.request.latencyMs])).toEqual([
      ['fault', 'median success', 40],
      ['fault', 'failure', 1000],
      ['baseline', 'median success', 20],
      ['baseline', 'slowest success', 99],
    ]);
  });
});

describe('chooseExemplars', () => {
  it('joins each chosen request with its spans and log lines into a valid TraceExemplar', () => {
    fc.assert(
      fc.property(outcomes, (requests) => {
        const spanOf = (traceId: string): SpanRecord => ({
          traceId,
          spanId: traceId.slice(0, 16),
          service: 'monolith',
          name: 'POST /checkout',
          kind: 'server',
          startMs: 1,
          durationMs: 2,
          status: 'unset',
          attributes: {},
          events: [],
        });
        const logOf = (traceId: string): LogLine => ({
          service: 'monolith',
          atMs: 1,
          line: { trace_id: traceId },
        });
        const exemplars = chooseExemplars(requests, { trace: (id) => [spanOf(id)] }, (id) => [logOf(id)]);
        expect(exemplars).toHaveLength(pickExemplarRequests(requests).length);
        for (const exemplar of exemplars) {
          expect(traceExemplarSchema.parse(exemplar)).toEqual(exemplar);
          expect(exemplar.spans).toEqual([spanOf(exemplar.traceId)]);
          expect(exemplar.logs).toEqual([logOf(exemplar.traceId)]);
          const request = requests.find((r) => r.traceId === exemplar.traceId);
          expect(exemplar.status).toBe(request?.status ?? undefined);
        }
      }),
    );
  });
});
