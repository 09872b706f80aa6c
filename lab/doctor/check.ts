/**
 * The vocabulary of `npm run doctor`: a check gathers facts about this machine and judges them into a
 * finding; the runner runs every check at once, each under its own timeout, so one slow probe (a Docker
 * engine that never answers) costs its own time and no one else's.
 */

/**
 * `ok`: fine. `missing`: not there or not working; a required one means a local run will not work.
 * `caveat`: works, but differently from a reference machine (no CPU pinning, little disk).
 * `info`: a figure, nothing to fix (the time estimates).
 */
export type CheckStatus = 'ok' | 'missing' | 'caveat' | 'info';

/** What a check found: the pure judges (judge.ts) return this from the facts. */
export interface Finding {
  status: CheckStatus;
  detail: string;
  /** For `missing` and `caveat`: the command or step that fixes it. */
  fix?: string;
  /** Figures for `--json` (versions, paths, seconds). */
  data?: Record<string, unknown>;
}

export interface CheckResult extends Finding {
  id: string;
  name: string;
  /** A local run needs it: a required check that is missing makes doctor exit 1. */
  required: boolean;
  durationMs: number;
}

export interface Check {
  id: string;
  /** As the checklist shows it. */
  name: string;
  required: boolean;
  timeoutMs: number;
  /** Aborted when the timeout is over: a child process started with the signal is killed. */
  run(signal: AbortSignal): Promise<Finding>;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs every check at once and returns their results in the order given. A check that throws is
 * `missing` with the error; one that outlives its timeout is `missing` with "no answer within".
 *
 * @example
 *   const results = await runChecks([{ id: 'x', name: 'x', required: true, timeoutMs: 1000, run: async () => ({ status: 'ok', detail: '' }) }]);
 */
export async function runChecks(checks: readonly Check[]): Promise<CheckResult[]> {
  return await Promise.all(checks.map((check) => runOne(check)));
}

/** How often a check's clock ticks; a tick that comes late means something held the event loop. */
const TICK_MS = 50;

async function runOne(check: Check): Promise<CheckResult> {
  const started = performance.now();
  const controller = new AbortController();
  let ticker: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Finding>((resolve) => {
    // The timeout counts the time this check could run: while another check holds the event loop (an
    // import of a large package), this check's answer waits in the queue and is not late. A late tick
    // counts as two ticks, not as the time it was held up.
    let ownTimeMs = 0;
    let lastTick = started;
    ticker = setInterval(() => {
      const now = performance.now();
      ownTimeMs += Math.min(now - lastTick, 2 * TICK_MS);
      lastTick = now;
      if (ownTimeMs < check.timeoutMs) return;
      clearInterval(ticker);
      controller.abort();
      resolve({
        status: 'missing',
        detail: `no answer within ${check.timeoutMs >= 1000 ? `${(check.timeoutMs / 1000).toFixed(0)} s` : `${check.timeoutMs} ms`}`,
        fix: 'run npm run doctor again when the machine is less busy; if it repeats, see docs/preflight.md',
      });
    }, TICK_MS);
  });
  let finding: Finding;
  try {
    finding = await Promise.race([
      check.run(controller.signal).catch((error: unknown): Finding => ({
        status: 'missing',
        detail: `the check itself failed: ${errorText(error)}`,
        fix: 'see docs/preflight.md',
      })),
      timedOut,
    ]);
  } finally {
    clearInterval(ticker);
  }
  return {
    id: check.id,
    name: check.name,
    required: check.required,
    ...finding,
    durationMs: Math.round(performance.now() - started),
  };
}
