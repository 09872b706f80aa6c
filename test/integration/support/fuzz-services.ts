import { spawn } from 'node:child_process';
import path from 'node:path';
import type pg from 'pg';
import { startEmbeddedPostgres } from '../../../lab/runtime/local/embedded-postgres.ts';
import { auditPool, count } from './services.ts';

// The three services as the lab runs them, `node services/<name>.ts` in processes of their own on a
// real PostgreSQL, with what the fuzz tests read after each batch: the tables, /healthz, /metrics'
// status counters, and every line the service logged about an error it did not expect.

const ROOT = path.resolve(import.meta.dirname, '../../..');

export type FuzzServiceName = 'monolith' | 'payment-service' | 'signup-service';

export interface FuzzService {
  readonly name: FuzzServiceName;
  readonly port: number;
  readonly pid: number;
  /** Whether the process is still running. */
  alive(): boolean;
  /**
   * Log lines about errors the service did not expect (`unexpected_error`, `dispatch_failed`): each is a
   * 500 or a dropped request, even one whose client had already gone and never saw it.
   */
  unexpectedErrors(): string[];
}

/** Row counts of the audited tables, keyed `database.table`. */
export type RowCounts = Readonly<Record<string, number>>;

export interface FuzzServices {
  readonly services: Readonly<Record<FuzzServiceName, FuzzService>>;
  /** A pool on each database: `monolith`, `signup`, `payment`. */
  readonly databases: Readonly<Record<'monolith' | 'signup' | 'payment', pg.Pool>>;
  rowCounts(): Promise<RowCounts>;
}

const AUDITED_TABLES = [
  ['monolith', 'users'],
  ['monolith', 'payments'],
  ['signup', 'users'],
  ['payment', 'payments'],
] as const;

/**
 * Starts PostgreSQL (databases monolith, signup, payment) and the three services as processes with
 * SCRYPT_N=1024 (a hash in about a millisecond instead of tens); all stopped when `stack` is disposed.
 *
 * @example
 *   const { services, rowCounts } = await startFuzzServices(stack);
 *   services.monolith.port; // e.g. 41234
 */
export async function startFuzzServices(stack: AsyncDisposableStack): Promise<FuzzServices> {
  const postgres = stack.use(await startEmbeddedPostgres(['monolith', 'signup', 'payment']));
  const common = { SCRYPT_N: '1024' };
  const [monolith, payment] = await Promise.all([
    startServiceProcess(stack, 'monolith', { ...common, DATABASE_URL: postgres.urlFor('monolith') }),
    startServiceProcess(stack, 'payment-service', { ...common, DATABASE_URL: postgres.urlFor('payment') }),
  ]);
  const signup = await startServiceProcess(stack, 'signup-service', {
    ...common,
    DATABASE_URL: postgres.urlFor('signup'),
    PAYMENT_URL: `http://127.0.0.1:${payment.port}`,
  });
  const databases = {
    monolith: auditPool(stack, postgres.urlFor('monolith')),
    signup: auditPool(stack, postgres.urlFor('signup')),
    payment: auditPool(stack, postgres.urlFor('payment')),
  };
  return {
    services: { monolith, 'payment-service': payment, 'signup-service': signup },
    databases,
    async rowCounts() {
      const counts: Record<string, number> = {};
      for (const [database, table] of AUDITED_TABLES) {
        counts[`${database}.${table}`] = await count(databases[database], table);
      }
      return counts;
    },
  };
}

async function startServiceProcess(
  stack: AsyncDisposableStack,
  name: FuzzServiceName,
  env: Record<string, string>,
): Promise<FuzzService> {
  const child = spawn(process.execPath, [`services/${name}.ts`], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  stack.defer(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(kill);
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 20 s: ${stderr}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = stdout.split('\n')[0];
      if (!stdout.includes('\n') || !line) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening: ${stderr}`));
    });
  });
  return {
    name,
    port,
    pid: child.pid ?? -1,
    alive: () => child.exitCode === null && child.signalCode === null,
    unexpectedErrors: () =>
      stderr.split('\n').filter((line) => /"event":"(unexpected_error|dispatch_failed)"/.test(line)),
  };
}
