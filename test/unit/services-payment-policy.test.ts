import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { idempotencyKeyForAttempt } from '../../services/payment/attempt-idempotency-key.ts';
import {
  createPaymentPolicy,
  type PaymentAttempt,
  type PaymentPolicyObserver,
  type PaymentPolicyOptions,
} from '../../services/payment/payment-policy.ts';
import { classifyUpstreamFailure, UpstreamStatusError } from '../../services/payment/upstream-failure.ts';

// The policies run on fake timers with fake attempts: no network, and time only moves when a test says
// so. cockatiel's timers and its breaker's Date.now() are faked alike, and the policy's deadline clock
// is pointed at the same fake Date.

const clock = (): number => Date.now();

type Counts = Record<keyof PaymentPolicyObserver, number>;

function countingObserver(): PaymentPolicyObserver & { counts: Counts } {
  const counts: Counts = {
    retried: 0,
    breakerOpened: 0,
    breakerHalfOpened: 0,
    breakerClosed: 0,
    bulkheadRejected: 0,
  };
  return {
    counts,
    retried: () => (counts.retried += 1),
    breakerOpened: () => (counts.breakerOpened += 1),
    breakerHalfOpened: () => (counts.breakerHalfOpened += 1),
    breakerClosed: () => (counts.breakerClosed += 1),
    bulkheadRejected: () => (counts.bulkheadRejected += 1),
  };
}

/** A connection refused, the way Node raises it. */
const refused = (): Error =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });

