import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { LabError } from '../../errors.ts';
import type { GroupKeeper } from '../child-process.ts';

const WATCHDOG = path.join(import.meta.dirname, 'lifeline-watchdog.ts');

export interface Lifeline extends GroupKeeper, AsyncDisposable {
  /** The watchdog process's pid. */
  readonly pid: number;
  /** Closes the pipe: the watchdog ends what it still holds and exits. Safe to call twice. */
  cut(): Promise<void>;
}

/**
 * Starts the lab's lifeline: a watchdog process in its own session holding the read end of a pipe
 * whose only writer is this process. Whatever ends the lab, `kill -9` included, closes the pipe, and
 * the watchdog then kills every process group it was told to hold (toxiproxy-server, PostgreSQL, the
 * services). One watchdog for all children, because PostgreSQL cannot be given a pipe of its own to
 * watch, and a wrapper process per child would double the processes.
 *
 * @example
 *   await using lifeline = await startLifeline();
 *   await startProcess({ ..., lifeline });
 */
export async function startLifeline(): Promise<Lifeline> {
  const watchdog = spawn(process.execPath, [WATCHDOG], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const exited = once(watchdog, 'exit');
  await Promise.race([
    once(watchdog, 'spawn'),
    once(watchdog, 'error').then(([error]) => {
      throw new LabError('PROCESS_EXITED', `the lab's lifeline watchdog could not start: ${String(error)}`);
    }),
  ]);
  const pipe = watchdog.stdin;
  // Neither the watchdog nor the pipe keeps the lab alive: when the lab exits, the pipe closes.
  watchdog.unref();
  (pipe as unknown as { unref?: () => void }).unref?.();
  pipe.on('error', () => undefined);
  const send = (line: string): void => {
    if (!pipe.writableEnded) pipe.write(`${line}\n`);
  };
  let cutting: Promise<void> | undefined;
  const cut = (): Promise<void> => {
    cutting ??= (async () => {
      // Waiting for the exit must keep the lab alive, or it would end mid-await.
      watchdog.ref();
      pipe.end();
      await exited;
    })();
    return cutting;
  };
  return {
    pid: watchdog.pid ?? -1,
    hold: (pid, firstSignal = 'SIGKILL') => send(`hold ${pid} ${firstSignal}`),
    release: (pid) => send(`release ${pid}`),
    cut,
    [Symbol.asyncDispose]: cut,
  };
}
