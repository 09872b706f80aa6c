/**
 * The health of the lab's own instruments per phase, and the thresholds that call a phase's measurement
 * degraded. Pure: from the outcomes (each with its send lag), the scraper's sample times and what the
 * health sampler saw. The thresholds are in lab/defaults.ts and docs/measurements.md#load-health.
 */
import { DEFAULTS } from '../defaults.ts';
import { dueCountInWindow, onMillisecondGrid, streamSchedule } from '../load/due-times.ts';
import type { RequestOutcome } from '../load/outcome.ts';
import { summarizeLatency } from '../load/percentiles.ts';
import type { LoadHealth, PhaseWindow, ValidityProblem } from '../results.ts';
import type { PhaseInstruments } from './health-sampler.ts';

/** A stream of the load as planned: its rate and window (a flood runs in one phase only). */
export interface ScheduledStream {
  ratePerSecond: number;
  fromS?: number;
  untilS?: number;
}

export interface LoadHealthInput {
  /** The variant's name, for the problems. */
  deployment: string;
  windows: readonly PhaseWindow[];
  /** Every stream of the load, in the order of the outcomes' `stream`. */
  streams: readonly ScheduledStream[];
  durationS: number;
  /** When the run stopped before the end of the timeline: due is counted until then. */
  stoppedAtS?: number | null;
  outcomes: readonly RequestOutcome[];
  /** When the metrics scraper took each sample, in ms from t = 0. */
  scrapeTimesMs: readonly number[];
  /** What the health sampler saw, one entry per window. */
  instruments: readonly (PhaseInstruments | undefined)[];
}

const NO_SUMMARY = { p50: null, p90: null, p99: null, max: null };
const percent = (share: number): string => `${Math.round(share * 100)} %`;
const ms = (value: number | null): string => `${Math.round(value ?? 0)} ms`;

/** Requests the schedule made due in [startS, endS) on every stream. */
export function dueInWindow(
  streams: readonly ScheduledStream[],
  durationS: number,
  startS: number,
  endS: number,
): number {
  return streams.reduce(
    (sum, stream) => sum + dueCountInWindow(streamSchedule(stream, durationS), startS, endS),
    0,
  );
}

/** The outcomes due in a window, with the same exact boundaries as the phase tables (aggregate.ts). */
export function outcomesInWindow(
  outcomes: readonly RequestOutcome[],
  startS: number,
  endS: number,
): RequestOutcome[] {
  const start = onMillisecondGrid(startS);
  const end = onMillisecondGrid(endS);
  return outcomes.filter((outcome) => outcome.dueAtS >= start && outcome.dueAtS < end);
}

/**
 * The likely cause of a late instrument, from what the machine was doing: another lab, other programs,
 * a saturated CPU (and whose), or the lab's own event loop.
 */
export function likelyCause(
  health: Pick<LoadHealth, 'machine' | 'eventLoopDelayMs'>,
  otherLabPids: readonly number[],
): string {
  const { cpuBusy, labCpu } = health.machine;
  const limits = DEFAULTS.health;
  if (otherLabPids.length > 0)
    return `${describeOtherLabs(otherLabPids)} ${otherLabPids.length === 1 ? 'was' : 'were'} running`;
  if (cpuBusy !== null && labCpu !== null && cpuBusy - labCpu > limits.otherCpuShare)
    return `other programs kept ${percent(cpuBusy - labCpu)} of the machine's CPU busy (${percent(cpuBusy)} busy, ${percent(labCpu)} this lab's)`;
  if (cpuBusy !== null && cpuBusy >= limits.saturatedCpuShare) {
    const ofIt =
      labCpu === null || cpuBusy === 0
        ? ''
        : `, ${percent(Math.min(1, labCpu / cpuBusy))} of it this lab's system under test, proxies and generator`;
    return `the machine's CPU was saturated — ${percent(cpuBusy)} busy${ofIt}`;
  }
  const loop = health.eventLoopDelayMs.p99;
  if (loop !== null && loop > limits.eventLoopDelayP99Ms)
    return `the lab's own event loop was blocked (p99 ${ms(loop)})`;
  return cpuBusy === null
    ? 'the machine could not be read, so the cause is unknown'
    : `no cause stands out (the machine was ${percent(cpuBusy)} busy, ${percent(labCpu ?? 0)} this lab's)`;
}

function describeOtherLabs(pids: readonly number[]): string {
  return pids.length === 1
    ? `another splitlab run (pid ${pids[0]})`
    : `${pids.length} other splitlab runs (pids ${pids.join(', ')})`;
}

/** Intervals between consecutive scraper samples, each counted in the phase where it ends. */
function scrapeIntervalsIn(scrapeTimesMs: readonly number[], window: PhaseWindow): number[] {
  const intervals: number[] = [];
  for (let index = 1; index < scrapeTimesMs.length; index++) {
    const end = scrapeTimesMs[index] ?? 0;
    const start = scrapeTimesMs[index - 1] ?? 0;
    if (end >= window.startS * 1000 && end < window.endS * 1000) intervals.push(end - start);
  }
  return intervals;
}

