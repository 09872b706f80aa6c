import { describe, expect, it } from 'vitest';
import { closedOutcome, errorBound } from '../../lab/load/closed-load.ts';
import { parseClaimMetric } from '../../lab/vocabulary/claim-metrics.ts';
import { plannedStream, routeStreams, streamLoadModel } from '../../lab/scenario/plan-deployment.ts';

describe('errorBound', () => {
  it('trips on the first error past the limit within one second of the timeline', () => {
    const bound = errorBound(3);
    expect([3.0, 3.1, 3.2].map((atS) => bound.record(atS))).toEqual([null, null, null]);
    expect(bound.record(3.9)).toBe(4);
  });

  it('counts each second afresh, and from zero after a reset', () => {
    const bound = errorBound(2);
    bound.record(1.1);
    bound.record(1.2);
    expect(bound.record(2.0)).toBeNull();
    bound.record(2.5);
    bound.reset();
    expect(bound.record(2.6)).toBeNull();
  });
});

describe('closedOutcome', () => {
  const request = {
    route: 'pay' as const,
    stream: 3,
    sentAtS: 1.23456,
    prepared: { body: '{}', headers: {}, idempotencyKey: 'pay-x-1' },
    traceId: 'abc',
  };

  it('is marked closed, timed from its send, and keeps what the audit and the traces need', () => {
    expect(closedOutcome(request, { status: 201 }, 12.345)).toEqual({
      route: 'pay',
      dueAtS: 1.235,
      stream: 3,
      sendLagMs: 0,
      latencyMs: 12.3,
      ok: true,
      cause: '',
      status: 201,
      loadModel: 'closed',
      traceId: 'abc',
      idempotencyKey: 'pay-x-1',
    });
  });

  it("takes the service's cause from the body, else the status", () => {
    expect(closedOutcome(request, { status: 503, body: '{"cause":"deadline"}' }, 5).cause).toBe('deadline');
    expect(closedOutcome(request, { status: 500, body: 'oops' }, 5).cause).toBe('http_500');
  });

  it("maps a connection error like the open generator, and keeps the lab's own causes", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(closedOutcome(request, { status: null, error: refused }, 1)).toMatchObject({
      ok: false,
      cause: 'refused',
      status: null,
    });
    expect(closedOutcome(request, { status: null, cause: 'generator_bounded' }, 1).cause).toBe(
      'generator_bounded',
    );
  });
});

describe('closed-model load in scenarios', () => {
  it('plans a closed stream with no open schedule, and reads its model back', () => {
    const stream = plannedStream('pay', { model: 'closed', connections: 8 });
    expect(stream).toEqual({ route: 'pay', ratePerSecond: 0, connections: 8 });
    expect(streamLoadModel(stream)).toEqual({ model: 'closed', connections: 8 });
    expect(streamLoadModel(plannedStream('pay', { ratePerSecond: 5 }))).toEqual({
      model: 'open',
      ratePerSecond: 5,
    });
  });

  it('takes one load or several on a route', () => {
    expect(routeStreams({ ratePerSecond: 2 })).toEqual([{ ratePerSecond: 2 }]);
    expect(routeStreams([{ ratePerSecond: 2 }, { model: 'closed', connections: 2 }])).toHaveLength(2);
  });

  it('parses the closed claim families, with the whole-run scope', () => {
    expect(parseClaimMetric('closed:latencyP99Ms')).toEqual({
      family: 'closed',
      closedField: 'latencyP99Ms',
      wholeRun: false,
    });
    expect(parseClaimMetric('closedOverOpen:latencyP99Ms:wholeRun')).toEqual({
      family: 'closedOverOpen',
      closedField: 'latencyP99Ms',
      wholeRun: true,
    });
    expect(parseClaimMetric('closed:latencyP95Ms')).toMatch(/closed needs one of successRate/);
    expect(parseClaimMetric('closed:requests:always')).toMatch(
      /then optionally :phase \(the default\) or :wholeRun/,
    );
  });
});
