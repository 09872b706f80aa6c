import {
  bulkhead,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  noop,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
  type IDefaultPolicyContext,
  type IPolicy,
} from 'cockatiel';
import type { Span } from '@opentelemetry/api';
import { SERVICE_DEFAULTS } from '../runtime/service-defaults.ts';
import {
  DeadlineExceededError,
  earliestDeadline,
  monotonicClock,
  remainingMs,
  type Clock,
} from '../runtime/deadline.ts';
import { addEventToActiveSpan, bindToActiveContext, inSpan, type InSpanOptions } from '../tracing/spans.ts';
import type { CallOptions } from './payment-gateway.ts';
import { classifyUpstreamFailure, isTransientUpstreamFailure } from './upstream-failure.ts';

/**
 * How signup-service calls payment-service, from naive to defensive; each adds one layer to the previous:
 *
 * - `none`: no deadline at all. A call lasts as long as the network lets it, so calls pile up behind a
 *   partition: a resource leak that grows for as long as the partition lasts.
 * - `timeout`: one attempt inside the overall deadline (PAYMENT_DEADLINE_MS).
 * - `retry`: inside the same deadline, attempts with their own timeout, retried with backoff and jitter.
 * - `breaker`: `retry` behind a circuit breaker, so a dead upstream is not hammered and callers fail fast.
 * - `bulkhead`: `breaker` behind a bulkhead, so payment calls cannot take every request this service has.
 */
export type PaymentPolicyName = 'none' | 'timeout' | 'retry' | 'breaker' | 'bulkhead';

export const PAYMENT_POLICY_NAMES: readonly PaymentPolicyName[] = [
  'none',
  'timeout',
  'retry',
  'breaker',
  'bulkhead',
];

/** cockatiel's CircuitState, spelled for JSON. */
export type CircuitStateName = 'closed' | 'open' | 'halfOpen' | 'isolated';

const CIRCUIT_STATE_NAMES: Readonly<Record<CircuitState, CircuitStateName>> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'halfOpen',
  [CircuitState.Isolated]: 'isolated',
};

export interface PaymentPolicyOptions {
  /** Budget for the whole call, every attempt and backoff included. `none` ignores it. */
  readonly deadlineMs: number;
  /** Budget for one attempt under `retry`, `breaker` and `bulkhead`. */
  readonly attemptTimeoutMs: number;
  /** Retries after the first attempt (cockatiel's `maxAttempts`): 2 means at most 3 calls. */
  readonly retries: number;
  readonly backoff: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  /** Consecutive failed calls (each after its retries) that open the circuit. */
  readonly breakerThreshold: number;
  readonly breakerHalfOpenMs: number;
  readonly bulkheadLimit: number;
  readonly bulkheadQueue: number;
  /** Monotonic clock for deadlines; tests pass a fake one. */
  readonly clock?: Clock | undefined;
}

/** Hears what the policies decided, so /metrics can count it. */
export interface PaymentPolicyObserver {
  retried(): void;
  breakerOpened(): void;
  breakerHalfOpened(): void;
  breakerClosed(): void;
  bulkheadRejected(): void;
}

/** What one HTTP attempt needs to know. */
export interface PaymentAttempt {
  /** 0 for the first attempt of a call. */
  readonly attempt: number;
  /**
   * Absolute monotonic deadline of this attempt, the earlier of its own timeout and the call's deadline:
   * the value to send as `X-Deadline-Ms`. `undefined` under `none`, which sends no deadline.
   */
  readonly deadline: number | undefined;
  /** Aborts the attempt when its time or the call's runs out; `undefined` under `none`, which never aborts. */
  readonly signal: AbortSignal | undefined;
}

export interface PaymentPolicy {
  readonly name: PaymentPolicyName;
  /** Runs `attempt` once or more, as the policy decides; `call` carries the inbound deadline and signal. */
  execute<T>(attempt: (context: PaymentAttempt) => Promise<T>, call: CallOptions): Promise<T>;
  /**
   * The breaker's state, or `null` when the policy has none. cockatiel moves Open -> HalfOpen only when
   * the next call arrives, so this reads `open` after `halfOpenAfter` has passed until someone calls.
   */
  circuitState(): CircuitStateName | null;
}

/** What a call needs of the composed cockatiel policies. */
type AttemptRunner = Pick<IPolicy, 'execute'>;

/** The INTERNAL span around one logical payment call, whatever the policy makes of it. */
const CHARGE_SPAN = 'charge payment';

const QUIET: PaymentPolicyObserver = {
  retried: () => undefined,
  breakerOpened: () => undefined,
  breakerHalfOpened: () => undefined,
  breakerClosed: () => undefined,
  bulkheadRejected: () => undefined,
};

