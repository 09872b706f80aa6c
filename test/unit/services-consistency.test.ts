import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorReply } from '../../services/http/error-reply.ts';
import { createRecountedGauge } from '../../services/metrics/recounted-gauge.ts';
import { chargeOutcomeForFailure, chargeOutcomeOf } from '../../services/payment/charge-outcome.ts';
import { UpstreamError, type UpstreamCause } from '../../services/payment/upstream-failure.ts';
import { ConfigError } from '../../services/runtime/config.ts';
import { SERVICE_DEFAULTS } from '../../services/runtime/service-defaults.ts';
import { createLogger } from '../../services/runtime/log.ts';
import { startPeriodicTask } from '../../services/runtime/periodic-task.ts';
import { createCheckoutsInFlight } from '../../services/signup/checkouts-in-flight.ts';
import { SagaCheckoutFailedError } from '../../services/signup/saga-checkout.ts';
import { signupServiceConfigFromEnv } from '../../services/signup-service.ts';

describe('what a failed charge says about the ledger', () => {
  it.each<[UpstreamCause, number | undefined, 'not_charged' | 'unknown']>([
    ['refused', undefined, 'not_charged'],
    ['dns', undefined, 'not_charged'],
    ['circuit_open', undefined, 'not_charged'],
    ['bulkhead_full', undefined, 'not_charged'],
    ['upstream_status', 422, 'not_charged'],
    ['upstream_status', 503, 'not_charged'],
    ['deadline', undefined, 'unknown'],
    ['reset', undefined, 'unknown'],
    ['unknown', undefined, 'unknown'],
  ])('%s %s -> %s', (cause, status, outcome) => {
    expect(chargeOutcomeForFailure({ cause, detail: '', ...(status ? { status } : {}) })).toBe(outcome);
  });

  const failed = (cause: UpstreamCause, attemptsInDoubt?: number): UpstreamError =>
    new UpstreamError('payment-service', { cause, detail: '' }, { attemptsInDoubt });

  it('lets the counted attempts decide when the gateway counted them', () => {
    // A retry refused after an attempt that timed out: that attempt may have committed.
    expect(chargeOutcomeOf(failed('refused', 1))).toBe('unknown');
    // Out of time in a bulkhead queue, or in a backoff after refusals: nothing was ever in doubt.
    expect(chargeOutcomeOf(failed('deadline', 0))).toBe('not_charged');
    expect(chargeOutcomeOf(failed('refused', 0))).toBe('not_charged');
  });

  it('falls back to the cause without a count, and classifies raw errors', () => {
    expect(chargeOutcomeOf(failed('refused'))).toBe('not_charged');
    expect(chargeOutcomeOf(failed('reset'))).toBe('unknown');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(chargeOutcomeOf(refused)).toBe('not_charged');
    expect(chargeOutcomeOf(new Error('something odd'))).toBe('unknown');
  });
});

describe("what the saga's client is told", () => {
  const log = createLogger('test', () => undefined);
  const sagaFailure = (cause: UpstreamCause, outcome: 'not_charged' | 'unknown', compensated: boolean) =>
    errorReply(
      new SagaCheckoutFailedError('u-1', new UpstreamError('payment-service', { cause, detail: 'd' }), {
        outcome,
        compensated,
      }),
      log,
    );

  it('answers the charge failure as without a saga, plus what became of the user', () => {
    expect(sagaFailure('refused', 'not_charged', true)).toEqual({
      status: 502,
      body: {
        error: expect.any(String),
        cause: 'refused',
        detail: 'd',
        userId: 'u-1',
        outcome: 'not_charged',
        compensated: true,
      },
    });
    expect(sagaFailure('circuit_open', 'not_charged', true)).toMatchObject({
      status: 503,
      body: { cause: 'circuit_open', compensated: true },
    });
    expect(sagaFailure('deadline', 'unknown', false)).toMatchObject({
      status: 504,
      body: { cause: 'deadline', outcome: 'unknown', compensated: false, userId: 'u-1' },
    });
    expect(sagaFailure('reset', 'unknown', false)).toMatchObject({
      status: 502,
      body: { cause: 'reset', outcome: 'unknown' },
    });
  });
});

