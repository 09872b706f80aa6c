/**
 * Proof that each planned fault happened: the runner reads the state back from the lab's own tools
 * right after applying (expects it in effect) and right after undoing (expects it gone), and a flood is
 * read from the load itself. Each step becomes a FaultEvidence entry of the observed fault timeline.
 */
import { DEFAULTS } from '../defaults.ts';
import { dueCountInWindow, streamSchedule } from '../load/due-times.ts';
import type { RequestOutcome } from '../load/outcome.ts';
import type { FaultEvidence, PhaseWindow } from '../results.ts';
import type { ActionObservation, RuntimeAction, StartedDeployment } from '../runtime/runtime.ts';
import { planToxiproxy, type FaultAction } from '../vocabulary/faults.ts';
import { describeRouteLoad, type RouteLoadModel } from '../vocabulary/load-models.ts';
import type { RouteName } from '../vocabulary/topology.ts';

/**
 * What an action does, in a few words: `timeout toxics on payment-api`, `DNS payment-service: nxdomain`,
 * `kill signup-service`, `flood on pay: +120/s`.
 */
export function describeAction(action: FaultAction): string {
  switch (action.type) {
    case 'link': {
      const plan = planToxiproxy(action.fault);
      if (plan.action === 'disable') return `proxy ${action.fault.link} disabled`;
      const types = [...new Set(plan.toxics.map((toxic) => toxic.type))].join(', ');
      return `${types} toxics on ${action.fault.link}`;
    }
    case 'dns':
      return `DNS ${action.name}: ${action.mode}`;
    case 'crash':
      return `kill ${action.service}`;
    case 'stall':
      return `freeze ${action.service}`;
    case 'deploy':
      return `deploy ${action.service}${action.version ? ` ${action.version}` : ''} (drain up to ${action.drainMs / 1000} s)`;
    case 'flood':
      return action.load.model === 'open'
        ? `flood on ${action.route}: +${action.load.ratePerSecond}/s`
        : `flood on ${action.route}: ${describeRouteLoad(action.load)}`;
    default:
      return action satisfies never;
  }
}

/** The clock and pause the observation uses: the runner's, so a test's fake clock drives it too. */
export interface ObserveClock {
  now(): number;
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void>;
}

/** The last read of an action's state: whether it showed what was expected, when, and what it said. */
export interface ObservedState {
  expected: boolean;
  /** When the state was read (the runtime's `atMs`); null when no read succeeded. */
  atMs: number | null;
  evidence: string;
}

/**
 * Whether `action` should be in effect after `step`. A deploy stays after its phase, as after a real
 * one: the new version running is the expected state after its (empty) undo too, not a fault left behind.
 */
export function expectedInEffect(action: RuntimeAction, step: 'apply' | 'undo'): boolean {
  return step === 'apply' || action.type === 'deploy';
}

/**
 * Reads `action`'s state from the tools until it shows `inEffect` (true after an apply, false after an
 * undo; a deploy is expected in effect after both, see expectedInEffect), every `observeIntervalMs`, for
 * at most `observeTimeoutMs`. A read that throws counts as not yet, and its message is the evidence if no
 * later read succeeds.
 */
export async function observeAction(
  started: Pick<StartedDeployment, 'observe'>,
  action: RuntimeAction,
  afterApply: boolean,
  clock: ObserveClock,
  signal?: AbortSignal,
): Promise<ObservedState> {
  const inEffect = expectedInEffect(action, afterApply ? 'apply' : 'undo');
  const deadlineMs = clock.now() + DEFAULTS.observeTimeoutMs;
  let last: ObservedState = { expected: false, atMs: null, evidence: 'not read' };
  for (;;) {
    let observation: ActionObservation | undefined;
    try {
      observation = await started.observe(action);
    } catch (error) {
      last = { expected: false, atMs: null, evidence: `read failed: ${(error as Error).message}` };
    }
    if (observation) {
      last = {
        expected: observation.inEffect === inEffect,
        atMs: observation.atMs,
        evidence: observation.evidence,
      };
      if (last.expected) return last;
    }
    if (clock.now() >= deadlineMs || signal?.aborted) return last;
    await clock.sleep(DEFAULTS.observeIntervalMs, signal);
  }
}

/**
 * One evidence entry from an observation, timed from the timeline's t = 0 (`startedAtMs`) on the same
 * clock as the plan.
 */
