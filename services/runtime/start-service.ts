import type pg from 'pg';
import { createDatabasePool } from '../db/database-pool.ts';
import { asDatabaseError } from '../db/database-errors.ts';
import { ensureSchema, type TableName } from '../db/schema.ts';
import { startHttpServer, type RunningHttpServer } from '../http/http-server.ts';
import type { Route } from '../http/router.ts';
import {
  createServiceMetrics,
  type CheckoutConsistencySnapshot,
  type OutboundPolicySnapshot,
  type ServiceMetrics,
} from '../metrics/service-metrics.ts';
import { METRICS_PATHS, metricsRoutes } from '../metrics/metrics-routes.ts';
import type { ScryptCost } from '../signup/password-hash.ts';
import type { CommonServiceConfig } from './config.ts';
import { SERVICE_DEFAULTS } from './service-defaults.ts';
import type { ServiceVersion } from './service-version.ts';
import { createLogger, type Logger } from './log.ts';

/** A running service. `close()` is safe to call twice; `await using` calls it for you. */
export interface StartedService extends AsyncDisposable {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, ready for a client. */
  readonly url: string;
  close(): Promise<void>;
}

/** What a role's routes may use; everything here is owned and closed by startService. */
export interface ServiceDependencies {
  readonly name: string;
  readonly pool: pg.Pool;
  readonly metrics: ServiceMetrics;
  readonly log: Logger;
  readonly scrypt: ScryptCost;
  /** The contract this service speaks (SERVICE_VERSION); see service-version.ts. */
  readonly version: ServiceVersion;
}

export interface MountedRoutes {
  readonly routes: readonly Route[];
  /** Releases what the routes created themselves (an outbound HTTP agent, a background loop). */
  readonly close?: () => Promise<void>;
  /** For a service that calls another: its resilience policy and circuit state, read at each scrape. */
  readonly describeOutbound?: () => OutboundPolicySnapshot;
  /** For signup-service: its checkout consistency strategy and pending work, read at each scrape. */
  readonly describeConsistency?: () => CheckoutConsistencySnapshot;
}

export interface ServiceSpec {
  readonly role: string;
  readonly config: CommonServiceConfig;
  readonly tables: readonly TableName[];
  mount(dependencies: ServiceDependencies): MountedRoutes;
}

/**
 * Starts one service: database pool and schema (retried for the start-up budget), the role's routes plus
 * GET /healthz (`{ status: 'ok', version }`: a deploy reads the version back), GET /metrics (Prometheus
 * text) and GET /metrics.json (the lab's JSON snapshot), and the HTTP listener. `close()` drains first:
 * see RunningHttpServer.close and DRAIN_MS.
 *
 * @example
 *   await using service = await startService({ role: 'monolith', config, tables: ['users'], mount });
 */
export async function startService(spec: ServiceSpec): Promise<StartedService> {
  const { config } = spec;
  const name = config.serviceName ?? spec.role;
  const log = createLogger(name);
  const pool = createDatabasePool({
    url: config.databaseUrl,
    max: SERVICE_DEFAULTS.poolMax,
    timeoutMs: config.databaseTimeoutMs ?? SERVICE_DEFAULTS.databaseTimeoutMs,
    log,
  });
  try {
    await ensureSchema(pool, spec.tables, {
      databaseUrl: config.databaseUrl,
      timeoutMs: config.startupTimeoutMs ?? SERVICE_DEFAULTS.startupTimeoutMs,
    });
  } catch (error) {
    await endPool(pool);
    throw error;
  }

  const metrics = createServiceMetrics(name, SERVICE_DEFAULTS.eventLoopResolutionMs);
  const scrypt = { ...SERVICE_DEFAULTS.scrypt, N: config.scryptN ?? SERVICE_DEFAULTS.scrypt.N };
  const version = config.version ?? SERVICE_DEFAULTS.version;
  const mounted = spec.mount({ name, pool, metrics, log, scrypt, version });
  const observability: Route[] = [
    {
      method: 'GET',
      path: '/healthz',
      handler: async () => {
        try {
          await pool.query('select 1');
          return { status: 200, body: { status: 'ok', version } };
        } catch (error) {
          const detail = asDatabaseError(error, 'select 1').message;
          return {
            status: 503,
            body: {
              status: 'unavailable',
              version,
              error: 'database unavailable',
              cause: 'database',
              detail,
            },
          };
        }
      },
    },
    ...metricsRoutes(metrics, () => ({
      version,
      databasePool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
      ...mounted.describeOutbound?.(),
      ...mounted.describeConsistency?.(),
    })),
  ];

  const host = config.host ?? SERVICE_DEFAULTS.host;
  let server: RunningHttpServer;
  try {
    server = await startHttpServer({
      host,
      port: config.port ?? SERVICE_DEFAULTS.port,
      routes: [...mounted.routes, ...observability],
      metrics,
      log,
      bodyLimitBytes: SERVICE_DEFAULTS.bodyLimitBytes,
      unobservedPaths: new Set(['/healthz', ...METRICS_PATHS]),
    });
  } catch (error) {
    await mounted.close?.();
    await endPool(pool);
    metrics.stop();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    // Order matters: stop taking requests, let in-flight ones finish, then drop what they were using.
    closing ??= (async () => {
      await server.close(config.drainMs ?? SERVICE_DEFAULTS.drainMs);
      await mounted.close?.();
      await endPool(pool);
      metrics.stop();
    })();
    return closing;
  };
  return {
    name,
    host,
    port: server.port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** pool.end() waits for checked-out connections; one stuck behind a partition may never come back. */
export async function endPool(pool: pg.Pool): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    pool.end().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SERVICE_DEFAULTS.shutdownGraceMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
