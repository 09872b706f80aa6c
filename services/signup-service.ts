/**
 * signup-service: the signup half of the split deployment, with its own database. Its checkout commits
 * the user, then asks payment-service to charge over HTTP; if that call fails the user stays, unpaid.
 *
 *   node services/signup-service.ts
 *
 * Environment:
 *   DATABASE_URL         postgres://user:password@host:port/signup (required)
 *   PAYMENT_URL          base URL of payment-service, e.g. http://payment-service:41234 (required)
 *   DNS_SERVER           ip:port of the DNS server to resolve PAYMENT_URL's host with, and nothing else;
 *                        answers are cached for their TTL (default: the system resolver)
 *   PAYMENT_DEADLINE_MS  budget for one payment call, all attempts included, passed on as X-Deadline-Ms
 *                        (default 5000; ignored by PAYMENT_POLICY=none)
 *   PAYMENT_POLICY       how the payment call is protected (default timeout), each adding to the previous:
 *                          none      no deadline, no abort, no X-Deadline-Ms: calls last as long as the
 *                                    network lets them and pile up behind a partition
 *                          timeout   one attempt within PAYMENT_DEADLINE_MS
 *                          retry     attempts of PAYMENT_ATTEMPT_TIMEOUT_MS each, retried on deadline,
 *                                    refused, reset, dns and 5xx (never 4xx) with exponential backoff
 *                                    (100 ms initial, 1 s max, decorrelated jitter), within the deadline
 *                          breaker   retry behind a consecutive-failure circuit breaker; answers 503
 *                                    cause circuit_open at once while open
 *                          bulkhead  breaker behind a bulkhead; answers 503 cause bulkhead_full at once
 *                                    when PAYMENT_BULKHEAD_LIMIT calls run and PAYMENT_BULKHEAD_QUEUE wait
 *   PAYMENT_IDEMPOTENCY  on: every attempt of a checkout sends the same Idempotency-Key (the client's, else
 *                        checkout-<userId>); off: a fresh key per attempt, so a retry after a late answer
 *                        charges twice (default on)
 *   PAYMENT_ATTEMPT_TIMEOUT_MS    budget of one attempt under retry/breaker/bulkhead (default 1000)
 *   PAYMENT_RETRIES               retries after the first attempt (default 2: at most 3 calls)
 *   PAYMENT_BREAKER_THRESHOLD     consecutive failed calls that open the circuit (default 5)
 *   PAYMENT_BREAKER_HALF_OPEN_MS  how long the circuit stays open before a probe call (default 5000)
 *   PAYMENT_BULKHEAD_LIMIT        payment calls in flight at once (default 20)
 *   PAYMENT_BULKHEAD_QUEUE        calls waiting for a slot before more are refused (default 10)
 *   PAYMENT_REQUESTS_PER_CONNECTION  requests per connection to payment-service before a new one,
 *                        with a new DNS lookup, is made (default 50)
 *   HOST                 listen address (default 127.0.0.1)
 *   PORT                 listen port (default 0: the kernel picks; see the `listening` line)
 *   SERVICE_NAME         name in logs and /metrics (default signup-service)
 *   SCRYPT_N             scrypt cost N, a power of two (default 16384)
 *   DB_TIMEOUT_MS        bound on waiting for a pooled connection and on one query (default 5000)
 *
 * Routes: POST /signup, POST /checkout, GET /healthz, GET /metrics.
 */
import { isIP } from 'node:net';
import type pg from 'pg';
import type { Handler } from './http/router.ts';
import { IDEMPOTENCY_MODES, type IdempotencyMode } from './payment/attempt-idempotency-key.ts';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from './payment/charge-request.ts';
import { createDnsLookup } from './payment/dns-lookup.ts';
import { createHttpPaymentGateway } from './payment/http-payment-gateway.ts';
import type { PaymentGateway } from './payment/payment-gateway.ts';
import {
  createPaymentPolicy,
  PAYMENT_POLICY_NAMES,
  type PaymentPolicyName,
} from './payment/payment-policy.ts';
import {
  ConfigError,
  readChoice,
  readCommonConfig,
  readInteger,
  readString,
  type CommonServiceConfig,
} from './runtime/config.ts';
import { SERVICE_DEFAULTS } from './runtime/defaults.ts';
import { runMain } from './runtime/run-main.ts';
import { startService, type StartedService } from './runtime/start-service.ts';
import { checkout } from './signup/checkout.ts';
import { hashPassword, type ScryptCost } from './signup/password-hash.ts';
import { createSignupHandler } from './signup/signup-handler.ts';
import { parseCheckoutRequest } from './signup/signup-request.ts';
import { insertUser } from './signup/user-store.ts';

export interface SignupServiceConfig extends CommonServiceConfig {
  /** Base URL of payment-service; `/charge` is appended. */
  paymentUrl: string;
  /** `ip:port` of the only DNS server to ask; the system resolver when omitted. */
  dnsServer?: string | undefined;
  paymentDeadlineMs?: number | undefined;
  paymentRequestsPerConnection?: number | undefined;
  /** Resilience policy around each payment call; see PAYMENT_POLICY above. */
  paymentPolicy?: PaymentPolicyName | undefined;
  paymentIdempotency?: IdempotencyMode | undefined;
  paymentAttemptTimeoutMs?: number | undefined;
  paymentRetries?: number | undefined;
  paymentBreakerThreshold?: number | undefined;
  paymentBreakerHalfOpenMs?: number | undefined;
  paymentBulkheadLimit?: number | undefined;
  paymentBulkheadQueue?: number | undefined;
}

