/**
 * The lab's own instruments while a deployment's timeline runs, phase by phase: the event-loop delay of
 * this process (which sends every request and takes every timestamp), the machine's CPU, this lab's
 * share of it, and other splitlab runs beside it.
 */
import { monitorEventLoopDelay, type Histogram } from 'node:perf_hooks';
import { DEFAULTS } from '../defaults.ts';
import type { LatencySummary, PhaseWindow } from '../results.ts';
import type { LabLog } from '../runtime/runtime.ts';
import { machineShares, readMachine, type MachineSnapshot } from './machine-load.ts';

/** What the sampler saw in one phase. */
export interface PhaseInstruments {
  /** This process's event-loop delay in the phase. */
  eventLoopDelayMs: LatencySummary;
  machine: {
    cpuBusy: number | null;
    labCpu: number | null;
    /** Pids of the other splitlab runs seen during the phase. */
    otherLabs: number[];
  };
}

export interface HealthSampler {
  /** Stops sampling; one entry per window, undefined for a phase the timeline never reached. */
  stop(): Promise<(PhaseInstruments | undefined)[]>;
}

export interface HealthSamplerOptions {
  windows: readonly PhaseWindow[];
  /** `performance.now()` of the timeline's t = 0. */
  startedAtMs: number;
  /** Where a newly seen lab is reported, as it appears. */
  log: LabLog;
  /** The log lines' prefix: the variant's name. */
  label: string;
  /** Replaces the /proc reading (tests). */
  readMachine?: () => Promise<MachineSnapshot>;
}

const NANOS_PER_MS = 1e6;
/** How often the histogram's timer fires; a finer one costs the loop it measures more wake-ups. */
const RESOLUTION_MS = 10;

/**
 * The histogram's percentiles as delays in milliseconds; nulls before any sample. The histogram records
 * each interval of its `RESOLUTION_MS` timer, so the resolution is subtracted: measured here, an idle
 * loop records p50 10.1 ms and p99 13.3 ms at a 10 ms resolution, i.e. 0.1 ms and 3.3 ms of delay.
 */
export function eventLoopSummary(histogram: Histogram): LatencySummary {
  if (histogram.count === 0) return { p50: null, p90: null, p99: null, max: null };
  const delayMs = (nanos: number): number =>
    Math.max(0, Math.round((nanos / NANOS_PER_MS - RESOLUTION_MS) * 10) / 10);
  return {
    p50: delayMs(histogram.percentile(50)),
    p90: delayMs(histogram.percentile(90)),
    p99: delayMs(histogram.percentile(99)),
    max: delayMs(histogram.max),
  };
}

/**
 * Samples the event loop continuously (node:perf_hooks, every 10 ms) and the machine once a
 * second and at every phase boundary, until stopped.
 *
 * @example
 *   const sampler = sampleHealth({ windows, startedAtMs: performance.now(), log, label: 'split' });
 *   // ... the timeline runs ...
 *   const perPhase = await sampler.stop();
 */
export function sampleHealth(options: HealthSamplerOptions): HealthSampler {
  const read = options.readMachine ?? (() => readMachine());
  const windows = options.windows;
  const results: (PhaseInstruments | undefined)[] = windows.map(() => undefined);
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const seenLabs = new Set<number>();
  let running = true;
  let wakeUp = (): void => undefined;
  const elapsedS = (): number => (performance.now() - options.startedAtMs) / 1000;
  const phaseAt = (t: number): number => windows.findIndex((window) => t >= window.startS && t < window.endS);

  let phase = -1;
  let phaseStart: MachineSnapshot | undefined;
  let phaseLabs = new Set<number>();
  const finishPhase = (reading: MachineSnapshot): void => {
    if (phase < 0 || !phaseStart) return;
    results[phase] = {
      eventLoopDelayMs: eventLoopSummary(histogram),
      machine: { ...machineShares(phaseStart, reading), otherLabs: [...phaseLabs].sort((a, b) => a - b) },
    };
  };
  const take = async (): Promise<void> => {
    const reading = await read().catch(() => undefined);
    if (!reading) return;
    const t = elapsedS();
    for (const pid of reading.otherLabs) {
      if (!seenLabs.has(pid)) {
        seenLabs.add(pid);
        options.log(
          `[${options.label}] t=${Math.round(t)}s another splitlab run (pid ${pid}) is running on this machine: ` +
            'the measurements beside it are degraded',
        );
      }
      phaseLabs.add(pid);
    }
    const now = phaseAt(t);
    if (now === phase) return;
    finishPhase(reading);
    phase = now;
    phaseStart = reading;
    phaseLabs = new Set(reading.otherLabs);
    histogram.reset();
  };

  const lastEndS = windows.at(-1)?.endS ?? 0;
  const loop = (async () => {
    while (running) {
      await take();
      if (!running || elapsedS() >= lastEndS) break;
      // The next whole sample interval or phase boundary, whichever comes first.
      const t = elapsedS();
      const nextSampleS =
        (Math.floor((t * 1000) / DEFAULTS.machineSampleMs) + 1) * (DEFAULTS.machineSampleMs / 1000);
      const nextBoundaryS = windows.map((window) => window.endS).find((endS) => endS > t) ?? lastEndS;
      const waitMs = (Math.min(nextSampleS, nextBoundaryS) - t) * 1000;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, waitMs));
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();

  let stopped: Promise<(PhaseInstruments | undefined)[]> | undefined;
  return {
    stop: () => {
      stopped ??= (async () => {
        running = false;
        wakeUp();
        await loop;
        // A phase cut short (the run stopped in it) keeps what was measured until now.
        if (phase >= 0 && results[phase] === undefined) {
          const reading = await read().catch(() => undefined);
          if (reading) finishPhase(reading);
        }
        histogram.disable();
        return results;
      })();
      return stopped;
    },
  };
}
