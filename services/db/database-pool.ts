import pg from 'pg';
import type { Logger } from '../runtime/log.ts';

export interface DatabasePoolOptions {
  readonly url: string;
  readonly max: number;
  /** Bounds both waiting for a connection and a single query. */
  readonly timeoutMs: number;
  readonly log: Logger;
}

/**
 * A `pg` Pool that cannot crash the process: an idle connection dying during a database outage emits
 * 'error' on the pool, and an unhandled 'error' event would kill the service instead of failing requests.
 *
 * @example
 *   const pool = createDatabasePool({ url, max: 20, timeoutMs: 5000, log });
 */
export function createDatabasePool(options: DatabasePoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    connectionTimeoutMillis: options.timeoutMs,
    query_timeout: options.timeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'splitlab',
  });
  pool.on('error', (error) => {
    options.log.throttled('database_pool_error', { message: error.message });
  });
  return pool;
}
