import { spawn, type ChildProcess } from 'node:child_process';
import { LabError } from '../errors.ts';

export interface StartedProcess extends AsyncDisposable {
  readonly name: string;
  readonly pid: number;
  /** The last lines the process wrote, for error messages. */
  outputTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: a crash, no goodbye. */
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
}

export interface StartProcessOptions<T> {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Resolves the start when a line of stdout/stderr makes this return a value other than undefined. */
  readyWhen: (line: string) => T | undefined;
  timeoutMs: number;
}

/**
 * Spawns a child process and waits until one of its output lines says it is ready. The error names
 * the process, the limit hit and the last lines it printed.
 *
 * @example
 *   const proc = await startProcess({ name: 'toxiproxy', command: bin, args: [], readyWhen: (l) => l.includes('API'), timeoutMs: 5000 });
 */
export async function startProcess<T>(
  options: StartProcessOptions<T>,
): Promise<{ process: StartedProcess; ready: T }> {
  const child: ChildProcess = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopping: Promise<void> | undefined;

  const started: StartedProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    outputTail: () => tail.join('\n'),
    exited,
    stop: (graceMs = 3000) => {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    [Symbol.asyncDispose]: () => started.stop(),
  };

  const ready = await new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      action();
    };
    const onLine = (line: string): void => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (settled) return;
      const value = options.readyWhen(line);
      if (value !== undefined) settle(() => resolve(value as T));
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          onLine(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
        }
      });
    }
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            new LabError(
              'STARTUP_TIMEOUT',
              `${options.name} did not report ready within ${options.timeoutMs} ms. Last output:\n${tail.join('\n')}`,
            ),
          ),
        ),
      options.timeoutMs,
    );
    child.once('error', (error) =>
      settle(() =>
        reject(new LabError('PROCESS_EXITED', `${options.name} could not start: ${error.message}`)),
      ),
    );
    void exited.then((code) =>
      settle(() =>
        reject(
          new LabError(
            'PROCESS_EXITED',
            `${options.name} exited with code ${code} before it was ready. Last output:\n${tail.join('\n')}`,
          ),
        ),
      ),
    );
  }).catch(async (error: unknown) => {
    await started.stop(500);
    throw error;
  });
  return { process: started, ready };
}
