import type { LookupFunction } from 'node:net';
import { noop, timeout, TimeoutStrategy, type IPolicy } from 'cockatiel';
import { Agent } from 'undici';
import { SERVICE_DEFAULTS } from '../runtime/defaults.ts';
import {
  DEADLINE_HEADER,
  DeadlineExceededError,
  deadlineHeaderValue,
  earliestDeadline,
  monotonicClock,
  remainingMs,
  type Clock,
} from '../runtime/deadline.ts';
import { IDEMPOTENCY_KEY_HEADER } from './charge-request.ts';
import type { CallOptions, ChargeRequest, ChargeResult, PaymentGateway } from './payment-gateway.ts';
import {
  classifyUpstreamFailure,
  UpstreamError,
  UpstreamStatusError,
  type UpstreamFailure,
} from './upstream-failure.ts';

/** Receives one event per outbound call, so /metrics can show calls in flight and failures by cause. */
export interface OutboundObserver {
  callStarted(): void;
  callFinished(failure?: UpstreamFailure): void;
}

export interface HttpPaymentGatewayOptions {
  /** Base URL of payment-service, e.g. `http://payment-service:41234`; `/charge` is appended. */
  readonly baseUrl: string;
  /** Budget for one call, from the moment `charge` is entered. */
  readonly deadlineMs: number;
  /** Name resolution for the connection; the system resolver when omitted. */
  readonly lookup?: LookupFunction | undefined;
  readonly observer?: OutboundObserver | undefined;
  readonly clock?: Clock | undefined;
  /**
   * Wraps each call inside the deadline: the place for retry, circuit breaker or bulkhead policies.
   * Every attempt re-reads the remaining budget, so retries never outlive the deadline.
   */
  readonly policy?: IPolicy | undefined;
  /** Requests per connection before it is closed and a new one (with a new lookup) is made. */
  readonly requestsPerConnection?: number | undefined;
}

export interface HttpPaymentGateway extends PaymentGateway, AsyncDisposable {
  close(): Promise<void>;
}

const UPSTREAM = 'payment-service';

/**
 * The split deployment's gateway: `POST {baseUrl}/charge` over a keep-alive undici Agent.
 *
 * The deadline is enforced twice on purpose. cockatiel's aggressive timeout rejects at the deadline even if
 * the socket is wedged, and its AbortSignal makes undici destroy that socket, so an abandoned call stops
 * holding a connection. The callee gets the remaining budget in `X-Deadline-Ms` and can stop too.
 *
 * @example
 *   await using gateway = createHttpPaymentGateway({ baseUrl: 'http://127.0.0.1:41234', deadlineMs: 5000 });
 *   const { paymentId } = await gateway.charge({ userId, amountCents: 1999, idempotencyKey: 'k1' }, {});
 */
export function createHttpPaymentGateway(options: HttpPaymentGatewayOptions): HttpPaymentGateway {
  const clock = options.clock ?? monotonicClock;
  const base = new URL(options.baseUrl);
  const origin = base.origin;
  const path = `${base.pathname.replace(/\/+$/, '')}/charge`;
  const policy = options.policy ?? noop;
  const agent = new Agent({
    keepAliveTimeout: 4_000,
    maxRequestsPerClient: options.requestsPerConnection ?? SERVICE_DEFAULTS.paymentRequestsPerConnection,
    connect: options.lookup ? { lookup: options.lookup } : {},
  });

  const send = async (
    request: ChargeRequest,
    deadline: number,
    signal: AbortSignal,
  ): Promise<ChargeResult> => {
    const budget = remainingMs(deadline, clock());
    if (budget === 0) throw new DeadlineExceededError('no budget left to call payment-service');
    const response = await agent.request({
      origin,
      path,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDEMPOTENCY_KEY_HEADER]: request.idempotencyKey,
        [DEADLINE_HEADER]: deadlineHeaderValue(deadline, clock()),
      },
      body: JSON.stringify({ userId: request.userId, amountCents: request.amountCents }),
      signal,
    });
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw new UpstreamStatusError(response.statusCode, text);
    }
    return parseChargeResult(text);
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // close() waits for calls still in flight; after a grace period, cut them.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), 1_000);
      });
      const outcome = await Promise.race([agent.close().then(() => 'closed' as const), grace]);
      clearTimeout(timer);
      if (outcome === 'late') await agent.destroy().catch(() => undefined);
    })();
    return closing;
  };

  return {
    async charge(request: ChargeRequest, call: CallOptions): Promise<ChargeResult> {
      const deadline = earliestDeadline(clock() + options.deadlineMs, call.deadline) ?? 0;
      options.observer?.callStarted();
      try {
        const budget = remainingMs(deadline, clock());
        if (budget === 0) throw new DeadlineExceededError('no budget left to call payment-service');
        const result = await timeout(budget, TimeoutStrategy.Aggressive).execute(
          ({ signal }) => policy.execute(({ signal: attempt }) => send(request, deadline, attempt), signal),
          call.signal,
        );
        options.observer?.callFinished();
        return result;
      } catch (error) {
        const failure = classifyUpstreamFailure(error);
        options.observer?.callFinished(failure);
        throw new UpstreamError(UPSTREAM, failure, { cause: error });
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function parseChargeResult(text: string): ChargeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`payment-service answered 2xx with a body that is not JSON: ${text.slice(0, 100)}`);
  }
  const { paymentId, replayed } = (parsed ?? {}) as { paymentId?: unknown; replayed?: unknown };
  if (typeof paymentId !== 'string' || typeof replayed !== 'boolean') {
    throw new Error(`payment-service answered 2xx without paymentId/replayed: ${text.slice(0, 100)}`);
  }
  return { paymentId, replayed };
}
