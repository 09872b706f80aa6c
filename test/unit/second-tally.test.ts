import { describe, expect, it } from 'vitest';
import type { RunEvent, SecondTally } from '../../lab/live/run-events.ts';
import { tallySeconds } from '../../lab/live/second-tally.ts';
import type { RequestOutcome } from '../../lab/load/outcome.ts';

const outcome = (route: RequestOutcome['route'], latencyMs: number, cause = ''): RequestOutcome => ({
  route,
  dueAtS: 0,
  stream: 0,
  sendLagMs: 0,
  latencyMs,
  ok: cause === '',
  cause,
  status: cause === '' ? 200 : null,
});

function tallied() {
  const events: RunEvent[] = [];
  const tally = tallySeconds({
    label: 'split',
    routes: ['pay', 'checkout'],
    services: ['payment-service'],
    startedAtMs: performance.now(),
    watcher: { emit: (event) => events.push(event) },
    intervalMs: 60_000,
  });
  const seconds = (): SecondTally[] => events.filter((event) => event.type === 'second');
  return { tally, seconds };
}

describe('tallySeconds', () => {
  it('counts successes and failures by cause per route, with the percentiles of that second', () => {
    const { tally, seconds } = tallied();
    for (let ms = 1; ms <= 100; ms += 1) tally.outcome(outcome('pay', ms));
    tally.outcome(outcome('checkout', 5000, 'deadline'));
    tally.outcome(outcome('checkout', 5001, 'deadline'));
    tally.outcome(outcome('checkout', 0, 'generator_limit'));
    tally.sample('payment-service', {
      t: 1,
      eventLoopDelayP99Ms: 1,
      requestsInFlight: 3,
      outboundInFlight: 0,
      requestsTotal: 10,
      outboundCallsTotal: 0,
      outboundAttemptsTotal: 0,
      bulkheadRejectionsTotal: 0,
      circuitState: null,
    });
    tally.stop();
    const [second] = seconds();
    expect(second?.routes).toEqual([
      { route: 'pay', ok: 100, failures: {}, latencyMs: { p50: 50, p90: 90, p99: 99 } },
      // A request the generator never sent has no latency worth a percentile.
      {
        route: 'checkout',
        ok: 0,
        failures: { deadline: 2, generator_limit: 1 },
        latencyMs: { p50: 5000, p90: 5001, p99: 5001 },
      },
    ]);
    expect(second?.services).toEqual([
      { service: 'payment-service', requestsInFlight: 3, outboundInFlight: 0, circuitState: null },
    ]);
  });

  it('starts each second from zero, says null latency for a second with no answer, and stops once', () => {
    const { tally, seconds } = tallied();
    tally.outcome(outcome('pay', 3));
    tally.stop();
    tally.outcome(outcome('pay', 3));
    tally.stop();
    expect(seconds()).toHaveLength(1);
    expect(seconds()[0]?.routes[1]).toEqual({ route: 'checkout', ok: 0, failures: {}, latencyMs: null });
  });
});
