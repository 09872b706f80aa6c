import { spawn, type ChildProcess } from 'node:child_process';
import { LabError } from '../errors.ts';

export interface StartedProcess extends AsyncDisposable {
  readonly name: string;
  readonly pid: number;
  /** The last lines the process wrote, for error messages. */
  outputTail(): string;
  /** The stop signal (SIGTERM unless told), then SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: a crash, no goodbye. */
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
  /** How it ended, in words (`was killed by SIGKILL`, `exited with code 1`), once it has. */
  readonly ended: Promise<string>;
  /** Whether the process is still there: not exited, and its pid answers signal 0. */
  isRunning(): boolean;
}

/**
 * Kills a process group when the lab dies, even on `kill -9` of the lab (the local runtime's lifeline):
 * a child given one is started in its own process group, so signals meant for the lab's group (Ctrl-C,
 * `timeout`) reach only the lab, which then stops its children in order.
 */
export interface GroupKeeper {
  /** The group led by `pid` dies with the lab; `firstSignal` is sent to `pid` first (default SIGKILL). */
  hold(pid: number, firstSignal?: NodeJS.Signals): void;
  /** The process ended or was stopped on purpose: no longer the keeper's business. */
  release(pid: number): void;
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
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** What `stop` sends first (default SIGTERM; PostgreSQL's fast shutdown is SIGINT). */
  stopSignal?: NodeJS.Signals;
  /** Own process group, held by this keeper until the process ends (see GroupKeeper). */
  lifeline?: GroupKeeper;
  /** What the lifeline sends first when the lab dies (default SIGKILL; PostgreSQL: SIGQUIT). */
  lifelineSignal?: NodeJS.Signals;
  /** Every line the process writes to stderr, for as long as it runs (the services' log lines). */
  onStderrLine?: (line: string) => void;
}

/** Whether a pid answers signal 0 (EPERM: it exists but belongs to someone else). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `was killed by SIGKILL` or `exited with code 1`: how a child ended, for messages. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
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
  const { lifeline } = options;
  const child: ChildProcess = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C and `timeout` signal the lab's whole group, and only the lab should
    // get it and then stop this child in order. (In the lab's group, toxiproxy-server died of the same
    // signal before the faults could be undone, and PostgreSQL before its data directory was removed.)
    detached: lifeline !== undefined,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  const pid = child.pid ?? -1;
  if (lifeline && pid > 0) lifeline.hold(pid, options.lifelineSignal);
  const tail: string[] = [];
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      if (lifeline && pid > 0) {
        // What it forked (PostgreSQL's backends) goes with it; then the group is no longer held.
        killGroup(pid);
        lifeline.release(pid);
      }
      resolve({ code, signal });
    }),
  );
  const exited = exit.then(({ code }) => code);
  const ended = exit.then(({ code, signal }) => describeExit(code, signal));
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  let stopping: Promise<void> | undefined;

  const started: StartedProcess = {
    name: options.name,
    pid,
    outputTail: () => tail.join('\n'),
    exited,
    ended,
    isRunning: () => !hasExited() && isPidAlive(pid),
    stop: (graceMs = 3000) => {
      stopping ??= (async () => {
        if (hasExited()) return;
        child.kill(options.stopSignal ?? 'SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
    kill: async () => {
      if (hasExited()) return;
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
    const { onStderrLine } = options;
    for (const stream of [child.stdout, child.stderr]) {
      const keep = stream === child.stderr ? onStderrLine : undefined;
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          onLine(line);
          keep?.(line);
        }
      });
      // A process killed mid-write leaves a line without its newline: kept all the same.
      stream?.on('end', () => {
        if (buffered !== '') keep?.(buffered);
        buffered = '';
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

/** SIGKILL to the process group led by `pid`; nothing when it is already gone. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is empty already
  }
}
