import type pg from 'pg';
import { withTransaction } from '../db/with-transaction.ts';
import type { RecountedGauge } from '../metrics/recounted-gauge.ts';
import type { PaymentGateway } from '../payment/payment-gateway.ts';
import { classifyUpstreamFailure, UpstreamError, type UpstreamFailure } from '../payment/upstream-failure.ts';
import type { CheckoutConsistencyObserver } from './consistency-strategy.ts';
import { claimUndelivered, countUndelivered, recordDeliveries, type OutboxRow } from './outbox-store.ts';

export interface OutboxRelayDependencies {
  readonly pool: pg.Pool;
  /**
   * Must send each row's own key on every attempt (PAYMENT_IDEMPOTENCY=on, whatever the service is
   * configured with): the relay re-sends whatever it is not sure about, and only the key makes that safe.
   */
  readonly payments: PaymentGateway;
  /** The `outboxPending` gauge. */
  readonly pending: RecountedGauge;
  readonly observer: CheckoutConsistencyObserver;
  readonly batchSize: number;
  /** Charges in flight at once. */
  readonly concurrency: number;
}

type Delivery =
  | { readonly row: OutboxRow; readonly paymentId: string }
  | { readonly row: OutboxRow; readonly failure: UpstreamFailure };

/**
 * One relay round: lock the oldest undelivered rows (FOR UPDATE SKIP LOCKED), charge each with its stored
 * Idempotency-Key, and in the same transaction mark the answered ones delivered (a replay counts: the
 * charge exists) and count an attempt on the others, which stay for the next round. If that transaction
 * cannot commit, nothing is marked and every row is sent again, which the key turns into a replay: the
 * relay delivers at least once, payment-service's ledger makes it exactly once.
 *
 * After the first failure that says payment-service is out of reach, the round starts no more charges:
 * the rest would fail the same way, each after a full deadline. A 4xx is that row's own problem; the
 * round goes on. Resolves `true` when a full batch went through and more rows may be waiting.
 *
 * @example
 *   const relay = startPeriodicTask({ name: 'outbox_relay', intervalMs: 200, log,
 *     run: (signal) => relayOutbox(dependencies, signal) });
 */
export async function relayOutbox(
  dependencies: OutboxRelayDependencies,
  signal: AbortSignal,
): Promise<boolean> {
  const { pool, pending } = dependencies;
  await pending.recount(() => countUndelivered(pool));
  // An idle outbox costs one COUNT per round, not a transaction.
  if (pending.value() === 0) return false;
  const deliveries = await withTransaction(pool, async (tx) => {
    const rows = await claimUndelivered(tx, dependencies.batchSize);
    const done = await chargeRows(rows, dependencies, signal);
    await recordDeliveries(
      tx,
      done.flatMap((delivery) =>
        'paymentId' in delivery ? [{ id: delivery.row.id, paymentId: delivery.paymentId }] : [],
      ),
      done.flatMap((delivery) =>
        'failure' in delivery ? [{ id: delivery.row.id, error: describe(delivery.failure) }] : [],
      ),
    );
    return { claimed: rows.length, done };
  });
  const delivered = deliveries.done.filter((delivery) => 'paymentId' in delivery).length;
  if (delivered > 0) {
    pending.removed(delivered);
    dependencies.observer.outboxDelivered(delivered);
  }
  return deliveries.claimed === dependencies.batchSize && delivered === deliveries.claimed;
}

async function chargeRows(
  rows: readonly OutboxRow[],
  dependencies: OutboxRelayDependencies,
  signal: AbortSignal,
): Promise<Delivery[]> {
  const done: Delivery[] = [];
  let next = 0;
  let unreachable = false;
  const worker = async (): Promise<void> => {
    while (!unreachable && !signal.aborted && next < rows.length) {
      const row = rows[next++] as OutboxRow;
      try {
        const { paymentId } = await dependencies.payments.charge(
          { userId: row.userId, amountCents: row.amountCents, idempotencyKey: row.idempotencyKey },
          { signal },
        );
        done.push({ row, paymentId });
      } catch (error) {
        const failure = error instanceof UpstreamError ? error.failure : classifyUpstreamFailure(error);
        done.push({ row, failure });
        if (!(failure.cause === 'upstream_status' && (failure.status ?? 500) < 500)) unreachable = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(dependencies.concurrency, rows.length) }, worker));
  return done;
}

function describe(failure: UpstreamFailure): string {
  const text = `${failure.cause}${failure.status === undefined ? '' : ` ${failure.status}`}: ${failure.detail}`;
  return text.slice(0, 300);
}