/** Never rejects, so a test can run timers first and look at the outcome after. */
function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** An attempt that stays pending until its signal aborts, like a request into a partition. */
function hang(attempt: PaymentAttempt): Promise<never> {
  return new Promise((_resolve, reject) => {
    attempt.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Long enough that only the option a test is about can end a call. */
const roomy: Partial<PaymentPolicyOptions> = { deadlineMs: 600_000, attemptTimeoutMs: 60_000, clock };

const causeOf = (outcome: { error: unknown } | { value: unknown }): string =>
  'error' in outcome ? classifyUpstreamFailure(outcome.error).cause : 'success';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('retry', () => {
  it('calls at most PAYMENT_RETRIES + 1 times, then gives the last failure', async () => {
    const observer = countingObserver();
    const policy = createPaymentPolicy('retry', { ...roomy, retries: 2 }, observer);
    let calls = 0;
    const outcome = settle(
      policy.execute(async () => {
        calls += 1;
        throw refused();
      }, {}),
    );
    await vi.runAllTimersAsync();
    expect(causeOf(await outcome)).toBe('refused');
    expect(calls).toBe(3);
    expect(observer.counts.retried).toBe(2);
    expect(policy.circuitState()).toBeNull();
  });

  it('waits an exponential backoff with jitter between attempts: within [0, maxDelay], growing on average', async () => {
    const maxDelayMs = 1_000;
    const policy = createPaymentPolicy('retry', {
      ...roomy,
      retries: 4,
      backoff: { initialDelayMs: 100, maxDelayMs },
    });
    const runs = 300;
    const gapsByRetry: number[][] = [[], [], [], []];
    for (let run = 0; run < runs; run += 1) {
      const starts: number[] = [];
      const outcome = settle(
        policy.execute(async () => {
          starts.push(Date.now());
          throw refused();
        }, {}),
      );
      await vi.runAllTimersAsync();
      await outcome;
      expect(starts).toHaveLength(5);
      starts.slice(1).forEach((start, index) => gapsByRetry[index]?.push(start - (starts[index] ?? 0)));
    }
    const all = gapsByRetry.flat();
    expect(Math.min(...all)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...all)).toBeLessThanOrEqual(maxDelayMs);
    const means = gapsByRetry.map((gaps) => gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length);
    for (let index = 1; index < means.length; index += 1) {
      expect(means[index]).toBeGreaterThan(means[index - 1] ?? Infinity);
    }
    // Jitter: the first gap is not one fixed number (fake Date.now() counts whole milliseconds).
    expect(new Set(gapsByRetry[0]).size).toBeGreaterThan(20);
  });

  it('never retries a 4xx: the same request would be refused again', async () => {
    const policy = createPaymentPolicy('retry', roomy);
    let calls = 0;
    const outcome = settle(
      policy.execute(async () => {
        calls += 1;
        throw new UpstreamStatusError(422, '{"error":"Idempotency-Key reused"}');
      }, {}),
    );
    await vi.runAllTimersAsync();
    expect(await outcome).toMatchObject({ error: { status: 422 } });
    expect(calls).toBe(1);
  });

  it.each([
    ['an upstream 503', () => new UpstreamStatusError(503, 'database unavailable')],
    ['a reset', () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a DNS failure', () => Object.assign(new Error('queryA ENOTFOUND x'), { code: 'ENOTFOUND' })],
  ])('retries %s', async (_case, failure) => {
    const policy = createPaymentPolicy('retry', { ...roomy, retries: 2 });
    let calls = 0;
    const outcome = settle(
      policy.execute(async () => {
        calls += 1;
        throw failure();
      }, {}),
    );
    await vi.runAllTimersAsync();
    await outcome;
    expect(calls).toBe(3);
  });

  it('times out each attempt, retries it, and succeeds when an attempt answers in time', async () => {
    const policy = createPaymentPolicy('retry', { deadlineMs: 5_000, attemptTimeoutMs: 1_000, clock });
    const outcome = settle(
      policy.execute(async (attempt) => {
        if (attempt.attempt === 0) return await hang(attempt);
        return 'paid';
      }, {}),
    );
    await vi.runAllTimersAsync();
    expect(await outcome).toEqual({ value: 'paid' });
  });

  it("gives each attempt the smaller of its own timeout and the call's remaining budget", async () => {
    const startedAt = Date.now();
    const policy = createPaymentPolicy('retry', {
      deadlineMs: 2_500,
      attemptTimeoutMs: 1_000,
      retries: 5,
      clock,
    });
    const seen: { start: number; deadline: number | undefined }[] = [];
    const outcome = settle(
      policy.execute((attempt) => {
        seen.push({ start: Date.now(), deadline: attempt.deadline });
        return hang(attempt);
      }, {}),
    );
    await vi.runAllTimersAsync();
    expect(causeOf(await outcome)).toBe('deadline');
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const { start, deadline } of seen) {
      expect(deadline).toBe(Math.min(start + 1_000, startedAt + 2_500));
    }
    // The last attempt started with less than a full attempt's time left: its budget is what remained.
    expect(seen.at(-1)?.deadline).toBe(startedAt + 2_500);
  });

  it('honours an inbound deadline earlier than its own', async () => {
    const policy = createPaymentPolicy('retry', { deadlineMs: 5_000, attemptTimeoutMs: 1_000, clock });
    const deadlines: (number | undefined)[] = [];
    const inbound = Date.now() + 300;
    const outcome = settle(
      policy.execute(
        (attempt) => {
          deadlines.push(attempt.deadline);
          return hang(attempt);
        },
        { deadline: inbound },
      ),
    );
    await vi.runAllTimersAsync();
    expect(causeOf(await outcome)).toBe('deadline');
    expect(deadlines).toEqual([inbound]);
  });

  it('never starts an attempt once the overall deadline has passed', async () => {
    const startedAt = Date.now();
    const policy = createPaymentPolicy('retry', {
      deadlineMs: 1_000,
      attemptTimeoutMs: 1_000,
      retries: 10,
      clock,
    });
    const starts: number[] = [];
    const outcome = settle(
      policy.execute(async () => {
        starts.push(Date.now() - startedAt);
        await sleep(400);
        throw refused();
      }, {}),
    );
    await vi.runAllTimersAsync();
    expect(causeOf(await outcome)).toBe('deadline');
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts.every((start) => start < 1_000)).toBe(true);
  });
});

describe('breaker', () => {
  async function failOnce(policy: ReturnType<typeof createPaymentPolicy>): Promise<string> {
    const outcome = settle(
      policy.execute(async () => {
        throw refused();
      }, {}),
    );
    await vi.runAllTimersAsync();
    return causeOf(await outcome);
  }

  it('opens after the threshold of failed calls, then refuses at once with circuit_open', async () => {
    const observer = countingObserver();
    const policy = createPaymentPolicy(
      'breaker',
      { ...roomy, retries: 2, breakerThreshold: 5, breakerHalfOpenMs: 5_000 },
      observer,
    );
    for (let call = 1; call <= 4; call += 1) {
      expect(await failOnce(policy)).toBe('refused');
      expect(policy.circuitState()).toBe('closed');
    }
    expect(await failOnce(policy)).toBe('refused');
    expect(policy.circuitState()).toBe('open');
    expect(observer.counts).toMatchObject({ breakerOpened: 1, retried: 10 });

    let attempted = false;
    const realStart = vi.getRealSystemTime();
    // No fake time passes: the refusal does not wait for any timer.
    const outcome = await settle(
      policy.execute(async () => {
        attempted = true;
        return 'paid';
      }, {}),
    );
    expect(vi.getRealSystemTime() - realStart).toBeLessThan(5);
    expect(causeOf(outcome)).toBe('circuit_open');
    expect(attempted).toBe(false);
  });

  it('half-opens after halfOpenAfter, on the next call, and closes when that probe succeeds', async () => {
    const observer = countingObserver();
    const policy = createPaymentPolicy(
      'breaker',
      { ...roomy, retries: 0, breakerThreshold: 2, breakerHalfOpenMs: 5_000 },
      observer,
    );
    await failOnce(policy);
    await failOnce(policy);
    expect(policy.circuitState()).toBe('open');

    vi.advanceTimersByTime(4_999);
    expect(causeOf(await settle(policy.execute(async () => 'paid', {})))).toBe('circuit_open');
    vi.advanceTimersByTime(1);
    // cockatiel half-opens only when a call arrives, so the state still reads open here.
    expect(policy.circuitState()).toBe('open');
    expect(observer.counts.breakerHalfOpened).toBe(0);

    let probeState: string | null = null;
    const probe = await settle(
      policy.execute(async () => {
        probeState = policy.circuitState();
        return 'paid';
      }, {}),
    );
    expect(probe).toEqual({ value: 'paid' });
    expect(probeState).toBe('halfOpen');
    expect(policy.circuitState()).toBe('closed');
    expect(observer.counts).toMatchObject({ breakerOpened: 1, breakerHalfOpened: 1, breakerClosed: 1 });
  });

  it('opens again when the half-open probe fails', async () => {
    const observer = countingObserver();
    const policy = createPaymentPolicy(
      'breaker',
      { ...roomy, retries: 0, breakerThreshold: 1, breakerHalfOpenMs: 1_000 },
      observer,
    );
    await failOnce(policy);
    vi.advanceTimersByTime(1_000);
    expect(await failOnce(policy)).toBe('refused');
    expect(policy.circuitState()).toBe('open');
    expect(observer.counts).toMatchObject({ breakerOpened: 2, breakerHalfOpened: 1, breakerClosed: 0 });
  });

  it('does not count a 4xx against the circuit', async () => {
    const policy = createPaymentPolicy('breaker', { ...roomy, retries: 0, breakerThreshold: 1 });
    const outcome = settle(
      policy.execute(async () => {
        throw new UpstreamStatusError(400, 'bad request');
      }, {}),
    );
    await vi.runAllTimersAsync();
    expect(causeOf(await outcome)).toBe('upstream_status');
    expect(policy.circuitState()).toBe('closed');
  });
});

describe('bulkhead', () => {
  it('runs limit calls, queues queue more, and refuses the rest at once with bulkhead_full', async () => {
    const observer = countingObserver();
    const policy = createPaymentPolicy(
      'bulkhead',
      { ...roomy, bulkheadLimit: 2, bulkheadQueue: 1 },
      observer,
    );
    const release: (() => void)[] = [];
    let running = 0;
    let maxRunning = 0;
    const call = (): Promise<{ value: string } | { error: unknown }> =>
      settle(
        policy.execute(async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          await new Promise<void>((resolve) => release.push(resolve));
          running -= 1;
          return 'paid';
        }, {}),
      );
    const accepted = [call(), call(), call()];
    const rejected = await call();
    expect(causeOf(rejected)).toBe('bulkhead_full');
    expect(observer.counts.bulkheadRejected).toBe(1);
    expect(policy.circuitState()).toBe('closed');

    await vi.advanceTimersByTimeAsync(0);
    expect(release).toHaveLength(2); // the third waits in the queue
    release.splice(0).forEach((resolve) => resolve());
    await vi.advanceTimersByTimeAsync(0);
    release.splice(0).forEach((resolve) => resolve());
    expect(await Promise.all(accepted)).toEqual([{ value: 'paid' }, { value: 'paid' }, { value: 'paid' }]);
    expect(maxRunning).toBe(2);
  });
});

