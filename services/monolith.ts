/**
 * The monolith: signup and payment in one process, one database, one connection pool. Checkout is a
 * single transaction, so a failed charge can never leave a user behind.
 *
 *   node services/monolith.ts
 *
 * Environment:
 *   DATABASE_URL   postgres://user:password@host:port/monolith (required)
 *   HOST           listen address (default 127.0.0.1)
 *   PORT           listen port (default 0: the kernel picks; see the `listening` line)
 *   SERVICE_NAME   name in logs and /metrics (default monolith)
 *   OTEL_EXPORTER_OTLP_ENDPOINT  OTLP/HTTP receiver for spans (<url>/v1/traces); unset: tracing off
 *   OTEL_BSP_SCHEDULE_DELAY      ms a finished span may wait for its batch (default 200)
 *   SCRYPT_N       scrypt cost N, a power of two (default 16384)
 *   DB_TIMEOUT_MS  bound on waiting for a pooled connection and on one query (default 5000)
 *   SERVICE_VERSION  the code's version (default v1; v1, v2, v2-expand): /pay reads bodies as payment's
 *                  /charge of that version does (v2 requires a currency); signup and payment ship
 *                  together, so they never disagree. Shown by /healthz and /metrics
 *   DRAIN_MS       on SIGTERM, how long requests in flight may finish before their connections are cut
 *                  (default 10000, 0..120000); new connections are refused and idle ones closed at once
 *
 * Routes: POST /signup, POST /pay, POST /checkout, GET /healthz, GET /metrics.
 */
import type pg from 'pg';
import type { Handler } from './http/router.ts';
import { createChargeHandler } from './payment/charge-handler.ts';
import { createInProcessPaymentGateway } from './payment/in-process-payment-gateway.ts';
import { readCommonConfig, type CommonServiceConfig } from './runtime/config.ts';
import { runMain } from './runtime/run-main.ts';
import { startService, type StartedService } from './runtime/start-service.ts';
import type { ScryptCost } from './signup/password-hash.ts';
import { createSignupHandler } from './signup/signup-handler.ts';
import { createTransactionalCheckoutHandler } from './signup/transactional-checkout.ts';

export type MonolithConfig = CommonServiceConfig;

/** Reads the monolith's configuration from environment variables (see the top of this file). */
export function monolithConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MonolithConfig {
  return readCommonConfig(env);
}

/**
 * Starts the monolith in this process.
 *
 * @example
 *   await using monolith = await startMonolith({ databaseUrl: pg.urlFor('monolith'), scryptN: 1024 });
 *   await fetch(`${monolith.url}/signup`, { method: 'POST', body: JSON.stringify({ email, password }) });
 */
export async function startMonolith(config: MonolithConfig): Promise<StartedService> {
  return await startService({
    role: 'monolith',
    config,
    tables: ['users', 'payments'],
    mount: ({ pool, scrypt, version }) => ({
      routes: [
        { method: 'POST', path: '/signup', handler: createSignupHandler(pool, scrypt) },
        { method: 'POST', path: '/pay', handler: createChargeHandler(pool, version) },
        { method: 'POST', path: '/checkout', handler: createMonolithCheckoutHandler(pool, scrypt) },
      ],
    }),
  });
}

/** Checkout on one transaction: the user and the payment commit together or not at all. */
function createMonolithCheckoutHandler(pool: pg.Pool, scrypt: ScryptCost): Handler {
  return createTransactionalCheckoutHandler(pool, scrypt, async (tx) => createInProcessPaymentGateway(tx));
}

if (import.meta.main) await runMain('monolith', () => startMonolith(monolithConfigFromEnv()));
