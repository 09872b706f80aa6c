/**
 * A trivial HTTP endpoint for the benchmark: node:http on 127.0.0.1, every request answered 200 with a
 * two-byte body once its body has been read. It runs in a child process (child_process.fork of this
 * file), so its CPU is not the event loop of the load generator being measured.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LabError } from '../errors.ts';

export interface TrivialEndpoint extends AsyncDisposable {
  /** `http://127.0.0.1:<port>/`: any path and method answers 200. */
  readonly url: string;
  readonly pid: number;
  /** How it runs, for the benchmark's output. */
  readonly describe: string;
  stop(): Promise<void>;
}

interface ListeningMessage {
  listening: number;
}

/** The child's side: serve until the parent goes away (its IPC channel closes, even on kill -9). */
function serve(): void {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  server.keepAliveTimeout = 10_000;
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ listening: (server.address() as AddressInfo).port } satisfies ListeningMessage);
  });
  process.on('disconnect', () => process.exit(0));
}

/**
 * Forks the endpoint and waits until it listens.
 *
 * @example
 *   await using endpoint = await startTrivialEndpoint();
 *   await fetch(endpoint.url, { method: 'POST', body: '{}' }); // 200 {}
 */
export async function startTrivialEndpoint(timeoutMs = 10_000): Promise<TrivialEndpoint> {
  const child = fork(import.meta.filename, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new LabError('STARTUP_TIMEOUT', `the benchmark endpoint did not listen within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as ListeningMessage).listening);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new LabError('PROCESS_EXITED', `the benchmark endpoint exited (code ${code}) before it listened`),
      );
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return {
    url: `http://127.0.0.1:${port}/`,
    pid: child.pid ?? -1,
    describe: `node:http in a child process (child_process.fork, pid ${child.pid})`,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

if (process.argv[1] === import.meta.filename && process.argv.includes('--serve')) serve();
