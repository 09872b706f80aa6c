/**
 * The modular monolith: one process whose signup and payment modules each own a PostgreSQL schema
 * (`signup`, `payment`) in one database and a connection pool of their own, and talk only through the
 * `PaymentGateway` interface. /signup runs on the signup module's pool, /pay on the payment module's.
 *
 * PAYMENT_MODULE=in-process (the default): checkout is ONE transaction on a signup connection that also
 * sees the payment schema for that transaction only (SET LOCAL search_path), the payment module's
 * in-process gateway writing on it, so a failed charge can never leave a user behind, as in the monolith.
 *
 * PAYMENT_MODULE=worker: the payment module runs on a worker thread (its own event loop and pool; messages,
 * no network) and the main thread forwards /pay and checkout's charge to it. Checkout is then two
 * transactions: the user is inserted in an open transaction, the worker charges and commits, and the user
 * commits only after the worker said yes (rolled back otherwise). A failed charge still leaves no user;
 * but if the user's commit fails after the charge committed, or the charge commits after the main thread
 * gave up on it at the deadline, a payment without a user remains (the monolith's single transaction
 * cannot do that). A dead or silent worker is answered 503 `cause: 'payment_worker'`, never hung.
 *
 *   node services/modular.ts
 *
 * Environment:
 *   DATABASE_URL   postgres://user:password@host:port/modular (required); the schemas are created at start
 *   PAYMENT_MODULE in-process | worker (default in-process)
 *   HOST           listen address (default 127.0.0.1)
 *   PORT           listen port (default 0: the kernel picks; see the `listening` line)
 *   SERVICE_NAME   name in logs and /metrics (default modular)
 *   OTEL_EXPORTER_OTLP_ENDPOINT  OTLP/HTTP receiver for spans (<url>/v1/traces); unset: tracing off
 *                  (the payment worker's own spans are not exported)
 *   OTEL_BSP_SCHEDULE_DELAY      ms a finished span may wait for its batch (default 200)
 *   SCRYPT_N       scrypt cost N, a power of two (default 16384)
 *   DB_TIMEOUT_MS  bound on waiting for a pooled connection and on one query (default 5000)
 *   SERVICE_VERSION  the code's version (default v1; v1, v2, v2-expand): /pay reads bodies as payment's
 *                  /charge of that version does; both modules ship in this one process, so they never
 *                  disagree
 *   DRAIN_MS       on SIGTERM, how long requests in flight may finish (default 10000, 0..120000)
 *
 * Routes: POST /signup, POST /pay, POST /checkout, GET /healthz, GET /metrics. /healthz and /metrics'
 * database pool are the signup module's pool.
 */
import type pg from 'pg';
import { createDatabasePool } from './db/database-pool.ts';
import { ensureSchema } from './db/schema.ts';
import type { Handler, JsonReply } from './http/router.ts';
import { createChargeHandler } from './payment/charge-handler.ts';
import { IDEMPOTENCY_KEY_HEADER, parseChargeBody, parseIdempotencyKey } from './payment/charge-request.ts';
import { createInProcessPaymentGateway } from './payment/in-process-payment-gateway.ts';
import { readChoice, readCommonConfig, type CommonServiceConfig } from './runtime/config.ts';
import { createLogger } from './runtime/log.ts';
import { runMain } from './runtime/run-main.ts';
import { SERVICE_DEFAULTS } from './runtime/service-defaults.ts';
import type { ServiceVersion } from './runtime/service-version.ts';
import { endPool, startService, type StartedService } from './runtime/start-service.ts';
import type { ScryptCost } from './signup/password-hash.ts';
import { createSignupHandler } from './signup/signup-handler.ts';
import { createTransactionalCheckoutHandler } from './signup/transactional-checkout.ts';
import { MODULE_SCHEMAS, createModuleSchemas, moduleDatabaseUrl } from './modular/module-schemas.ts';
import {
  PaymentWorkerUnavailableError,
  startPaymentWorker,
  type PaymentWorkerClient,
} from './modular/payment-worker-client.ts';

export const PAYMENT_MODULE_PLACES = ['in-process', 'worker'] as const;
export type PaymentModulePlace = (typeof PAYMENT_MODULE_PLACES)[number];

export interface ModularConfig extends CommonServiceConfig {
  paymentModule?: PaymentModulePlace;
}

/** A running modular monolith; `paymentWorker` is there when the payment module runs on a worker thread. */
export interface StartedModular extends StartedService {
  readonly paymentWorker: PaymentWorkerClient | undefined;
}

/** Reads the modular monolith's configuration from environment variables (see the top of this file). */
export function modularConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ModularConfig {
  return {
    ...readCommonConfig(env),
    paymentModule: readChoice(env, 'PAYMENT_MODULE', PAYMENT_MODULE_PLACES),
  };
}

/**
 * Starts the modular monolith in this process.
 *
 * @example
 *   await using modular = await startModular({ databaseUrl: pg.urlFor('modular'), paymentModule: 'worker' });
 *   await fetch(`${modular.url}/pay`, { method: 'POST', headers: { 'idempotency-key': 'k1' }, body });
 */
