/**
 * The payment module on its own worker thread (PAYMENT_MODULE=worker): its own event loop and its own
 * connection pool on the `payment` schema; it answers charge messages from the main thread. Started by
 * payment-worker-client.ts, never on its own.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createDatabasePool } from '../db/database-pool.ts';
import { withTransaction } from '../db/with-transaction.ts';
import { ClientClosedRequestError } from '../http/http-errors.ts';
import { createInProcessPaymentGateway } from '../payment/in-process-payment-gateway.ts';
import { createLogger } from '../runtime/log.ts';
import type {
  FromPaymentWorker,
  PaymentWorkerData,
  SerializedError,
  ToPaymentWorker,
} from './payment-worker-protocol.ts';

const port = parentPort;
if (!port)
  throw new Error('payment-worker.ts runs as a worker thread; start it through payment-worker-client.ts');
const data = workerData as PaymentWorkerData;
const log = createLogger(`${data.serviceName} (payment worker)`);
const pool = createDatabasePool({
  url: data.databaseUrl,
  max: data.poolMax,
  timeoutMs: data.databaseTimeoutMs,
  log,
});
const inFlight = new Map<number, AbortController>();

port.on('message', (message: ToPaymentWorker) => {
  if (message.type === 'cancel') {
    inFlight.get(message.id)?.abort();
    return;
  }
  if (message.type === 'stop') {
    stop();
    return;
  }
  const controller = new AbortController();
  inFlight.set(message.id, controller);
  const deadline = message.budgetMs === undefined ? undefined : performance.now() + message.budgetMs;
  const call = { deadline, signal: controller.signal };
  withTransaction(pool, (tx) => createInProcessPaymentGateway(tx).charge(message.request, call), call)
    .then(
      (result): FromPaymentWorker => ({ type: 'charged', id: message.id, result }),
      (error: unknown): FromPaymentWorker => ({ type: 'failed', id: message.id, error: serialize(error) }),
    )
    .then((reply) => {
      inFlight.delete(message.id);
      port.postMessage(reply);
    });
});

/** The main thread has stopped sending requests: abandon what is left, end the pool, let the thread exit. */
function stop(): void {
  for (const controller of inFlight.values()) controller.abort(new ClientClosedRequestError('shutting down'));
  pool
    .end()
    .catch(() => undefined)
    .finally(() => port?.close());
}

function serialize(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code, field } = error as { code?: unknown; field?: unknown };
  return {
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof field === 'string' ? { field } : {}),
  };
}
