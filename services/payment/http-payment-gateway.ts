import type { LookupFunction } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import { Agent } from 'undici';
import { SERVICE_DEFAULTS } from '../runtime/service-defaults.ts';
import type { ServiceVersion } from '../runtime/service-version.ts';
import { inSpan, injectTraceContext } from '../tracing/spans.ts';
import { DEADLINE_HEADER, deadlineHeaderValue, monotonicClock, type Clock } from '../runtime/deadline.ts';
import { idempotencyKeyForAttempt, type IdempotencyMode } from './attempt-idempotency-key.ts';
import { chargeOutcomeForFailure } from './charge-outcome.ts';
import { DEFAULT_CURRENCY, IDEMPOTENCY_KEY_HEADER } from './charge-request.ts';
import type { CallOptions, ChargeRequest, ChargeResult, PaymentGateway } from './payment-gateway.ts';
import { createPaymentPolicy, type PaymentAttempt, type PaymentPolicy } from './payment-policy.ts';
import {
  classifyUpstreamFailure,
  UpstreamError,
  UpstreamStatusError,
  type UpstreamFailure,
} from './upstream-failure.ts';

/**
 * Receives one event per outbound call and per HTTP attempt, so /metrics can show calls in flight,
 * failures by cause, and attempts per call (the retry amplification).
 */
export interface OutboundObserver {
  callStarted(): void;
  callFinished(failure?: UpstreamFailure): void;
  /** One HTTP request is about to be sent; a call makes one or more. */
  attemptStarted(): void;
}

export interface HttpPaymentGatewayOptions {
  /** Base URL of payment-service, e.g. `http://payment-service:41234`; `/charge` is appended. */
  readonly baseUrl: string;
  /**
   * Deadline, retries, breaker, bulkhead: see payment-policy.ts. Defaults to `timeout` with
   * SERVICE_DEFAULTS (one attempt, 5 s).
   */
  readonly policy?: PaymentPolicy | undefined;
  /** Whether the attempts of one call share its Idempotency-Key (default `on`). */
  readonly idempotency?: IdempotencyMode | undefined;
  /** Name resolution for the connection; the system resolver when omitted. */
  readonly lookup?: LookupFunction | undefined;
  readonly observer?: OutboundObserver | undefined;
  /** Reads the time for `X-Deadline-Ms`; must be the clock the policy's deadlines are on. */
  readonly clock?: Clock | undefined;
  /** Requests per connection before it is closed and a new one (with a new lookup) is made. */
  readonly requestsPerConnection?: number | undefined;
  /**
   * The caller's version, which decides the body it sends (see service-version.ts): v1 sends
   * `{ userId, amountCents }`, v2 and v2-expand add `currency`. Default SERVICE_DEFAULTS.version.
   */
  readonly version?: ServiceVersion | undefined;
}

export interface HttpPaymentGateway extends PaymentGateway, AsyncDisposable {
  close(): Promise<void>;
}

const UPSTREAM = 'payment-service';

/** Per call: attempts that may have reached payment-service without proof that it did nothing. */
interface AttemptTally {
  inDoubt: number;
}

/**
 * The split deployment's gateway: `POST {baseUrl}/charge` over a keep-alive undici Agent.
 *
 * The policy decides how many attempts a call makes and how long each may take. With a deadline, it is
 * enforced twice on purpose: the policy's aggressive timeout rejects at the deadline even if the socket is
 * wedged, and its AbortSignal makes undici destroy that socket, so an abandoned attempt stops holding a
 * connection; the callee gets the attempt's budget in `X-Deadline-Ms` and can stop too.
 *
 * @example
 *   await using gateway = createHttpPaymentGateway({ baseUrl: 'http://127.0.0.1:41234' });
 *   const { paymentId } = await gateway.charge({ userId, amountCents: 1999, idempotencyKey: 'k1' }, {});
 */
