import type { Logger } from './log.ts';

export interface PeriodicTaskOptions {
  /** Names the task in logs, e.g. `outbox_relay`. */
  readonly name: string;
  /** Pause between rounds when a round says there is nothing more to do right away. */
  readonly intervalMs: number;
  /**
   * One round. Resolve `true` when work is left that the next round can do at once (a full batch),
   * anything else to wait `intervalMs`. A rejection is logged and the task carries on: a background loop
   * that died on the first database hiccup would stop converging exactly when it is needed.
   */
  run(signal: AbortSignal): Promise<boolean | void>;
  readonly log: Logger;
  /** How long `stop()` waits for a round in progress before it gives up on it (default 2000 ms). */
  readonly stopGraceMs?: number;
}

export interface PeriodicTask extends AsyncDisposable {
  /** Aborts the round in progress, waits for it (bounded), and schedules no more. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Runs `run` at once and then again `intervalMs` after each round ends, never two rounds at a time
 * (a setInterval would pile slow rounds on top of each other behind a partition).
 *
 * @example
 *   const relay = startPeriodicTask({ name: 'outbox_relay', intervalMs: 200, run: relayOnce, log });
 *   await relay.stop();
 */
export function startPeriodicTask(options: PeriodicTaskOptions): PeriodicTask {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;
  let stopped = false;

  const schedule = (delayMs: number): void => {
    if (!stopped) timer = setTimeout(runRound, delayMs);
  };
  const runRound = (): void => {
    timer = undefined;
    round = (async () => {
      let again = false;
      try {
        again = (await options.run(controller.signal)) === true;
      } catch (error) {
        // After stop(), failures are the shutdown itself (aborted calls, an ended pool), not news.
        if (!stopped) {
          options.log.throttled(`${options.name}_failed`, {
            message: error instanceof Error ? error.message : String(error),
          });
        }
      }
      round = undefined;
      schedule(again ? 0 : options.intervalMs);
    })();
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopped = true;
      clearTimeout(timer);
      controller.abort(new Error(`${options.name} stopped`));
      if (round === undefined) return;
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        round,
        new Promise<void>((resolve) => {
          graceTimer = setTimeout(resolve, options.stopGraceMs ?? 2_000);
        }),
      ]);
      clearTimeout(graceTimer);
    })();
    return stopping;
  };

  schedule(0);
  return { stop, [Symbol.asyncDispose]: stop };
}
