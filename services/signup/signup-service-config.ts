import { isIP } from 'node:net';
import { IDEMPOTENCY_MODES, type IdempotencyMode } from '../payment/attempt-idempotency-key.ts';
import { PAYMENT_POLICY_NAMES, type PaymentPolicyName } from '../payment/payment-policy.ts';
import {
  ConfigError,
  readChoice,
  readCommonConfig,
  readInteger,
  readString,
  type CommonServiceConfig,
} from '../runtime/config.ts';
import { CHECKOUT_CONSISTENCY_NAMES, type CheckoutConsistency } from './consistency-strategy.ts';

/**
 * signup-service's configuration: what the service itself and its checkout strategies read. Each
 * environment variable is described at the top of services/signup-service.ts.
 */
export interface SignupServiceConfig extends CommonServiceConfig {
  /** Base URL of payment-service; `/charge` is appended. */
  paymentUrl: string;
  /** `ip:port` of the only DNS server to ask; the system resolver when omitted. */
  dnsServer?: string | undefined;
  paymentDeadlineMs?: number | undefined;
  paymentRequestsPerConnection?: number | undefined;
  /** Resilience policy around each payment call; see PAYMENT_POLICY in services/signup-service.ts. */
  paymentPolicy?: PaymentPolicyName | undefined;
  paymentIdempotency?: IdempotencyMode | undefined;
  paymentAttemptTimeoutMs?: number | undefined;
  paymentRetries?: number | undefined;
  paymentBreakerThreshold?: number | undefined;
  paymentBreakerHalfOpenMs?: number | undefined;
  paymentBulkheadLimit?: number | undefined;
  paymentBulkheadQueue?: number | undefined;
  /** See CHECKOUT_CONSISTENCY in services/signup-service.ts. */
  checkoutConsistency?: CheckoutConsistency | undefined;
  sagaReconcileIntervalMs?: number | undefined;
  outboxRelayIntervalMs?: number | undefined;
}

/** Reads signup-service's configuration from environment variables (see the top of services/signup-service.ts). */
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
    checkoutConsistency: readChoice(env, 'CHECKOUT_CONSISTENCY', CHECKOUT_CONSISTENCY_NAMES),
    sagaReconcileIntervalMs: readInteger(env, 'SAGA_RECONCILE_INTERVAL_MS', { min: 10, max: 600_000 }),
    outboxRelayIntervalMs: readInteger(env, 'OUTBOX_RELAY_INTERVAL_MS', { min: 10, max: 600_000 }),
  };
}

function isIpAndPort(value: string): boolean {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value);
  return match !== null && isIP(match[1] ?? '') !== 0 && Number(match[2]) <= 65_535;
}
