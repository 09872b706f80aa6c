import type { ChargeRequest, ChargeResult } from '../payment/payment-gateway.ts';

/** What the main thread gives the payment worker when it starts it. */
export interface PaymentWorkerData {
  /** The payment module's database URL, already limited to its schema (see module-schemas.ts). */
  readonly databaseUrl: string;
  readonly poolMax: number;
  readonly databaseTimeoutMs: number;
  readonly serviceName: string;
}

/**
 * Messages to the worker. A deadline travels as a budget in milliseconds, as X-Deadline-Ms does between
 * processes: a worker thread's `performance.now()` counts from its own start, not the process's.
 */
export type ToPaymentWorker =
  | {
      readonly type: 'charge';
      readonly id: number;
      readonly request: ChargeRequest;
      readonly budgetMs?: number;
    }
  | { readonly type: 'cancel'; readonly id: number }
  /** Finish nothing new, end the pool, let the thread exit. */
  | { readonly type: 'stop' };

/** An error crosses the thread boundary as its stable `code` and fields; errorReply keys on exactly those. */
export interface SerializedError {
  readonly message: string;
  readonly code?: string;
  readonly field?: string;
}

export type FromPaymentWorker =
  | { readonly type: 'charged'; readonly id: number; readonly result: ChargeResult }
  | { readonly type: 'failed'; readonly id: number; readonly error: SerializedError };
