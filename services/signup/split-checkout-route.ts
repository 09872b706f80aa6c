import type { LookupFunction } from 'node:net';
import type pg from 'pg';
import type { TableName } from '../db/schema.ts';
import type { RequestContext } from '../http/request-context.ts';
import type { Handler } from '../http/router.ts';
import { createRecountedGauge } from '../metrics/recounted-gauge.ts';
import type { ServiceMetrics } from '../metrics/service-metrics.ts';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from '../payment/charge-request.ts';
import { createHttpChargeLookup } from '../payment/http-charge-lookup.ts';
import type { PaymentGateway } from '../payment/payment-gateway.ts';
import { SERVICE_DEFAULTS } from '../runtime/service-defaults.ts';
import type { Logger } from '../runtime/log.ts';
import { startPeriodicTask } from '../runtime/periodic-task.ts';
import { checkout, type CheckoutInput } from './checkout.ts';
import type { CheckoutConsistency } from './consistency-strategy.ts';
import { createCheckoutsInFlight } from './checkouts-in-flight.ts';
import { createOutboxCheckout } from './outbox-checkout.ts';
import { relayOutbox } from './outbox-relay.ts';
import { hashPassword, type ScryptCost } from './password-hash.ts';
import { createSagaCheckout } from './saga-checkout.ts';
import { reconcilePendingCheckouts } from './saga-reconciler.ts';
import type { SignupServiceConfig } from './signup-service-config.ts';
import { parseCheckoutRequest } from './signup-request.ts';
import { insertUser } from './user-store.ts';

/** Each strategy's tables in signup's database, in creation order (the marks reference users). */
export const CHECKOUT_TABLES = {
  none: ['users'],
  saga: ['users', 'pending_checkouts'],
  outbox: ['users', 'outbox'],
} as const satisfies Record<CheckoutConsistency, readonly TableName[]>;

/** What a checkout strategy may use; all of it is owned, and closed, by signup-service. */
export interface CheckoutMountContext {
  readonly config: SignupServiceConfig;
  readonly pool: pg.Pool;
  readonly scrypt: ScryptCost;
  readonly metrics: ServiceMetrics;
  readonly log: Logger;
  readonly gateway: PaymentGateway;
  readonly lookup: LookupFunction | undefined;
}

export interface MountedCheckout {
  readonly handler: Handler;
  /** Stops the strategy's background loop, if it has one. */
  close(): Promise<void>;
  outboxPending(): number;
  sagaPending(): number;
}

/**
 * POST /checkout of split's signup-service for one CHECKOUT_CONSISTENCY strategy, with the background
 * loop that strategy needs (the saga's reconciler, the outbox's relay), already running.
 *
 * @example
 *   const checkoutRoute = mountCheckout('saga', { config, pool, scrypt, metrics, log, gateway, lookup });
 *   routes.push({ method: 'POST', path: '/checkout', handler: checkoutRoute.handler });
 *   // on shutdown: await checkoutRoute.close();
 */
