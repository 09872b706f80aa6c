import type { MetricsSnapshot } from '../../services/metrics/service-metrics.ts';
import type { ServiceEndpoint } from '../runtime/runtime.ts';
import { snapshotUrl } from './metrics-scraper.ts';

/** The part of a service's /metrics.json that counts work still in progress (only signup-service has it). */
type PendingWork = Pick<MetricsSnapshot, 'outboxPending' | 'sagaPending'>;

export interface SettleResult {
  waitedMs: number;
  /** Outbox rows and saga checkouts still unresolved when the wait ended (0 when it drained). */
  stillPending: number;
}

async function pendingWork(services: readonly ServiceEndpoint[]): Promise<number | undefined> {
  let total = 0;
  for (const service of services) {
    try {
      const response = await fetch(snapshotUrl(service.metricsUrl), { signal: AbortSignal.timeout(1000) });
      const metrics = (await response.json()) as PendingWork;
      total += (metrics.outboxPending ?? 0) + (metrics.sagaPending ?? 0);
    } catch {
      return undefined; // a service that cannot answer has not settled
    }
  }
  return total;
}

/**
 * After the load stops, waits until no service reports work still in progress (an outbox relay with
 * undelivered rows, saga checkouts awaiting reconciliation), at most `timeoutMs`, so the audit reads a
 * system that has converged, or says that it did not.
 *
 * @example
 *   const { waitedMs, stillPending } = await waitUntilSettled(deployment.services, { minimumMs: 1000, timeoutMs: 30_000 });
 */
export async function waitUntilSettled(
  services: readonly ServiceEndpoint[],
  options: { minimumMs: number; timeoutMs: number; signal?: AbortSignal },
): Promise<SettleResult> {
  const started = performance.now();
  let pending: number | undefined;
  for (;;) {
    const elapsed = performance.now() - started;
    pending = await pendingWork(services);
    if (elapsed >= options.minimumMs && pending === 0) break;
    if (elapsed >= options.timeoutMs || options.signal?.aborted) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { waitedMs: Math.round(performance.now() - started), stillPending: pending ?? -1 };
}
