/**
 * payment-service: the payment half of the split deployment, with its own database. The load generator
 * reaches POST /charge directly; signup-service reaches it for checkout.
 *
 *   node services/payment-service.ts
 *
 * Environment:
 *   DATABASE_URL   postgres://user:password@host:port/payment (required)
 *   HOST           listen address (default 127.0.0.1)
 *   PORT           listen port (default 0: the kernel picks; see the `listening` line)
 *   SERVICE_NAME   name in logs and /metrics (default payment-service)
 *   OTEL_EXPORTER_OTLP_ENDPOINT  OTLP/HTTP receiver for spans (<url>/v1/traces); unset: tracing off
 *   OTEL_BSP_SCHEDULE_DELAY      ms a finished span may wait for its batch (default 200)
 *   SCRYPT_N       accepted for symmetry with the other services; payment hashes nothing
 *   DB_TIMEOUT_MS  bound on waiting for a pooled connection and on one query (default 5000)
 *   SERVICE_VERSION  the /charge contract (default v1): v1 takes { userId, amountCents } and ignores a
 *                  currency; v2 requires currency (3 upper-case letters) and refuses a v1 body with 400
 *                  naming currency; v2-expand takes both (no currency: EUR). Shown by /healthz and /metrics
 *   DRAIN_MS       on SIGTERM, how long requests in flight may finish before their connections are cut
 *                  (default 10000, 0..120000); new connections are refused and idle ones closed at once
 *
 * Routes: POST /charge (honours the caller's X-Deadline-Ms budget), GET /charges?userId=<uuid> (the
 * user's payments; signup-service's saga reconciler asks it whether a charge whose answer was lost did
 * commit), GET /healthz, GET /metrics.
 */
import { createChargeHandler } from './payment/charge-handler.ts';
import { createChargesLookupHandler } from './payment/charges-lookup-handler.ts';
import { readCommonConfig, type CommonServiceConfig } from './runtime/config.ts';
import { runMain } from './runtime/run-main.ts';
import { startService, type StartedService } from './runtime/start-service.ts';

export type PaymentServiceConfig = CommonServiceConfig;

/** Reads payment-service's configuration from environment variables (see the top of this file). */
export function paymentServiceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PaymentServiceConfig {
  return readCommonConfig(env);
}

/**
 * Starts payment-service in this process.
 *
 * @example
 *   await using payment = await startPaymentService({ databaseUrl: pg.urlFor('payment') });
 */
export async function startPaymentService(config: PaymentServiceConfig): Promise<StartedService> {
  return await startService({
    role: 'payment-service',
    config,
    tables: ['payments', 'payments_by_user'],
    mount: ({ pool, version }) => ({
      routes: [
        { method: 'POST', path: '/charge', handler: createChargeHandler(pool, version) },
        { method: 'GET', path: '/charges', handler: createChargesLookupHandler(pool) },
      ],
    }),
  });
}

if (import.meta.main)
  await runMain('payment-service', () => startPaymentService(paymentServiceConfigFromEnv()));