export function evidenceEntry(
  step: FaultEvidence['step'],
  planned: { phase: string; fault: string; action: string; plannedAtS: number },
  observed: ObservedState,
  startedAtMs: number,
): FaultEvidence {
  const atMs = observed.expected ? observed.atMs : null;
  return {
    ...planned,
    step,
    observedAtS: atMs === null ? null : Math.round(atMs - startedAtMs) / 1000,
    lagMs: atMs === null ? null : Math.round((atMs - startedAtMs - planned.plannedAtS * 1000) * 10) / 10,
    observed: observed.expected,
    evidence: observed.evidence,
  };
}

/**
 * The evidence of a flood, read from the load itself: its stream's requests in its window. Apply is
 * observed when the generator sent (or held back at the in-flight limit, the route already pressed by
 * 500 requests) at least `floodObservedShare` (90 %) of the requests due; it is timed by the first
 * request's actual send. Undo is observed when no flood request was sent later than the window's end
 * plus the observation's own timeout (2 s); it is timed by the last request's send, so its lag is
 * usually a little below zero. A flood that sent nothing has no undo entry.
 */
export function floodEvidence(
  flood: { phase: string; fault: string; route: RouteName; window: PhaseWindow } & (
    | { load: RouteLoadModel }
    // As plans written before closed-model floods carry it: an open flood.
    | { ratePerSecond: number }
  ),
  stream: number,
  outcomes: readonly RequestOutcome[],
  durationS: number,
  stoppedAtS: number | null,
): FaultEvidence[] {
  const { window } = flood;
  const load: RouteLoadModel =
    'load' in flood ? flood.load : { model: 'open', ratePerSecond: flood.ratePerSecond };
  const mine = outcomes.filter((outcome) => outcome.stream === stream);
  const sentAtS = (outcome: RequestOutcome): number => outcome.dueAtS + outcome.sendLagMs / 1000;
  const sent = mine.filter((outcome) => outcome.cause !== 'generator_limit');
  const heldBack = mine.length - sent.length;
  const untilS = stoppedAtS === null ? window.endS : Math.min(window.endS, stoppedAtS);
  // A closed flood has no schedule: each connection sends when its last answer came. Its apply is
  // observed by any request it sent.
  const due =
    load.model === 'open'
      ? dueCountInWindow(
          streamSchedule(
            { ratePerSecond: load.ratePerSecond, fromS: window.startS, untilS: window.endS },
            durationS,
          ),
          window.startS,
          untilS,
        )
      : 1;
  const sendTimes = sent.map(sentAtS).sort((a, b) => a - b);
  const first = sendTimes[0];
  const last = sendTimes.at(-1);
  const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;
  const lag = (atS: number, plannedAtS: number): number => Math.round((atS - plannedAtS) * 10_000) / 10;
  const action = describeAction({ type: 'flood', route: flood.route, load });
  const base = { phase: flood.phase, fault: flood.fault, action };
  const appliedObserved =
    due > 0 && sent.length + heldBack >= DEFAULTS.floodObservedShare * due && first !== undefined;
  const entries: FaultEvidence[] = [
    {
      ...base,
      step: 'apply',
      plannedAtS: window.startS,
      observedAtS: appliedObserved && first !== undefined ? round(first) : null,
      lagMs: appliedObserved && first !== undefined ? lag(first, window.startS) : null,
      observed: appliedObserved,
      evidence:
        (load.model === 'open'
          ? `${sent.length} of ${due} due requests sent`
          : `${sent.length} requests sent by ${load.connections} connections`) +
        (heldBack > 0 ? `, ${heldBack} held back at the in-flight limit` : '') +
        (first !== undefined ? `; the first at t=${round(first)} s` : ''),
    },
  ];
  // Nothing sent: the apply was not observed, and there is nothing whose end could be seen.
  if (last === undefined || (stoppedAtS !== null && stoppedAtS < window.endS)) return entries;
  const lateS = window.endS + DEFAULTS.observeTimeoutMs / 1000;
  const leaked = sendTimes.filter((atS) => atS > lateS).length;
  entries.push({
    ...base,
    step: 'undo',
    plannedAtS: window.endS,
    observedAtS: leaked === 0 ? round(last) : null,
    lagMs: leaked === 0 ? lag(last, window.endS) : null,
    observed: leaked === 0,
    evidence:
      leaked > 0
        ? `${leaked} flood requests were sent more than ${DEFAULTS.observeTimeoutMs} ms after the end`
        : `the last flood request was sent at t=${round(last)} s, none after`,
  });
  return entries;
}
