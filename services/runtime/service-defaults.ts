import { DEFAULT_SERVICE_VERSION } from './service-version.ts';

/** Every tunable number of the services, in one place. Environment variables override some of them. */
export const SERVICE_DEFAULTS = {
  host: '127.0.0.1',
  /** 0 lets the kernel pick a free port; the service reports it in its `listening` line. */
  port: 0,
  /** scrypt cost that takes tens of milliseconds of CPU per hash, like a real signup does. */
  scrypt: { N: 16_384, r: 8, p: 1 },
  poolMax: 20,
  /**
   * Upper bound for getting a pooled connection and for one query. Without it a partitioned database
   * holds every request forever instead of failing it as `cause: 'database'`.
   */
  databaseTimeoutMs: 5_000,
  /** How long a service keeps retrying its database at start before it gives up with exit code 1. */
  startupTimeoutMs: 15_000,
  bodyLimitBytes: 64 * 1024,
  /** Budget for one signup-service -> payment-service call, including connect and DNS. */
  paymentDeadlineMs: 5_000,
  /**
   * On SIGTERM, requests in flight get this long to finish before their connections are cut (DRAIN_MS,
   * 0..120000); the default matches the lab's deploy, which kills the old process after 10 s as
   * Kubernetes' termination grace period does.
   */
  drainMs: 10_000,
  /**
   * After the drain: how long ending the database pool and the outbound calls may take. A connection stuck
   * behind a partition may never come back, and the process must still exit.
   */
  shutdownGraceMs: 2_000,
  /** The code a service runs when SERVICE_VERSION is unset (see service-version.ts). */
  version: DEFAULT_SERVICE_VERSION,
  /** Event-loop delay sampling resolution for /metrics. */
  eventLoopResolutionMs: 10,
  dns: { timeoutMs: 500, tries: 1 },
  /**
   * signup-service closes a connection to payment-service after this many requests, as connection
   * lifetimes behind real load balancers do. Without it, one keep-alive socket would serve forever and
   * never look the name up again, so a DNS change or failure would never reach the caller.
   */
  paymentRequestsPerConnection: 50,
  /**
   * Resilience policy around the payment call (see services/payment/payment-policy.ts). `timeout` is one
   * attempt inside PAYMENT_DEADLINE_MS, the behaviour every scenario was calibrated against.
   */
  paymentPolicy: 'timeout',
  /** One Idempotency-Key per checkout, so a retried charge is replayed rather than charged twice. */
  paymentIdempotency: 'on',
  /** Budget of one attempt under `retry` and stronger policies; the overall deadline still applies. */
  paymentAttemptTimeoutMs: 1_000,
  /** Retries after the first attempt: 2 means at most 3 calls per checkout. */
  paymentRetries: 2,
  /** Exponential backoff with cockatiel's default decorrelated jitter between attempts. */
  paymentBackoff: { initialDelayMs: 100, maxDelayMs: 1_000 },
  /** Consecutive failed payment calls (each after its retries) that open the circuit. */
  paymentBreakerThreshold: 5,
  /** How long an open circuit refuses calls before it lets one probe call through. */
  paymentBreakerHalfOpenMs: 5_000,
  /** Payment calls in flight at once under `bulkhead`; more wait in the queue, beyond it they are refused. */
  paymentBulkheadLimit: 20,
  paymentBulkheadQueue: 10,
  /**
   * How split's checkout keeps the user and the payment consistent (see
   * services/signup/consistency-strategy.ts). `none` is the behaviour every scenario was calibrated
   * against: the user commits, the charge may fail, the user stays unpaid.
   */
  checkoutConsistency: 'none',
  /** How often the saga's reconciler asks payment-service about checkouts whose charge is in doubt. */
  sagaReconcileIntervalMs: 1_000,
  /**
   * The reconciler leaves a checkout alone for this long after its charge call gave up, so a request
   * still on its way to payment-service can land before "no payment" is taken as final.
   */
  sagaReconcileGraceMs: 1_000,
  /** Budget of one reconciler lookup (GET /charges?userId=); a failed lookup is tried again next round. */
  sagaLookupTimeoutMs: 2_000,
  /** How often the outbox relay looks for undelivered rows when the previous round left none behind. */
  outboxRelayIntervalMs: 200,
  /** Rows one relay round or one reconciler round takes at most. */
  consistencyBatchSize: 50,
  /**
   * Charges the relay sends at once. Below the default bulkhead (20 + 10 queued), so the relay alone
   * never trips its own bulkhead.
   */
  outboxRelayConcurrency: 10,
} as const;
