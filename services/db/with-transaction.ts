import { ATTR_DB_SYSTEM_NAME } from '@opentelemetry/semantic-conventions';
import type pg from 'pg';
import { ClientClosedRequestError } from '../http/http-errors.ts';
import {
  DeadlineExceededError,
  assertBeforeDeadline,
  monotonicClock,
  remainingMs,
  type Clock,
} from '../runtime/deadline.ts';
import { inSpan } from '../tracing/spans.ts';
import { asDatabaseError } from './database-errors.ts';
import type { Queryable } from './queryable.ts';

export interface TransactionOptions {
  /** Absolute monotonic deadline; when it passes the transaction is abandoned, never committed. */
  readonly deadline?: number | undefined;
  /** Aborts when the caller is gone (the client closed its connection): no point in committing then. */
  readonly signal?: AbortSignal | undefined;
  readonly clock?: Clock;
}

/**
 * Runs `work` between BEGIN and COMMIT on one pooled connection.
 *
 * The deadline and the signal are raced against every step. When either fires mid-query the connection
 * is destroyed rather than returned to the pool, which makes PostgreSQL roll the transaction back; the
 * deadline is checked once more right before COMMIT so a late request writes nothing.
 *
 * @example
 *   const paymentId = await withTransaction(pool, async (tx) => recordCharge(tx, request), { deadline });
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (tx: Queryable) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const clock = options.clock ?? monotonicClock;
  // The span covers the wait for a pooled connection too: under load that wait is the story.
  return await inSpan(
    'db transaction',
    async () => {
      const stop = watchForStop(options, clock);
      try {
        stop.check('connecting to the database');
        const client = await acquire(pool, stop);
        return await runOnClient(client, work, stop);
      } finally {
        stop.dispose();
      }
    },
    { attributes: { [ATTR_DB_SYSTEM_NAME]: 'postgresql' } },
  );
}

interface StopWatch {
  /** Rejects with `reason` once the deadline passes or the signal aborts; never resolves. */
  readonly stopped: Promise<never>;
  readonly reason: () => Error | undefined;
  check(stage: string): void;
  race<T>(work: Promise<T>): Promise<T>;
  dispose(): void;
}

function watchForStop(options: TransactionOptions, clock: Clock): StopWatch {
  let reason: Error | undefined;
  let reject: (error: Error) => void = () => undefined;
  const stopped = new Promise<never>((_resolve, rejectStopped) => {
    reject = rejectStopped;
  });
  stopped.catch(() => undefined);
  const fire = (error: Error): void => {
    reason ??= error;
    reject(reason);
  };
  const timer =
    options.deadline === undefined
      ? undefined
      : setTimeout(
          () => fire(new DeadlineExceededError('deadline exceeded during the database transaction')),
          remainingMs(options.deadline, clock()),
        );
  const onAbort = (): void => fire(new ClientClosedRequestError('client closed the request'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    stopped,
    reason: () => reason,
    check(stage) {
      if (options.signal?.aborted) fire(new ClientClosedRequestError('client closed the request'));
      if (reason) throw reason;
      assertBeforeDeadline(options.deadline, clock(), stage);
    },
    race(work) {
      work.catch(() => undefined);
      return Promise.race([work, stopped]);
    },
    dispose() {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    },
  };
}

async function acquire(pool: pg.Pool, stop: StopWatch): Promise<pg.PoolClient> {
  const connecting = pool.connect();
  try {
    return await stop.race(connecting);
  } catch (error) {
    // If we stopped waiting, the connection may still arrive later: hand it straight back.
    connecting.then(
      (late) => late.release(),
      () => undefined,
    );
    throw asDatabaseError(error, 'connecting to the database');
  }
}

async function runOnClient<T>(
  client: pg.PoolClient,
  work: (tx: Queryable) => Promise<T>,
  stop: StopWatch,
): Promise<T> {
  let broken = false;
  let pending = 0;
  const onBroken = (): void => {
    broken = true;
  };
  client.on('error', onBroken);
  client.on('end', onBroken);
  const tx: Queryable = {
    query: (text, values) => {
      pending += 1;
      const result = client.query(text, values);
      result.then(
        () => (pending -= 1),
        () => (pending -= 1),
      );
      return result;
    },
  };
  let destroyWith: Error | undefined;
  try {
    await stop.race(tx.query('BEGIN'));
    const result = await stop.race(work(tx));
    stop.check('commit');
    await stop.race(tx.query('COMMIT'));
    return result;
  } catch (error) {
    const usable =
      !broken && pending === 0 && error !== stop.reason() && !hasMessage(error, 'Query read timeout');
    if (usable) {
      try {
        await stop.race(tx.query('ROLLBACK'));
      } catch (rollbackError) {
        destroyWith = asDatabaseError(rollbackError, 'rollback');
      }
    } else {
      destroyWith = error instanceof Error ? error : new Error(String(error));
    }
    throw asDatabaseError(error, 'database transaction');
  } finally {
    client.off('error', onBroken);
    client.off('end', onBroken);
    // A truthy argument makes the pool close this connection instead of reusing it in an unknown state.
    client.release(
      destroyWith ?? (broken ? new Error('connection broke during the transaction') : undefined),
    );
  }
}

function hasMessage(error: unknown, message: string): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (current.message === message) return true;
    current = current.cause;
  }
  return false;
}
