import { afterEach, describe, expect, it } from 'vitest';
import { createServiceMetrics, type ServiceMetrics } from '../../services/metrics/service-metrics.ts';

describe('service metrics', () => {
  let metrics: ServiceMetrics | undefined;
  afterEach(() => metrics?.stop());

  it('counts requests by answer and keeps in-flight gauges', () => {
    metrics = createServiceMetrics('signup-service', 10);
    metrics.requestStarted();
    metrics.requestStarted();
    metrics.requestStarted();
    metrics.callStarted();
    metrics.callStarted();
    expect(metrics.scrape()).toMatchObject({ requestsInFlight: 3, outboundInFlight: 2 });

    metrics.callFinished();
    metrics.callFinished({ cause: 'refused', detail: 'ECONNREFUSED' });
    metrics.requestFinished(201);
    metrics.requestFinished(502);
    metrics.requestFinished(undefined);
    const snapshot = metrics.scrape();
    expect(snapshot).toMatchObject({
      service: 'signup-service',
      requestsInFlight: 0,
      outboundInFlight: 0,
      counters: {
        requests: 3,
        responsesByStatus: { '201': 1, '502': 1 },
        requestsAborted: 1,
        outboundCalls: 2,
        outboundFailuresByCause: { refused: 1 },
        outboundAttempts: 0,
        outboundRetries: 0,
        breakerOpened: 0,
        bulkheadRejections: 0,
      },
    });
    expect(Object.keys(snapshot.eventLoopDelayMs)).toEqual(['p50', 'p90', 'p99', 'max']);
    // A service that calls no one does not claim a policy.
    expect(snapshot).not.toHaveProperty('policy');
    expect(snapshot).not.toHaveProperty('circuitState');
  });

  it('counts attempts, retries and the policy decisions next to the logical calls', () => {
    metrics = createServiceMetrics('signup-service', 10);
    metrics.callStarted();
    metrics.attemptStarted();
    metrics.retried();
    metrics.attemptStarted();
    metrics.retried();
    metrics.attemptStarted();
    metrics.callFinished({ cause: 'refused', detail: 'ECONNREFUSED' });
    metrics.breakerOpened();
    metrics.breakerHalfOpened();
    metrics.breakerClosed();
    metrics.bulkheadRejected();
    const snapshot = metrics.scrape({ policy: 'bulkhead', idempotency: 'on', circuitState: 'closed' });
    expect(snapshot).toMatchObject({
      policy: 'bulkhead',
      idempotency: 'on',
      circuitState: 'closed',
      counters: {
        outboundCalls: 1,
        outboundAttempts: 3,
        outboundRetries: 2,
        breakerOpened: 1,
        breakerHalfOpened: 1,
        breakerClosed: 1,
        bulkheadRejections: 1,
      },
    });
  });

  it('reports event-loop delay per scrape interval, not since start', async () => {
    metrics = createServiceMetrics('monolith', 10);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const busyUntil = performance.now() + 120;
    while (performance.now() < busyUntil) {
      // Block the loop the way a synchronous hash would.
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const blocked = metrics.scrape().eventLoopDelayMs;
    expect(blocked.max).toBeGreaterThan(80);

    await new Promise((resolve) => setTimeout(resolve, 60));
    const calm = metrics.scrape().eventLoopDelayMs;
    expect(calm.max).toBeLessThan(blocked.max);
  });
});