/**
 * Why a phase's measurement is degraded, each a problem of the run: the generator or its event loop
 * late, the scraper's samples too far apart, the machine shared with another lab or other programs.
 */
export function degradedReasons(
  health: Omit<LoadHealth, 'degraded'>,
  otherLabPids: readonly number[],
  options: { partial: boolean; heldBack: number },
): Pick<ValidityProblem, 'kind' | 'message'>[] {
  const limits = DEFAULTS.health;
  const cause = likelyCause(health, otherLabPids);
  const reasons: Pick<ValidityProblem, 'kind' | 'message'>[] = [];
  const lag = health.scheduleLagMs;
  if (lag.p99 !== null && lag.p99 > limits.scheduleLagP99Ms)
    reasons.push({
      kind: 'generator-lagging',
      message: `the generator sent requests up to ${ms(lag.max)} late (p99 ${ms(lag.p99)} > ${limits.scheduleLagP99Ms} ms): ${cause}`,
    });
  const loop = health.eventLoopDelayMs;
  if (loop.p99 !== null && loop.p99 > limits.eventLoopDelayP99Ms)
    reasons.push({
      kind: 'generator-lagging',
      message: `the lab's event loop was delayed up to ${ms(loop.max)} (p99 ${ms(loop.p99)} > ${limits.eventLoopDelayP99Ms} ms), so its sends and timestamps were late too: ${cause}`,
    });
  const unsent = health.due - health.sent - options.heldBack;
  if (!options.partial && unsent > 1)
    reasons.push({
      kind: 'generator-lagging',
      message: `the generator sent ${health.sent} of the ${health.due} requests due (${unsent} never sent): ${cause}`,
    });
  const scrape = health.scrapeIntervalMs;
  if (scrape.max !== null && scrape.max > limits.scrapeIntervalMaxMs)
    reasons.push({
      kind: 'scraper-lagging',
      message: `the metrics scraper's samples were up to ${ms(scrape.max)} apart (planned 1000 ms, limit ${limits.scrapeIntervalMaxMs} ms): ${cause}`,
    });
  const { cpuBusy, labCpu } = health.machine;
  if (otherLabPids.length > 0)
    reasons.push({
      kind: 'machine-contended',
      message: `${describeOtherLabs(otherLabPids)} ${otherLabPids.length === 1 ? 'was' : 'were'} running on this machine`,
    });
  else if (cpuBusy !== null && labCpu !== null && cpuBusy - labCpu > limits.otherCpuShare)
    reasons.push({
      kind: 'machine-contended',
      message: `other programs kept ${percent(cpuBusy - labCpu)} of the machine's CPU busy (${percent(cpuBusy)} busy, ${percent(labCpu)} this lab's; limit ${percent(limits.otherCpuShare)})`,
    });
  return reasons;
}

/**
 * One LoadHealth per phase the timeline reached, and a degraded problem for each reason found.
 *
 * @example
 *   const { loadHealth, problems } = summarizeLoadHealth({ deployment: 'split', windows, streams, durationS: 40, outcomes, scrapeTimesMs, instruments });
 */
export function summarizeLoadHealth(input: LoadHealthInput): {
  loadHealth: LoadHealth[];
  problems: ValidityProblem[];
} {
  const stoppedAtS = input.stoppedAtS ?? null;
  const loadHealth: LoadHealth[] = [];
  const problems: ValidityProblem[] = [];
  for (const [index, window] of input.windows.entries()) {
    if (stoppedAtS !== null && window.startS > stoppedAtS) break;
    const partial = stoppedAtS !== null && stoppedAtS < window.endS;
    const dueUntilS = partial ? stoppedAtS : window.endS;
    const inPhase = outcomesInWindow(input.outcomes, window.startS, window.endS);
    const heldBack = inPhase.filter((outcome) => outcome.cause === 'generator_limit').length;
    const instruments = input.instruments[index];
    const otherLabPids = instruments?.machine.otherLabs ?? [];
    const health: Omit<LoadHealth, 'degraded'> = {
      phase: window.name,
      due: dueInWindow(input.streams, input.durationS, window.startS, dueUntilS),
      sent: inPhase.length - heldBack,
      scheduleLagMs: summarizeLatency(inPhase.map((outcome) => outcome.sendLagMs)),
      eventLoopDelayMs: instruments?.eventLoopDelayMs ?? NO_SUMMARY,
      scrapeIntervalMs: summarizeLatency(scrapeIntervalsIn(input.scrapeTimesMs, window)),
      machine: {
        cpuBusy: instruments?.machine.cpuBusy ?? null,
        labCpu: instruments?.machine.labCpu ?? null,
        otherLabs: otherLabPids.length,
      },
    };
    const reasons = degradedReasons(health, otherLabPids, { partial, heldBack });
    loadHealth.push({ ...health, degraded: reasons.map((reason) => reason.message) });
    for (const reason of reasons)
      problems.push({ ...reason, severity: 'degraded', deployment: input.deployment, phase: window.name });
  }
  return { loadHealth, problems };
}