export async function startModular(config: ModularConfig): Promise<StartedModular> {
  const name = config.serviceName ?? 'modular';
  const log = createLogger(name);
  const databaseTimeoutMs = config.databaseTimeoutMs ?? SERVICE_DEFAULTS.databaseTimeoutMs;
  const startupTimeoutMs = config.startupTimeoutMs ?? SERVICE_DEFAULTS.startupTimeoutMs;
  const paymentUrl = moduleDatabaseUrl(config.databaseUrl, [MODULE_SCHEMAS.payment]);
  // The payment module's pool; with the worker, only for creating its table before the worker starts.
  const paymentPool = createDatabasePool({
    url: paymentUrl,
    max: SERVICE_DEFAULTS.poolMax,
    timeoutMs: databaseTimeoutMs,
    log,
  });
  let paymentWorker: PaymentWorkerClient | undefined;
  try {
    await createModuleSchemas(paymentPool, { databaseUrl: config.databaseUrl, timeoutMs: startupTimeoutMs });
    await ensureSchema(paymentPool, ['payments'], {
      databaseUrl: config.databaseUrl,
      timeoutMs: startupTimeoutMs,
    });
    if (config.paymentModule === 'worker') {
      await paymentPool.end();
      paymentWorker = startPaymentWorker({
        databaseUrl: paymentUrl,
        poolMax: SERVICE_DEFAULTS.poolMax,
        databaseTimeoutMs,
        serviceName: name,
        log,
        // Connect, BEGIN, INSERT (maybe a SELECT), COMMIT: each bounded by the database timeout.
        replyTimeoutMs: 4 * databaseTimeoutMs,
        restartDelayMs: 1_000,
      });
    }
    const worker = paymentWorker;
    const version = config.version ?? SERVICE_DEFAULTS.version;
    const service = await startService({
      role: 'modular',
      // startService's pool is the signup module's: its connections see the `signup` schema only.
      config: {
        ...config,
        serviceName: name,
        databaseUrl: moduleDatabaseUrl(config.databaseUrl, [MODULE_SCHEMAS.signup]),
      },
      tables: ['users'],
      mount: ({ pool: signupPool, scrypt }) => ({
        routes: [
          { method: 'POST', path: '/signup', handler: createSignupHandler(signupPool, scrypt) },
          {
            method: 'POST',
            path: '/pay',
            handler: worker
              ? answerWorkerDeath(createWorkerChargeHandler(worker, version))
              : createChargeHandler(paymentPool, version),
          },
          {
            method: 'POST',
            path: '/checkout',
            handler: worker
              ? answerWorkerDeath(createTwoTransactionCheckoutHandler(signupPool, scrypt, worker))
              : createOneTransactionCheckoutHandler(signupPool, scrypt),
          },
        ],
        close: async () => {
          if (worker) await worker.close(SERVICE_DEFAULTS.shutdownGraceMs);
          else await endPool(paymentPool);
        },
      }),
    });
    return Object.assign(service, { paymentWorker });
  } catch (error) {
    await paymentWorker?.close(SERVICE_DEFAULTS.shutdownGraceMs);
    await endPool(paymentPool);
    throw error;
  }
}

/**
 * Checkout as the monolith does it, in one transaction: for its length the signup connection also sees
 * the payment schema, and the payment module's in-process gateway writes on it. SET LOCAL ends with the
 * transaction, so the connection goes back to the pool seeing `signup` only.
 */
function createOneTransactionCheckoutHandler(signupPool: pg.Pool, scrypt: ScryptCost): Handler {
  return createTransactionalCheckoutHandler(signupPool, scrypt, async (tx) => {
    await tx.query(`SET LOCAL search_path = ${MODULE_SCHEMAS.signup}, ${MODULE_SCHEMAS.payment}`);
    return createInProcessPaymentGateway(tx);
  });
}

/**
 * Checkout with the payment module on the worker: the user's transaction stays open while the worker
 * charges in a transaction of its own; the user commits after a successful charge, rolls back otherwise.
 */
function createTwoTransactionCheckoutHandler(
  signupPool: pg.Pool,
  scrypt: ScryptCost,
  worker: PaymentWorkerClient,
): Handler {
  return createTransactionalCheckoutHandler(signupPool, scrypt, () => Promise.resolve(worker));
}

/** POST /pay forwarded to the worker: parsed here (the same validation), charged there. */
function createWorkerChargeHandler(worker: PaymentWorkerClient, version: ServiceVersion): Handler {
  return async (context) => {
    const body = parseChargeBody(await context.readJsonBody(), version);
    const idempotencyKey = parseIdempotencyKey(context.header(IDEMPOTENCY_KEY_HEADER), { required: true });
    const result = await worker.charge(
      { ...body, idempotencyKey },
      { deadline: context.deadline, signal: context.signal },
    );
    return { status: result.replayed ? 200 : 201, body: result };
  };
}

/** A dead or silent payment worker is the payment module being unavailable: 503 naming it as the cause. */
function answerWorkerDeath(handler: Handler): Handler {
  return async (context): Promise<JsonReply> => {
    try {
      return await handler(context);
    } catch (error) {
      if (!(error instanceof PaymentWorkerUnavailableError)) throw error;
      return {
        status: 503,
        body: { error: 'payment module unavailable', cause: 'payment_worker', detail: error.message },
      };
    }
  };
}

if (import.meta.main) await runMain('modular', () => startModular(modularConfigFromEnv()));