describe('CHECKOUT_CONSISTENCY and its loops from the environment', () => {
  const env = {
    DATABASE_URL: 'postgres://u:p@db:5432/signup',
    PAYMENT_URL: 'http://payment-service:41234',
  };

  it("leaves them unset by default, so SERVICE_DEFAULTS apply: today's behaviour", () => {
    expect(signupServiceConfigFromEnv(env)).toMatchObject({
      checkoutConsistency: undefined,
      sagaReconcileIntervalMs: undefined,
      outboxRelayIntervalMs: undefined,
    });
    expect(SERVICE_DEFAULTS).toMatchObject({
      checkoutConsistency: 'none',
      sagaReconcileIntervalMs: 1_000,
      outboxRelayIntervalMs: 200,
      consistencyBatchSize: 50,
    });
  });

  it.each(['none', 'saga', 'outbox'])('reads CHECKOUT_CONSISTENCY=%s', (strategy) => {
    expect(signupServiceConfigFromEnv({ ...env, CHECKOUT_CONSISTENCY: strategy }).checkoutConsistency).toBe(
      strategy,
    );
  });

  it('reads the intervals', () => {
    const config = signupServiceConfigFromEnv({
      ...env,
      SAGA_RECONCILE_INTERVAL_MS: '250',
      OUTBOX_RELAY_INTERVAL_MS: '50',
    });
    expect(config).toMatchObject({ sagaReconcileIntervalMs: 250, outboxRelayIntervalMs: 50 });
  });

  it.each([
    [
      'CHECKOUT_CONSISTENCY',
      'eventual',
      /CHECKOUT_CONSISTENCY must be one of none, saga, outbox, got "eventual"/,
    ],
    ['CHECKOUT_CONSISTENCY', 'Saga', /CHECKOUT_CONSISTENCY must be one of/],
    ['SAGA_RECONCILE_INTERVAL_MS', '0', /SAGA_RECONCILE_INTERVAL_MS must be an integer between 10 and/],
    ['SAGA_RECONCILE_INTERVAL_MS', '1s', /SAGA_RECONCILE_INTERVAL_MS must be an integer/],
    ['OUTBOX_RELAY_INTERVAL_MS', '-200', /OUTBOX_RELAY_INTERVAL_MS must be an integer between 10 and/],
  ])('refuses %s=%s with a ConfigError naming the variable', (name, value, message) => {
    const read = (): unknown => signupServiceConfigFromEnv({ ...env, [name]: value });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(message);
  });
});

describe('a gauge recounted from the database', () => {
  it('follows additions and removals between recounts', async () => {
    const gauge = createRecountedGauge();
    gauge.added();
    gauge.added(2);
    gauge.removed();
    expect(gauge.value()).toBe(2);
    gauge.removed(5);
    expect(gauge.value()).toBe(0);
    await gauge.recount(async () => 4);
    expect(gauge.value()).toBe(4);
  });

  it('never reads low when rows are added or removed while it counts', async () => {
    const gauge = createRecountedGauge();
    gauge.added(3);
    let finishCount: (rows: number) => void = () => undefined;
    const recount = gauge.recount(() => new Promise<number>((resolve) => (finishCount = resolve)));
    // One row committed after the COUNT's snapshot, one removal the COUNT already saw.
    gauge.added();
    gauge.removed();
    finishCount(2);
    await recount;
    expect(gauge.value()).toBe(3); // 2 counted + 1 added meanwhile; the removal waits for the next recount
    await gauge.recount(async () => 3);
    expect(gauge.value()).toBe(3);
  });
});

describe('checkouts in flight', () => {
  it('holds a checkout while its charge runs and for the grace after an unknown outcome', () => {
    let now = 1_000;
    const inFlight = createCheckoutsInFlight(() => now);
    inFlight.started('a');
    inFlight.started('b');
    inFlight.started('c');
    inFlight.finished('a', 0);
    inFlight.finished('b', 500);
    expect(inFlight.held().sort()).toEqual(['b', 'c']);
    now += 499;
    expect(inFlight.held().sort()).toEqual(['b', 'c']);
    now += 1;
    expect(inFlight.held()).toEqual(['c']);
  });
});

describe('a periodic task', () => {
  const lines: string[] = [];
  const log = createLogger('test', (line) => lines.push(line), 0);
  afterEach(() => {
    vi.useRealTimers();
    lines.length = 0;
  });

  it('runs at once, waits the interval between rounds, and goes on at once after a full round', async () => {
    vi.useFakeTimers();
    const answers = [true, false, false];
    let rounds = 0;
    const task = startPeriodicTask({
      name: 'test_loop',
      intervalMs: 100,
      log,
      run: async () => answers[rounds++] ?? false,
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds).toBe(1);
    // The first round said more work was waiting: the next one follows at once (a timer of 0, 1 ms).
    await vi.advanceTimersByTimeAsync(1);
    expect(rounds).toBe(2);
    await vi.advanceTimersByTimeAsync(98);
    expect(rounds).toBe(2);
    await vi.advanceTimersByTimeAsync(2);
    expect(rounds).toBe(3);
    await task.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rounds).toBe(3);
  });

  it('logs a failed round and carries on', async () => {
    vi.useFakeTimers();
    let rounds = 0;
    const task = startPeriodicTask({
      name: 'test_loop',
      intervalMs: 100,
      log,
      run: async () => {
        rounds += 1;
        if (rounds === 1) throw new Error('database unavailable');
      },
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(rounds).toBe(2);
    expect(lines.join('')).toMatch(/"event":"test_loop_failed".*database unavailable/);
    await task.stop();
  });

  it('aborts the round in progress on stop and waits for it, at most the grace', async () => {
    vi.useFakeTimers();
    let aborted = false;
    const task = startPeriodicTask({
      name: 'test_loop',
      intervalMs: 100,
      log,
      stopGraceMs: 500,
      run: (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            setTimeout(resolve, 50);
          });
        }),
    });
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    expect(aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(49);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(vi.getTimerCount()).toBe(0);
    // Safe twice.
    await task.stop();
    // No failure is logged for a round ended by the stop itself.
    expect(lines).toEqual([]);
  });
});