/**
 * Builds one of the payment policies (see {@link PaymentPolicyName}) from cockatiel parts. Share one
 * instance per service: the breaker and the bulkhead only work when every call goes through the same one.
 * Unset options fall back to SERVICE_DEFAULTS.
 *
 * @example
 *   const policy = createPaymentPolicy('breaker', { deadlineMs: 5000 }, metrics);
 *   await policy.execute(({ signal, deadline }) => send(request, deadline, signal), { deadline: inbound });
 */
export function createPaymentPolicy(
  name: PaymentPolicyName,
  overrides: Partial<PaymentPolicyOptions> = {},
  observer: PaymentPolicyObserver = QUIET,
): PaymentPolicy {
  const options = { ...defaultOptions(), ...definedOnly(overrides) };
  if (name === 'none') {
    return {
      name,
      // Deliberately nothing: no timer, no signal (not even the client's hang-up), no budget for the callee.
      execute: (attempt) =>
        inSpan(
          CHARGE_SPAN,
          async (span) => {
            span.setAttribute('splitlab.attempts', 1);
            return await attempt({ attempt: 0, deadline: undefined, signal: undefined });
          },
          chargeSpanOptions(name),
        ),
      circuitState: () => null,
    };
  }
  const clock = options.clock ?? monotonicClock;
  const { policy, breaker } = composePolicies(name, options, observer);
  const perAttemptTimeout = name !== 'timeout';
  return {
    name,
    // One `charge payment` span per logical call: its attempts' client spans are siblings under it, and
    // the policy's decisions (timeout, retry, circuit open, bulkhead rejected) are its events.
    execute: (attempt, call) =>
      inSpan(
        CHARGE_SPAN,
        async (span) => {
          const deadline = earliestDeadline(clock() + options.deadlineMs, call.deadline) ?? 0;
          const budget = remainingMs(deadline, clock());
          if (budget === 0) throw new DeadlineExceededError('no budget left to call payment-service');
          let attempts = 0;
          // Aggressive: the caller gets its answer at the deadline even if a socket is wedged; the abort then
          // makes undici destroy that socket, so an abandoned call stops holding a connection.
          const callTimeout = timeout(budget, TimeoutStrategy.Aggressive);
          if (span.isRecording()) {
            // Fires on the caller's hang-up too, which is no timeout.
            callTimeout.onTimeout(() => {
              if (!call.signal?.aborted) span.addEvent('timeout', { scope: 'call', timeout_ms: budget });
            });
          }
          try {
            return await callTimeout.execute(
              ({ signal }) =>
                policy.execute(({ signal: attemptSignal }) => {
                  const now = clock();
                  // The retry loop sleeps on a timer our deadline cannot cancel; never wake up into a new attempt.
                  if (attemptSignal.aborted || remainingMs(deadline, now) === 0) {
                    throw new DeadlineExceededError('no budget left to call payment-service');
                  }
                  const attemptDeadline = perAttemptTimeout
                    ? Math.min(deadline, now + options.attemptTimeoutMs)
                    : deadline;
                  const number = attempts++;
                  const running = attempt({
                    attempt: number,
                    deadline: attemptDeadline,
                    signal: attemptSignal,
                  });
                  if (perAttemptTimeout) {
                    noteAttemptTimeout(span, running, attemptSignal, signal, {
                      attempt: number + 1,
                      timeout_ms: options.attemptTimeoutMs,
                    });
                  }
                  return running;
                }, signal),
              call.signal,
            );
          } catch (error) {
            notePolicyRefusal(span, error);
            throw error;
          } finally {
            span.setAttribute('splitlab.attempts', attempts);
          }
        },
        chargeSpanOptions(name),
      ),
    circuitState: () => (breaker ? CIRCUIT_STATE_NAMES[breaker.state] : null),
  };
}

function chargeSpanOptions(name: PaymentPolicyName): InSpanOptions {
  return {
    attributes: { 'splitlab.policy': name },
    causeOf: (error) => classifyUpstreamFailure(error).cause,
  };
}

/**
 * A `timeout` event when this attempt's own timeout aborts it. Its signal also aborts when the whole call
 * does (that is the call's timeout, recorded once) and after the attempt settled (cockatiel aborts on
 * return), so the listener lives only while the attempt runs and ignores an abort from above.
 */
