/**
 * A flood by hand: an extra open-model load stream on one route, on top of the steady load of
 * `up --load`, from the moment it is applied until it is healed. Read back from the load itself: in
 * effect once its first request is on its way, gone once its generator has stopped and nothing of it
 * is in flight.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULTS } from '../defaults.ts';
import { driveLoad } from '../load/drive-load.ts';
import type { RequestOutcome } from '../load/outcome.ts';
import type { ObservedState } from '../measure/fault-evidence.ts';
import type { RouteName } from '../vocabulary/topology.ts';
import type { AppliedPart } from './hand-faults.ts';

/**
 * How long an open-ended load is scheduled for: 30 days. The schedule is exact integer arithmetic
 * (due-times.ts); 30 days at 1000 requests/s still fits below 2^53.
 */
export const OPEN_ENDED_S = 30 * 24 * 3600;

export interface FloodOptions {
  route: RouteName;
  url: string;
  ratePerSecond: number;
  runTag: string;
  /** Where its outcomes go (the live view's tally); none after the heal. */
  onOutcome(outcome: RequestOutcome): void;
}

/**
 * Starts the flood's stream and returns it as an applied part of the fault. Requests still in flight
 * when it is healed are cut, and their outcomes are not counted: the flood ends at the heal.
 */
export function startFlood(options: FloodOptions): AppliedPart {
  const controller = new AbortController();
  let healed = false;
  let completed = 0;
  const run = driveLoad({
    routes: [{ route: options.route, url: options.url, ratePerSecond: options.ratePerSecond }],
    durationS: OPEN_ENDED_S,
    timeoutMs: DEFAULTS.clientTimeoutMs,
    maxInFlightPerRoute: DEFAULTS.maxInFlightPerRoute,
    runTag: options.runTag,
    signal: controller.signal,
    keepOutcomes: false,
    onOutcome: (outcome) => {
      if (healed) return;
      completed += 1;
      options.onOutcome(outcome);
    },
  });
  let stopped = false;
  const finished = run.finished.then(
    () => (stopped = true),
    () => (stopped = true),
  );
  const read = (): { inEffect: boolean; evidence: string } => {
    const inFlight = run.inFlight(options.route);
    return {
      inEffect: !stopped && completed + inFlight > 0,
      evidence: `flood on ${options.route}: ${completed} completed, ${inFlight} in flight${stopped ? '; its generator has stopped' : ''}`,
    };
  };
  // The first request is due at once; a slow rate is given one interval more to show it.
  const observeMs = DEFAULTS.observeTimeoutMs + 1000 / options.ratePerSecond;
  return {
    action: `flood on ${options.route}: +${options.ratePerSecond}/s`,
    observe: async (inEffect): Promise<ObservedState> => {
      const deadline = performance.now() + observeMs;
      for (;;) {
        const state = read();
        const atMs = performance.now();
        if (state.inEffect === inEffect || atMs >= deadline)
          return { expected: state.inEffect === inEffect, atMs, evidence: state.evidence };
        await sleep(DEFAULTS.observeIntervalMs);
      }
    },
    undo: async () => {
      healed = true;
      controller.abort();
      await finished;
    },
  };
}