export function mountCheckout(
  consistency: CheckoutConsistency,
  context: CheckoutMountContext,
): MountedCheckout {
  const { config, pool, scrypt, metrics, log, gateway } = context;
  const nothingPending = (): number => 0;
  if (consistency === 'none') {
    return {
      handler: createSplitCheckoutHandler(pool, scrypt, gateway),
      close: async () => {},
      outboxPending: nothingPending,
      sagaPending: nothingPending,
    };
  }

  if (consistency === 'outbox') {
    const pending = createRecountedGauge();
    const outboxCheckout = createOutboxCheckout({ pool, pending });
    const relay = startPeriodicTask({
      name: 'outbox_relay',
      intervalMs: config.outboxRelayIntervalMs ?? SERVICE_DEFAULTS.outboxRelayIntervalMs,
      log,
      run: (signal) =>
        relayOutbox(
          {
            pool,
            payments: gateway,
            pending,
            observer: metrics,
            batchSize: SERVICE_DEFAULTS.consistencyBatchSize,
            concurrency: relayConcurrency(config),
          },
          signal,
        ),
    });
    return {
      handler: async (request) => {
        const input = await readCheckoutInput(request, scrypt);
        const result = await outboxCheckout(input, { deadline: request.deadline, signal: request.signal });
        return { status: 202, body: result };
      },
      close: () => relay.stop(),
      outboxPending: () => pending.value(),
      sagaPending: nothingPending,
    };
  }

  const pending = createRecountedGauge();
  const inFlight = createCheckoutsInFlight();
  const charges = createHttpChargeLookup({
    baseUrl: config.paymentUrl,
    timeoutMs: SERVICE_DEFAULTS.sagaLookupTimeoutMs,
    lookup: context.lookup,
  });
  const sagaCheckout = createSagaCheckout({
    pool,
    payments: gateway,
    inFlight,
    pending,
    observer: metrics,
    log,
    graceMs: SERVICE_DEFAULTS.sagaReconcileGraceMs,
  });
  const reconciler = startPeriodicTask({
    name: 'saga_reconciler',
    intervalMs: config.sagaReconcileIntervalMs ?? SERVICE_DEFAULTS.sagaReconcileIntervalMs,
    log,
    run: (signal) =>
      reconcilePendingCheckouts(
        {
          pool,
          chargesForUser: (userId, lookupSignal) => charges.chargesForUser(userId, lookupSignal),
          inFlight,
          pending,
          observer: metrics,
          log,
          batchSize: SERVICE_DEFAULTS.consistencyBatchSize,
        },
        signal,
      ),
  });
  return {
    handler: async (request) => {
      const input = await readCheckoutInput(request, scrypt);
      const result = await sagaCheckout(input, { deadline: request.deadline, signal: request.signal });
      return { status: 201, body: result };
    },
    close: async () => {
      await reconciler.stop();
      await charges.close();
    },
    outboxPending: nothingPending,
    sagaPending: () => pending.value(),
  };
}

/** Checkout across two services, CHECKOUT_CONSISTENCY=none: the user commits here, then payment is called. */
function createSplitCheckoutHandler(pool: pg.Pool, scrypt: ScryptCost, payments: PaymentGateway): Handler {
  return async (context) => {
    const input = await readCheckoutInput(context, scrypt);
    const result = await checkout(
      input,
      { createUser: (user) => insertUser(pool, user), payments },
      { deadline: context.deadline, signal: context.signal },
    );
    return { status: 201, body: result };
  };
}

/** Validates the body and the optional Idempotency-Key, then hashes: the CPU before any connection. */
async function readCheckoutInput(context: RequestContext, scrypt: ScryptCost): Promise<CheckoutInput> {
  const request = parseCheckoutRequest(await context.readJsonBody());
  const idempotencyKey = parseIdempotencyKey(context.header(IDEMPOTENCY_KEY_HEADER), { required: false });
  const passwordHash = await hashPassword(request.password, scrypt);
  return { email: request.email, passwordHash, amountCents: request.amountCents, idempotencyKey };
}

/**
 * Never more relay charges at once than the bulkhead admits: the relay would only refuse its own calls
 * (bulkhead_full) and, taking that for an unreachable payment-service, end its rounds early.
 */
function relayConcurrency(config: SignupServiceConfig): number {
  const concurrency = SERVICE_DEFAULTS.outboxRelayConcurrency;
  if ((config.paymentPolicy ?? SERVICE_DEFAULTS.paymentPolicy) !== 'bulkhead') return concurrency;
  const admitted =
    (config.paymentBulkheadLimit ?? SERVICE_DEFAULTS.paymentBulkheadLimit) +
    (config.paymentBulkheadQueue ?? SERVICE_DEFAULTS.paymentBulkheadQueue);
  return Math.min(concurrency, admitted);
}