/** Reads signup-service's configuration from environment variables (see the top of this file). */
export function signupServiceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SignupServiceConfig {
  const paymentUrl = readString(env, 'PAYMENT_URL');
  if (paymentUrl === undefined) {
    throw new ConfigError('PAYMENT_URL is required, e.g. http://payment-service:41234');
  }
  if (!URL.canParse(paymentUrl) || new URL(paymentUrl).protocol !== 'http:') {
    throw new ConfigError(`PAYMENT_URL must be an http:// URL, got "${paymentUrl}"`);
  }
  const dnsServer = readString(env, 'DNS_SERVER');
  if (dnsServer !== undefined && !isIpAndPort(dnsServer)) {
    throw new ConfigError(`DNS_SERVER must be ip:port (e.g. 127.0.0.1:5353), got "${dnsServer}"`);
  }
  return {
    ...readCommonConfig(env),
    paymentUrl,
    dnsServer,
    paymentDeadlineMs: readInteger(env, 'PAYMENT_DEADLINE_MS', { min: 1, max: 600_000 }),
    paymentRequestsPerConnection: readInteger(env, 'PAYMENT_REQUESTS_PER_CONNECTION', {
      min: 1,
      max: 1_000_000,
    }),
    paymentPolicy: readChoice(env, 'PAYMENT_POLICY', PAYMENT_POLICY_NAMES),
    paymentIdempotency: readChoice(env, 'PAYMENT_IDEMPOTENCY', IDEMPOTENCY_MODES),
    paymentAttemptTimeoutMs: readInteger(env, 'PAYMENT_ATTEMPT_TIMEOUT_MS', { min: 1, max: 600_000 }),
    paymentRetries: readInteger(env, 'PAYMENT_RETRIES', { min: 0, max: 100 }),
    paymentBreakerThreshold: readInteger(env, 'PAYMENT_BREAKER_THRESHOLD', { min: 1, max: 1_000_000 }),
    paymentBreakerHalfOpenMs: readInteger(env, 'PAYMENT_BREAKER_HALF_OPEN_MS', { min: 1, max: 3_600_000 }),
    paymentBulkheadLimit: readInteger(env, 'PAYMENT_BULKHEAD_LIMIT', { min: 1, max: 1_000_000 }),
    paymentBulkheadQueue: readInteger(env, 'PAYMENT_BULKHEAD_QUEUE', { min: 0, max: 1_000_000 }),
  };
}

/**
 * Starts signup-service in this process.
 *
 * @example
 *   await using signup = await startSignupService({ databaseUrl: pg.urlFor('signup'), paymentUrl: payment.url });
 */
export async function startSignupService(config: SignupServiceConfig): Promise<StartedService> {
  return await startService({
    role: 'signup-service',
    config,
    tables: ['users'],
    mount: ({ pool, scrypt, metrics }) => {
      const idempotency = config.paymentIdempotency ?? SERVICE_DEFAULTS.paymentIdempotency;
      // One policy for the service's lifetime: a breaker or bulkhead per call would never see the others.
      const policy = createPaymentPolicy(
        config.paymentPolicy ?? SERVICE_DEFAULTS.paymentPolicy,
        {
          deadlineMs: config.paymentDeadlineMs,
          attemptTimeoutMs: config.paymentAttemptTimeoutMs,
          retries: config.paymentRetries,
          breakerThreshold: config.paymentBreakerThreshold,
          breakerHalfOpenMs: config.paymentBreakerHalfOpenMs,
          bulkheadLimit: config.paymentBulkheadLimit,
          bulkheadQueue: config.paymentBulkheadQueue,
        },
        metrics,
      );
      const gateway = createHttpPaymentGateway({
        baseUrl: config.paymentUrl,
        policy,
        idempotency,
        lookup: config.dnsServer ? createDnsLookup(config.dnsServer) : undefined,
        observer: metrics,
        requestsPerConnection: config.paymentRequestsPerConnection,
      });
      return {
        routes: [
          { method: 'POST', path: '/signup', handler: createSignupHandler(pool, scrypt) },
          { method: 'POST', path: '/checkout', handler: createSplitCheckoutHandler(pool, scrypt, gateway) },
        ],
        close: () => gateway.close(),
        describeOutbound: () => ({ policy: policy.name, idempotency, circuitState: policy.circuitState() }),
      };
    },
  });
}

/** Checkout across two services: the user commits here first, then payment-service is called. */
function createSplitCheckoutHandler(pool: pg.Pool, scrypt: ScryptCost, payments: PaymentGateway): Handler {
  return async (context) => {
    const request = parseCheckoutRequest(await context.readJsonBody());
    const idempotencyKey = parseIdempotencyKey(context.header(IDEMPOTENCY_KEY_HEADER), { required: false });
    const passwordHash = await hashPassword(request.password, scrypt);
    const result = await checkout(
      { email: request.email, passwordHash, amountCents: request.amountCents, idempotencyKey },
      { createUser: (user) => insertUser(pool, user), payments },
      { deadline: context.deadline, signal: context.signal },
    );
    return { status: 201, body: result };
  };
}

function isIpAndPort(value: string): boolean {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value);
  return match !== null && isIP(match[1] ?? '') !== 0 && Number(match[2]) <= 65_535;
}

if (import.meta.main) await runMain('signup-service', () => startSignupService(signupServiceConfigFromEnv()));