describe('none and timeout', () => {
  it('none never times out: a call that takes 30 s still resolves, with no deadline and no signal', async () => {
    const policy = createPaymentPolicy('none', { deadlineMs: 5_000, clock });
    let seen: PaymentAttempt | undefined;
    const outcome = settle(
      policy.execute(
        async (attempt) => {
          seen = attempt;
          await sleep(30_000);
          return 'paid';
        },
        { deadline: Date.now() + 100 },
      ),
    );
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await outcome).toEqual({ value: 'paid' });
    expect(seen).toEqual({ attempt: 0, deadline: undefined, signal: undefined });
    expect(policy.circuitState()).toBeNull();
  });

  it('timeout makes one attempt and gives up at PAYMENT_DEADLINE_MS with cause deadline', async () => {
    const startedAt = Date.now();
    const policy = createPaymentPolicy('timeout', { deadlineMs: 5_000, clock });
    const attempts: PaymentAttempt[] = [];
    const outcome = settle(
      policy.execute(async (attempt) => {
        attempts.push(attempt);
        await sleep(30_000);
        return 'paid';
      }, {}),
    );
    await vi.advanceTimersByTimeAsync(5_000);
    expect(causeOf(await outcome)).toBe('deadline');
    expect(Date.now() - startedAt).toBe(5_000);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]?.deadline).toBe(startedAt + 5_000);
    expect(attempts[0]?.signal?.aborted).toBe(true);
  });

  it('timeout does not retry', async () => {
    const policy = createPaymentPolicy('timeout', { deadlineMs: 5_000, clock });
    let calls = 0;
    const outcome = settle(
      policy.execute(async () => {
        calls += 1;
        throw refused();
      }, {}),
    );
    await vi.runAllTimersAsync();
    expect(causeOf(await outcome)).toBe('refused');
    expect(calls).toBe(1);
  });

  it('refuses to start when the inbound deadline has already passed', async () => {
    const policy = createPaymentPolicy('timeout', { clock });
    let calls = 0;
    const outcome = await settle(
      policy.execute(
        async () => {
          calls += 1;
          return 'paid';
        },
        { deadline: Date.now() },
      ),
    );
    expect(causeOf(outcome)).toBe('deadline');
    expect(calls).toBe(0);
  });
});

describe('idempotency key per attempt', () => {
  async function keysOfThreeAttempts(mode: 'on' | 'off'): Promise<string[]> {
    const policy = createPaymentPolicy('retry', { ...roomy, retries: 2 });
    const keys: string[] = [];
    const outcome = settle(
      policy.execute(async () => {
        keys.push(idempotencyKeyForAttempt(mode, 'checkout-u1'));
        throw refused();
      }, {}),
    );
    await vi.runAllTimersAsync();
    await outcome;
    return keys;
  }

  it('on: every attempt of a call sends the same key', async () => {
    expect(await keysOfThreeAttempts('on')).toEqual(['checkout-u1', 'checkout-u1', 'checkout-u1']);
  });

  it('off: every attempt sends a fresh key', async () => {
    const keys = await keysOfThreeAttempts('off');
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    expect(keys).not.toContain('checkout-u1');
  });
});
