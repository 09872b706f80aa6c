/**
 * signup-service: the signup half of the split deployment, with its own database. Its checkout commits
 * the user, then asks payment-service to charge over HTTP; what happens to the user when that call fails
 * is CHECKOUT_CONSISTENCY's choice.
 *
 *   node services/signup-service.ts
 *
 * Environment:
 *   CHECKOUT_CONSISTENCY how POST /checkout keeps the user (here) and the payment (payment-service)
 *                        consistent (default none):
 *                          none    commit the user, then charge; a failed charge leaves the user behind,
 *                                  unpaid (an orphan). Answers 201, or the failure with the orphan's userId.
 *                          saga    commit the user with a pending mark (table pending_checkouts), then
 *                                  charge through PAYMENT_POLICY. A charge that surely did not happen
 *                                  (refused, dns, circuit_open, bulkhead_full, a 4xx/5xx answer, and no
 *                                  attempt that timed out or was reset before it) deletes the user at once:
 *                                  502/503 with its cause and compensated: true. One whose outcome is
 *                                  unknown (deadline, reset, unknown) keeps the user, pending: 504/502 with
 *                                  its cause and outcome: 'unknown'. A reconciler asks payment-service
 *                                  GET /charges?userId= every SAGA_RECONCILE_INTERVAL_MS: a payment keeps
 *                                  the user, none deletes it, a failed lookup is tried again next round.
 *                          outbox  commit the user and an outbox row in one transaction and answer 202
 *                                  { userId, status: 'pending' } without calling payment-service. A relay
 *                                  charges undelivered rows every OUTBOX_RELAY_INTERVAL_MS, each always with
 *                                  its own stored key (PAYMENT_IDEMPOTENCY does not apply: re-sending is
 *                                  only safe with it), until payment-service has every one.
 *   SAGA_RECONCILE_INTERVAL_MS  pause between reconciler rounds under saga (default 1000)
 *   OUTBOX_RELAY_INTERVAL_MS    pause between relay rounds under outbox when the last round left no
 *                               full batch behind (default 200)
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
 *                        charges twice (default on). Ignored under CHECKOUT_CONSISTENCY=outbox, which
 *                        always sends a row's own key (and /metrics says idempotency: on)
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
 *   OTEL_EXPORTER_OTLP_ENDPOINT  OTLP/HTTP receiver for spans (<url>/v1/traces); unset: tracing off
 *   OTEL_BSP_SCHEDULE_DELAY      ms a finished span may wait for its batch (default 200)
 *   SCRYPT_N             scrypt cost N, a power of two (default 16384)
 *   DB_TIMEOUT_MS        bound on waiting for a pooled connection and on one query (default 5000)
 *   SERVICE_VERSION      the code's version (default v1): v1 sends /charge { userId, amountCents }; v2 and
 *                        v2-expand add currency: 'EUR', which payment-service v2 requires (a v1 signup
 *                        against a v2 payment fails every checkout: 502 upstream_status, never retried).
 *                        Shown by /healthz and /metrics
 *   DRAIN_MS             on SIGTERM, how long requests in flight may finish before their connections are
 *                        cut (default 10000, 0..120000); new connections are refused and idle ones closed
 *                        at once
 *
 * Routes: POST /signup, POST /checkout, GET /healthz, GET /metrics (with checkoutConsistency,
 * outboxPending, sagaPending and counters.sagaCompensations, sagaReconciled, outboxDelivered).
 */
import { createDnsLookup } from './payment/dns-lookup.ts';
import { createHttpPaymentGateway } from './payment/http-payment-gateway.ts';
import { createPaymentPolicy } from './payment/payment-policy.ts';
import { SERVICE_DEFAULTS } from './runtime/service-defaults.ts';
import { runMain } from './runtime/run-main.ts';
import { startService, type StartedService } from './runtime/start-service.ts';
import { createSignupHandler } from './signup/signup-handler.ts';
import { signupServiceConfigFromEnv, type SignupServiceConfig } from './signup/signup-service-config.ts';
import { CHECKOUT_TABLES, mountCheckout } from './signup/split-checkout-route.ts';

// Configuration lives in its own module, which the checkout strategies read too.
export { signupServiceConfigFromEnv, type SignupServiceConfig };

/**
 * Starts signup-service in this process.
 *
 * @example
 *   await using signup = await startSignupService({ databaseUrl: pg.urlFor('signup'), paymentUrl: payment.url });
 */
export async function startSignupService(config: SignupServiceConfig): Promise<StartedService> {
  const consistency = config.checkoutConsistency ?? SERVICE_DEFAULTS.checkoutConsistency;
  return await startService({
    role: 'signup-service',
    config,
    tables: CHECKOUT_TABLES[consistency],
    mount: ({ pool, scrypt, metrics, log }) => {
      // The outbox relay sends a row again whenever it is not sure the last try arrived; only the row's
      // own key on every attempt turns that into a replay instead of a second charge.
      const idempotency =
        consistency === 'outbox' ? 'on' : (config.paymentIdempotency ?? SERVICE_DEFAULTS.paymentIdempotency);
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
      const lookup = config.dnsServer ? createDnsLookup(config.dnsServer) : undefined;
      const gateway = createHttpPaymentGateway({
        baseUrl: config.paymentUrl,
        policy,
        idempotency,
        lookup,
        observer: metrics,
        requestsPerConnection: config.paymentRequestsPerConnection,
        version: config.version,
      });
      const checkoutRoute = mountCheckout(consistency, {
        config,
        pool,
        scrypt,
        metrics,
        log,
        gateway,
        lookup,
      });
      return {
        routes: [
          { method: 'POST', path: '/signup', handler: createSignupHandler(pool, scrypt) },
          { method: 'POST', path: '/checkout', handler: checkoutRoute.handler },
        ],
        close: async () => {
          // Together, not one after the other: stopping the loop aborts its charges, but
          // PAYMENT_POLICY=none ignores aborts, and only the gateway's cut ends a charge that hangs.
          await Promise.all([checkoutRoute.close(), gateway.close()]);
        },
        describeOutbound: () => ({ policy: policy.name, idempotency, circuitState: policy.circuitState() }),
        describeConsistency: () => ({
          checkoutConsistency: consistency,
          outboxPending: checkoutRoute.outboxPending(),
          sagaPending: checkoutRoute.sagaPending(),
        }),
      };
    },
  });
}

if (import.meta.main) await runMain('signup-service', () => startSignupService(signupServiceConfigFromEnv()));