export function createHttpPaymentGateway(options: HttpPaymentGatewayOptions): HttpPaymentGateway {
  const clock = options.clock ?? monotonicClock;
  const base = new URL(options.baseUrl);
  const origin = base.origin;
  const path = `${base.pathname.replace(/\/+$/, '')}/charge`;
  const policy = options.policy ?? createPaymentPolicy('timeout', { clock });
  const idempotency = options.idempotency ?? SERVICE_DEFAULTS.paymentIdempotency;
  const version = options.version ?? SERVICE_DEFAULTS.version;
  // Under `none` undici's own safety nets (10 s connect, 300 s headers and body) go too: that policy shows
  // a caller with no deadline at all, whose calls end only when the socket errors or closes.
  const unbounded = policy.name === 'none';
  const agent = new Agent({
    keepAliveTimeout: 4_000,
    maxRequestsPerClient: options.requestsPerConnection ?? SERVICE_DEFAULTS.paymentRequestsPerConnection,
    connect: {
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(unbounded ? { timeout: 0 } : {}),
    },
    ...(unbounded ? { headersTimeout: 0, bodyTimeout: 0 } : {}),
  });

  // Requests on the wire, so close() can wait for them itself: undici's destroy() after close() leaves a
  // request that close() is still waiting for pending forever, and its socket open.
  let requestsInFlight = 0;
  let onIdle: (() => void) | undefined;

  const serverPort = Number(base.port) || (base.protocol === 'https:' ? 443 : 80);
  const send = (
    request: ChargeRequest,
    attempt: PaymentAttempt,
    tally: AttemptTally,
  ): Promise<ChargeResult> =>
    // One CLIENT span per HTTP attempt; the attempts of a call are siblings under its `charge payment`.
    inSpan(
      `POST ${path}`,
      async (span) => {
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          [IDEMPOTENCY_KEY_HEADER]: idempotencyKeyForAttempt(idempotency, request.idempotencyKey),
        };
        if (attempt.deadline !== undefined) {
          headers[DEADLINE_HEADER] = deadlineHeaderValue(attempt.deadline, clock());
        }
        injectTraceContext(headers);
        options.observer?.attemptStarted();
        // In doubt from the moment it may leave; cleared only by a failure that proves nothing was charged.
        // An attempt the policy abandons (its timeout fired) is still running here, so it stays in doubt.
        tally.inDoubt += 1;
        requestsInFlight += 1;
        try {
          const response = await agent.request({
            origin,
            path,
            method: 'POST',
            headers,
            body: JSON.stringify(chargeBodyFor(version, request)),
            signal: attempt.signal,
          });
          span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.statusCode);
          const text = await response.body.text();
          if (response.statusCode < 200 || response.statusCode > 299) {
            throw new UpstreamStatusError(response.statusCode, text);
          }
          return parseChargeResult(text);
        } catch (error) {
          if (chargeOutcomeForFailure(classifyUpstreamFailure(error)) === 'not_charged') tally.inDoubt -= 1;
          throw error;
        } finally {
          requestsInFlight -= 1;
          if (requestsInFlight === 0) onIdle?.();
        }
      },
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: 'POST',
          [ATTR_URL_FULL]: `${origin}${path}`,
          [ATTR_SERVER_ADDRESS]: base.hostname,
          [ATTR_SERVER_PORT]: serverPort,
          'splitlab.attempt': attempt.attempt + 1,
        },
        causeOf: (error) => classifyUpstreamFailure(error).cause,
      },
    );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Calls still in flight get a grace period to finish; then every socket is cut, which fails them.
      if (requestsInFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => (onIdle = resolve)),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, 1_000);
          }),
        ]);
        clearTimeout(timer);
      }
      await agent.destroy().catch(() => undefined);
    })();
    return closing;
  };

  return {
    async charge(request: ChargeRequest, call: CallOptions): Promise<ChargeResult> {
      options.observer?.callStarted();
      const tally: AttemptTally = { inDoubt: 0 };
      try {
        const result = await policy.execute((attempt) => send(request, attempt, tally), call);
        options.observer?.callFinished();
        return result;
      } catch (error) {
        const failure = classifyUpstreamFailure(error);
        options.observer?.callFinished(failure);
        throw new UpstreamError(UPSTREAM, failure, { cause: error, attemptsInDoubt: tally.inDoubt });
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * The /charge body a caller of `version` sends. v1 code predates currencies, so it cannot send one even
 * when asked to: that skew is what a v2 payment-service then refuses.
 *
 * @example
 *   chargeBodyFor('v2', { userId, amountCents: 1999, idempotencyKey: 'k' }); // { userId, amountCents: 1999, currency: 'EUR' }
 */
export function chargeBodyFor(version: ServiceVersion, request: ChargeRequest): Record<string, unknown> {
  const body = { userId: request.userId, amountCents: request.amountCents };
  return version === 'v1' ? body : { ...body, currency: request.currency ?? DEFAULT_CURRENCY };
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
