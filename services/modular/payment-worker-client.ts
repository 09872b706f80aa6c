import { Worker } from 'node:worker_threads';
import { DeadlineExceededError, monotonicClock, remainingMs } from '../runtime/deadline.ts';
import type { Logger } from '../runtime/log.ts';
import type { CallOptions, ChargeRequest, ChargeResult, PaymentGateway } from '../payment/payment-gateway.ts';
import type {
  FromPaymentWorker,
  PaymentWorkerData,
  SerializedError,
  ToPaymentWorker,
} from './payment-worker-protocol.ts';

/** The payment worker is dead, restarting or silent: answered as 503 `cause: 'payment_worker'`. */
export class PaymentWorkerUnavailableError extends Error {
  readonly code = 'PAYMENT_WORKER_UNAVAILABLE';
  override name = 'PaymentWorkerUnavailableError';
}

/** The payment module behind a message port: a PaymentGateway, plus the worker's life cycle. */
export interface PaymentWorkerClient extends PaymentGateway {
  /** The worker's thread id, or undefined while none runs. */
  readonly threadId: () => number | undefined;
  /** Kills the worker as a crash would (tests): in-flight charges are answered 503, the next one restarts it. */
  crash(): Promise<void>;
  /** Asks the worker to stop, waits up to `graceMs`, then terminates it. */
  close(graceMs: number): Promise<void>;
}

export interface PaymentWorkerOptions extends PaymentWorkerData {
  readonly log: Logger;
  /**
   * How long a charge without a deadline may wait for the worker's answer. The worker's own work is
   * bounded by the database timeout; this bounds a worker whose event loop is stuck.
   */
  readonly replyTimeoutMs: number;
  /** Least time between two starts of the worker, so a worker that dies on start cannot spin. */
  readonly restartDelayMs: number;
}

interface PendingCharge {
  resolve(result: ChargeResult): void;
  reject(error: Error): void;
}

/** Extra time the main thread waits past a deadline for the worker's own 504, which is the better answer. */
const DEADLINE_GRACE_MS = 100;

/**
 * Starts the payment worker and returns the gateway that charges through it. The worker is restarted
 * when a charge comes after it died (at most once per `restartDelayMs`); until then charges fail fast.
 *
 * @example
 *   const payments = startPaymentWorker({ databaseUrl, poolMax: 20, databaseTimeoutMs: 5000, ... });
 *   await payments.charge({ userId, amountCents: 1999, idempotencyKey }, { deadline });
 */
export function startPaymentWorker(options: PaymentWorkerOptions): PaymentWorkerClient {
  const { log, replyTimeoutMs, restartDelayMs, ...data } = options;
  const pending = new Map<number, PendingCharge>();
  let nextId = 1;
  let worker: Worker | undefined;
  let startedAt = 0;
  let lastDeath = '';
  let closing = false;

  const failAll = (error: Error): void => {
    for (const charge of pending.values()) charge.reject(error);
    pending.clear();
  };

  const start = (): Worker => {
    startedAt = monotonicClock();
    const started = new Worker(new URL('./payment-worker.ts', import.meta.url), { workerData: data });
    started.on('message', (message: FromPaymentWorker) => {
      const charge = pending.get(message.id);
      if (!charge) return; // answered already (timed out on this side)
      pending.delete(message.id);
      if (message.type === 'charged') charge.resolve(message.result);
      else charge.reject(deserialize(message.error));
    });
    started.on('error', (error) => {
      lastDeath = error.message;
      log.info('payment_worker_error', { message: error.message });
    });
    started.once('exit', (exitCode) => {
      if (worker === started) worker = undefined;
      if (closing) return;
      lastDeath ||= `exit code ${exitCode}`;
      log.info('payment_worker_exit', { exitCode, reason: lastDeath });
      failAll(new PaymentWorkerUnavailableError(`the payment worker died (${lastDeath}) during the charge`));
    });
    return started;
  };

  const running = (): Worker => {
    if (worker) return worker;
    if (closing) throw new PaymentWorkerUnavailableError('the payment worker is shutting down');
    if (monotonicClock() - startedAt < restartDelayMs) {
      throw new PaymentWorkerUnavailableError(
        `the payment worker died (${lastDeath}) and is restarted at most once every ${restartDelayMs} ms`,
      );
    }
    lastDeath = '';
    worker = start();
    return worker;
  };

  worker = start();

  const charge = (request: ChargeRequest, call: CallOptions): Promise<ChargeResult> => {
    const target = running();
    const id = nextId++;
    const budgetMs = call.deadline === undefined ? undefined : remainingMs(call.deadline, monotonicClock());
    if (budgetMs === 0) return Promise.reject(new DeadlineExceededError('deadline exceeded before charging'));
    return new Promise<ChargeResult>((resolve, reject) => {
      const waitMs = budgetMs === undefined ? replyTimeoutMs : budgetMs + DEADLINE_GRACE_MS;
      const timer = setTimeout(() => {
        settle();
        target.postMessage({ type: 'cancel', id } satisfies ToPaymentWorker);
        reject(
          budgetMs === undefined
            ? new PaymentWorkerUnavailableError(`the payment worker did not answer within ${waitMs} ms`)
            : new DeadlineExceededError('deadline exceeded waiting for the payment worker'),
        );
      }, waitMs);
      const onAbort = (): void => target.postMessage({ type: 'cancel', id } satisfies ToPaymentWorker);
      call.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        pending.delete(id);
        clearTimeout(timer);
        call.signal?.removeEventListener('abort', onAbort);
      };
      pending.set(id, {
        resolve: (result) => (settle(), resolve(result)),
        reject: (error) => (settle(), reject(error)),
      });
      target.postMessage({ type: 'charge', id, request, budgetMs } satisfies ToPaymentWorker);
    });
  };

  return {
    charge,
    threadId: () => worker?.threadId,
    async crash() {
      await worker?.terminate();
    },
    async close(graceMs) {
      closing = true;
      const stopping = worker;
      if (!stopping) return;
      const exited = new Promise<void>((resolve) => stopping.once('exit', () => resolve()));
      stopping.postMessage({ type: 'stop' } satisfies ToPaymentWorker);
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (late) await stopping.terminate();
      failAll(new PaymentWorkerUnavailableError('the payment worker was stopped'));
    },
  };
}

/** A plain Error carrying the worker's `code` and `field`, so errorReply answers as the worker would have. */
function deserialize(serialized: SerializedError): Error {
  return Object.assign(new Error(serialized.message), {
    ...(serialized.code === undefined ? {} : { code: serialized.code }),
    ...(serialized.field === undefined ? {} : { field: serialized.field }),
  });
}
