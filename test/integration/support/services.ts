import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { startEmbeddedPostgres, type StartedPostgres } from '../../../lab/runtime/local/embedded-postgres.ts';
import type { MetricsSnapshot } from '../../../services/metrics/service-metrics.ts';
import { startPaymentService } from '../../../services/payment-service.ts';

// Helpers shared by the services-*.test.ts integration tests: real services, real PostgreSQL, and the
// stand-ins and direct table reads the tests use to check what happened.

/**
 * A pool for reading the tables directly, ended when `stack` is disposed. pool.end() resolves before its
 * connections have said goodbye, so PostgreSQL stopping right after can still raise 'error' on them;
 * without a handler that would crash the run.
 */
export function auditPool(stack: AsyncDisposableStack, connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 2 });
  pool.on('error', () => undefined);
  stack.defer(() => pool.end());
  return pool;
}

/** `SELECT count(*) FROM <sql>`: the rows of a table, or of `table WHERE …` with `values` for $1, $2, … */
export async function count(pool: pg.Pool, sql: string, values: unknown[] = []): Promise<number> {
  const result = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, values);
  return result.rows[0]?.n ?? -1;
}

export interface PaymentBackend {
  /** PostgreSQL with the `signup` and `payment` databases. */
  readonly postgres: StartedPostgres;
  readonly paymentUrl: string;
  readonly paymentPort: number;
}

/** What split's signup-service calls: PostgreSQL and a payment-service on it, both stopped with `stack`. */
export async function startPaymentBackend(stack: AsyncDisposableStack): Promise<PaymentBackend> {
  const postgres = stack.use(await startEmbeddedPostgres(['signup', 'payment']));
  const payment = stack.use(await startPaymentService({ databaseUrl: postgres.urlFor('payment') }));
  return { postgres, paymentUrl: payment.url, paymentPort: payment.port };
}

export interface JsonAnswer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

export interface Answer extends JsonAnswer {
  readonly elapsedMs: number;
}

/** POSTs `body` as JSON and reads the answer as JSON. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** {@link postJson}, timed from sending the request to having read the whole answer. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const startedAt = performance.now();
  const { status, json } = await postJson(url, body, headers);
  return { status, json, elapsedMs: performance.now() - startedAt };
}

export async function metricsOf(url: string): Promise<MetricsSnapshot> {
  return (await (await fetch(`${url}/metrics.json`)).json()) as MetricsSnapshot;
}

/** A stand-in on a loopback port (a given one, or any), closed with its connections when the test ends. */
export async function listen(
  server: net.Server,
  port = 0,
): Promise<{ port: number; url: string } & AsyncDisposable> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    async [Symbol.asyncDispose]() {
      const closed = new Promise((resolve) => server.close(resolve));
      if (server instanceof http.Server) server.closeAllConnections();
      await closed;
    },
  };
}

export async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The headers a proxy in front of payment-service passes on: body type, idempotency key and budget. */
export function forwardedHeaders(request: http.IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'idempotency-key', 'x-deadline-ms']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