function noteAttemptTimeout(
  span: Span,
  running: Promise<unknown>,
  attemptSignal: AbortSignal,
  callSignal: AbortSignal,
  attributes: { attempt: number; timeout_ms: number },
): void {
  if (!span.isRecording()) return;
  const onAbort = (): void => {
    if (!callSignal.aborted) span.addEvent('timeout', { scope: 'attempt', ...attributes });
  };
  attemptSignal.addEventListener('abort', onAbort, { once: true });
  const stopListening = (): void => attemptSignal.removeEventListener('abort', onAbort);
  running.then(stopListening, stopListening);
}

/** A call the breaker or the bulkhead refused before any attempt: the decision is the span's event. */
function notePolicyRefusal(span: Span, error: unknown): void {
  const { cause } = classifyUpstreamFailure(error);
  if (cause === 'circuit_open') span.addEvent('circuit open');
  else if (cause === 'bulkhead_full') span.addEvent('bulkhead rejected');
}

function composePolicies(
  name: Exclude<PaymentPolicyName, 'none'>,
  options: PaymentPolicyOptions,
  observer: PaymentPolicyObserver,
): { policy: AttemptRunner; breaker?: CircuitBreakerPolicy } {
  if (name === 'timeout') return { policy: noop };

  // Retry, and count against the breaker, only what another attempt could fix. Our own "no budget left"
  // is final: the call's deadline has passed, so a retry would only be refused again.
  const transient = handleWhen(
    (error) =>
      !(error instanceof DeadlineExceededError) && isTransientUpstreamFailure(classifyUpstreamFailure(error)),
  );
  const attemptTimeout = timeout(options.attemptTimeoutMs, TimeoutStrategy.Aggressive);
  const retrying = retry(transient, {
    maxAttempts: options.retries,
    backoff: new ExponentialBackoff({
      initialDelay: options.backoff.initialDelayMs,
      maxDelay: options.backoff.maxDelayMs,
    }),
  });
  retrying.onRetry(({ attempt, delay }) => {
    observer.retried();
    // cockatiel emits this inside the call's async context: the active span is that call's `charge payment`.
    // `attempt` there counts the attempt that failed; the event names the one it schedules.
    addEventToActiveSpan('retry', { attempt: attempt + 1, delay_ms: Math.round(delay) });
  });
  if (name === 'retry') return { policy: wrap(retrying, attemptTimeout) };

  // Outside the retry: one failed call is one failure, however many attempts it made.
  const breaker = circuitBreaker(transient, {
    halfOpenAfter: options.breakerHalfOpenMs,
    breaker: new ConsecutiveBreaker(options.breakerThreshold),
  });
  breaker.onBreak(() => {
    observer.breakerOpened();
    // On the call whose failure opened the circuit.
    addEventToActiveSpan('circuit opened');
  });
  breaker.onHalfOpen(() => observer.breakerHalfOpened());
  breaker.onReset(() => observer.breakerClosed());
  if (name === 'breaker') return { policy: wrap(breaker, retrying, attemptTimeout), breaker };

  const compartment = bulkhead(options.bulkheadLimit, options.bulkheadQueue);
  compartment.onReject(() => observer.bulkheadRejected());
  return { policy: queueInCallersContext(compartment, wrap(breaker, retrying, attemptTimeout)), breaker };
}

/**
 * `wrap(compartment, inner)`, except that a call the bulkhead queued runs in its own async context.
 * cockatiel starts a queued call from the call that freed the slot, so without this the queued call's
 * retries, attempts and traceparent would belong to that other call's trace.
 */
function queueInCallersContext(compartment: BulkheadPolicy, inner: AttemptRunner): AttemptRunner {
  return {
    execute: (fn, signal) =>
      compartment.execute(
        bindToActiveContext(({ signal: slotSignal }: IDefaultPolicyContext) => inner.execute(fn, slotSignal)),
        signal,
      ),
  };
}

/** An option passed as `undefined` (an unset environment variable) keeps its default. */
function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function defaultOptions(): PaymentPolicyOptions {
  return {
    deadlineMs: SERVICE_DEFAULTS.paymentDeadlineMs,
    attemptTimeoutMs: SERVICE_DEFAULTS.paymentAttemptTimeoutMs,
    retries: SERVICE_DEFAULTS.paymentRetries,
    backoff: SERVICE_DEFAULTS.paymentBackoff,
    breakerThreshold: SERVICE_DEFAULTS.paymentBreakerThreshold,
    breakerHalfOpenMs: SERVICE_DEFAULTS.paymentBreakerHalfOpenMs,
    bulkheadLimit: SERVICE_DEFAULTS.paymentBulkheadLimit,
    bulkheadQueue: SERVICE_DEFAULTS.paymentBulkheadQueue,
  };
}
