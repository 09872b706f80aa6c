import { LabError } from '../errors.ts';

/** How often the watchdog asks a dependency that can hang rather than die (an API, the Docker engine). */
export const WATCHDOG_POLL_MS = 500;
/** How long one such question may take: generous, so a busy machine is not mistaken for a dead tool. */
export const WATCHDOG_TIMEOUT_MS = 1_000;
/**
 * Failures in a row before a polled dependency counts as dead: one slow answer under load is not a
 * death. A refused connection is seen within 2 polls (about 1 s), a hung API within about 2.5 s.
 */
export const WATCHDOG_FAILURES_IN_A_ROW = 2;

export interface DependencyWatchdog extends Disposable {
  /** Aborts with LabError DEPENDENCY_FAILED when a watched dependency dies (StartedLab.failed). */
  readonly failed: AbortSignal;
  /** `what` is dead when `death` resolves (with how it died), unless the watchdog stood down first. */
  watch(what: string, death: Promise<string>): void;
  /**
   * Asks `check` every WATCHDOG_POLL_MS (with a signal that aborts after WATCHDOG_TIMEOUT_MS); `what` is
   * dead after WATCHDOG_FAILURES_IN_A_ROW failures in a row. `check` throws to say how it failed.
   */
  poll(what: string, check: (signal: AbortSignal) => Promise<void>): void;
  /** The lab is stopping its dependencies on purpose: from now on nothing counts as a death. */
  standDown(): void;
}

/** The DEPENDENCY_FAILED error `failed` aborts with: what died, when, how, and whose fault it is not. */
export function dependencyFailure(what: string, at: Date, detail: string): LabError {
  return new LabError(
    'DEPENDENCY_FAILED',
    `${what} died at ${at.toISOString()}: ${detail}; the run is invalid, not the system under test`,
  );
}

/**
 * Watches the lab's own dependencies during a run (toxiproxy-server, PostgreSQL, the DNS server, the
 * Docker engine) and aborts `failed` with the first death it sees, so the runner can stop the load
 * and mark the run invalid instead of blaming the system under test.
 *
 * @example
 *   const watchdog = startDependencyWatchdog();
 *   watchdog.watch('toxiproxy-server', toxiproxy.process.ended);
 *   teardown.defer(() => watchdog.standDown()); // registered last: runs first
 */
export function startDependencyWatchdog(): DependencyWatchdog {
  const controller = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  let standingDown = false;
  const died = (what: string, detail: string): void => {
    if (standingDown || controller.signal.aborted) return;
    controller.abort(dependencyFailure(what, new Date(), detail));
    standDown();
  };
  const standDown = (): void => {
    standingDown = true;
    for (const timer of timers) clearInterval(timer);
    timers.clear();
  };
  return {
    failed: controller.signal,
    watch: (what, death) => {
      void death.then((detail) => died(what, detail));
    },
    poll: (what, check) => {
      let failures = 0;
      let asking = false;
      const timer = setInterval(() => {
        if (asking || standingDown) return;
        asking = true;
        check(AbortSignal.timeout(WATCHDOG_TIMEOUT_MS))
          .then(() => (failures = 0))
          .catch((error: unknown) => {
            failures += 1;
            if (failures >= WATCHDOG_FAILURES_IN_A_ROW)
              died(what, `${failures} checks in a row failed, the last with: ${describe(error)}`);
          })
          .finally(() => (asking = false));
      }, WATCHDOG_POLL_MS);
      // A watchdog never keeps the lab alive on its own.
      timer.unref();
      timers.add(timer);
    },
    standDown,
    [Symbol.dispose]: standDown,
  };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${error.message} (${cause.code})` : error.message;
}
