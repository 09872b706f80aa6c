import type { LabLog } from './runtime.ts';

export interface StopCalmlyOptions {
  log: LabLog;
  /** What is being stopped, for the one line: `the local lab`, `split`. */
  what: string;
  /** What of it may still be there after a failed teardown: `postgres (pid 123)`, a directory, a container. */
  leftovers: () => Promise<string[]>;
}

/**
 * Takes over a teardown stack and returns a stop that disposes it once, however often it is called.
 * A step that fails (a tool that was already gone, a container Docker would not remove) does not stop
 * the others, and the stop does not throw: it says once, in one line, what went wrong and what may be
 * left, so that a teardown after Ctrl-C or a dead dependency never ends in a stack trace.
 *
 * @example
 *   const stop = stopCalmly(teardown, { log, what: 'the local lab', leftovers: async () => [] });
 */
export function stopCalmly(teardown: AsyncDisposableStack, options: StopCalmlyOptions): () => Promise<void> {
  const moved = teardown.move();
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= moved.disposeAsync().catch(async (error: unknown) => {
      const left = await options.leftovers().catch(() => ['(could not check)']);
      const mayBeLeft =
        left.length > 0
          ? `may be left: ${left.join(', ')} (the next start of any lab removes what a dead run left)`
          : 'nothing of it is left';
      options.log(
        `${options.what}: teardown went on past ${teardownProblems(error).join('; ')}; ${mayBeLeft}`,
      );
    });
    return stopped;
  };
}

/** The messages of every error a disposal collected (SuppressedError nests them), innermost first. */
export function teardownProblems(error: unknown): string[] {
  if (error instanceof SuppressedError)
    return [...teardownProblems(error.suppressed), ...teardownProblems(error.error)];
  return [error instanceof Error ? error.message : String(error)];
}
