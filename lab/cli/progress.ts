/**
 * The terminal's progress block: while a scenario runs, a few lines at the bottom of the terminal say
 * which scenario, column and phase is running, how far the timeline is, the elapsed time and an ETA for
 * the whole run, and what each route did in the last second. It is redrawn in place with ANSI escapes at
 * most four times a second; log lines print above it. Only on a terminal: without one (CI, a pipe) the
 * output is exactly the log lines, as it always was.
 *
 * The state and its rendering are pure functions of the run's events and the clock, unit-tested apart
 * from the terminal.
 */
import type { RunEvent, RunWatcher, SecondTally } from '../live/run-events.ts';
import type { DeploymentName, VariantName } from '../vocabulary/topology.ts';

/** First guess of a deployment's time outside its timeline (start, settle, audit), before one is measured. */
export const FIRST_OVERHEAD_GUESS_S = { local: 10, containers: 25 } as const;

/** How often the block may be redrawn: at most four times a second. */
export const REDRAW_INTERVAL_MS = 250;

/** Where the current deployment is. */
export type Stage = 'starting' | 'timeline' | 'settling' | 'finishing';

export interface ProgressState {
  /** False between runs: no block is shown. */
  active: boolean;
  runtime: string;
  scenario: string;
  /** For `all`: this scenario's place (0-based) in the batch. */
  batch?: { index: number; count: number };
  variants: { label: VariantName; deployment: DeploymentName }[];
  durationS: number;
  /** Index into `variants` of the deployment running (or starting). */
  variantIndex: number;
  stage: Stage;
  /** The clock (ms) when the first run of this process started: elapsed counts from there. */
  firstStartedAtMs: number | null;
  /** When the current deployment began: its run's start for the first, the previous one's end after. */
  deploymentBeganAtMs: number;
  /** When the current deployment's timeline began (t = 0); null before. */
  timelineStartedAtMs: number | null;
  phase?: { name: string; startS: number; endS: number };
  /** The last second tallied of the current deployment. */
  lastSecond?: SecondTally;
  /** Seconds each finished deployment spent outside its timeline, in this process: the ETA learns from them. */
  overheadsS: number[];
  /** Planned timeline seconds of the scenarios after this one (for `all`). */
  laterTimelineS: number;
  /** Deployments of the scenarios after this one (for `all`). */
  laterDeployments: number;
}

export function initialProgressState(): ProgressState {
  return {
    active: false,
    runtime: '',
    scenario: '',
    variants: [],
    durationS: 0,
    variantIndex: 0,
    stage: 'starting',
    firstStartedAtMs: null,
    deploymentBeganAtMs: 0,
    timelineStartedAtMs: null,
    overheadsS: [],
    laterTimelineS: 0,
    laterDeployments: 0,
  };
}

/**
 * The state after one event at `nowMs`. `deploymentsPerScenario` gives the number of deployments of each
 * scenario of an `all` batch, in order, for the ETA of the scenarios still to come.
 */
export function applyRunEvent(
  state: ProgressState,
  event: RunEvent,
  nowMs: number,
  deploymentsPerScenario: readonly number[] = [],
): ProgressState {
  switch (event.type) {
    case 'run-started': {
      const { batch } = event;
      return {
        ...state,
        active: true,
        runtime: event.runtime,
        scenario: event.scenario.name,
        ...(batch ? { batch: { index: batch.index, count: batch.count } } : { batch: undefined }),
        variants: event.variants,
        durationS: event.durationS ?? 0,
        variantIndex: 0,
        stage: 'starting',
        firstStartedAtMs: state.firstStartedAtMs ?? nowMs,
        deploymentBeganAtMs: nowMs,
        timelineStartedAtMs: null,
        phase: undefined,
        lastSecond: undefined,
        laterTimelineS: batch?.remainingTimelineS ?? 0,
        laterDeployments: batch
          ? deploymentsPerScenario.slice(batch.index + 1).reduce((sum, count) => sum + count, 0)
          : 0,
      };
    }
    case 'deployment-started': {
      const index = state.variants.findIndex((variant) => variant.label === event.label);
      return {
        ...state,
        variantIndex: index >= 0 ? index : state.variantIndex,
        stage: 'timeline',
        timelineStartedAtMs: nowMs,
        phase: undefined,
        lastSecond: undefined,
      };
    }
    case 'phase-started':
      return { ...state, phase: { name: event.phase, startS: event.startS, endS: event.endS } };
    case 'second':
      return { ...state, lastSecond: event };
    case 'deployment-finished': {
      const wallS = (nowMs - state.deploymentBeganAtMs) / 1000;
      const timelineS = timelineElapsedS(state, nowMs);
      const last = state.variantIndex >= state.variants.length - 1;
      return {
        ...state,
        overheadsS: [...state.overheadsS, Math.max(0, wallS - timelineS)],
        variantIndex: last ? state.variantIndex : state.variantIndex + 1,
        stage: last ? 'finishing' : 'starting',
        deploymentBeganAtMs: nowMs,
        timelineStartedAtMs: null,
        phase: undefined,
        lastSecond: undefined,
      };
    }
    case 'run-finished':
      return { ...state, active: false };
    default:
      return state;
  }
}

/** Seconds of the current deployment's timeline that have run, at most its duration. */
export function timelineElapsedS(state: ProgressState, nowMs: number): number {
  if (state.timelineStartedAtMs === null) return 0;
  return Math.min(state.durationS, Math.max(0, (nowMs - state.timelineStartedAtMs) / 1000));
}

/** The stage shown: once the timeline has run out, the deployment is settling and being audited. */
export function currentStage(state: ProgressState, nowMs: number): Stage {
  if (state.stage === 'timeline' && state.timelineStartedAtMs !== null) {
    if ((nowMs - state.timelineStartedAtMs) / 1000 >= state.durationS) return 'settling';
  }
  return state.stage;
}

/** The time a deployment is expected to spend outside its timeline: the mean of those measured, or a first guess. */
export function overheadEstimateS(state: ProgressState): number {
  if (state.overheadsS.length > 0)
    return state.overheadsS.reduce((sum, value) => sum + value, 0) / state.overheadsS.length;
  return state.runtime === 'containers' ? FIRST_OVERHEAD_GUESS_S.containers : FIRST_OVERHEAD_GUESS_S.local;
}

/**
 * Seconds until the whole run ends: the timeline seconds still to run (this deployment's rest, the
 * deployments after it, the scenarios after this one) plus the estimated overhead of each deployment
 * still to come, and what is left of the current one's.
 */
export function remainingS(state: ProgressState, nowMs: number): number {
  const overhead = overheadEstimateS(state);
  const later = state.laterTimelineS + state.laterDeployments * overhead;
  if (state.stage === 'finishing') return later;
  const timelineDone = timelineElapsedS(state, nowMs);
  const spentOutsideTimeline = (nowMs - state.deploymentBeganAtMs) / 1000 - timelineDone;
  const current = state.durationS - timelineDone + Math.max(0, overhead - spentOutsideTimeline);
  const after = Math.max(0, state.variants.length - state.variantIndex - 1) * (state.durationS + overhead);
  return current + after + later;
}

/**
 * A duration in whole seconds, as minutes and seconds from a minute up.
 *
 * @example formatClock(72.4) // '1 min 12 s'
 */
export function formatClock(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  return whole % 60 === 0 ? `${minutes} min` : `${minutes} min ${whole % 60} s`;
}

const STAGE_WORDS: Record<Exclude<Stage, 'timeline'>, string> = {
  starting: 'starting the deployment',
  settling: 'settle and audit',
  finishing: 'stopping the lab',
};

/** The block's lines for this state at `nowMs` (no escapes, not yet cut to the terminal's width). */
export function renderProgressLines(state: ProgressState, nowMs: number): string[] {
  if (!state.active) return [];
  const stage = currentStage(state, nowMs);
  const variant = state.variants[state.variantIndex];
  const scenario = state.batch
    ? `${state.scenario} (${state.batch.index + 1} of ${state.batch.count})`
    : state.scenario;
  const column = variant
    ? ` · column ${variant.label} (${state.variantIndex + 1} of ${state.variants.length})`
    : '';
  const where =
    stage === 'timeline' && state.phase
      ? ` · phase ${state.phase.name} (${state.phase.startS}–${state.phase.endS} s)`
      : stage === 'timeline'
        ? ''
        : ` · ${STAGE_WORDS[stage]}`;
  const elapsedS = (nowMs - (state.firstStartedAtMs ?? nowMs)) / 1000;
  const etaS = remainingS(state, nowMs);
  const timeline =
    stage === 'finishing'
      ? ''
      : `timeline ${Math.floor(timelineElapsedS(state, nowMs))} / ${state.durationS} s · `;
  const lines = [
    `▸ ${scenario}${column}${where}`,
    `  ${timeline}elapsed ${formatClock(elapsedS)} of ~${formatClock(elapsedS + etaS)} · ETA ${formatClock(etaS)}`,
  ];
  const second = state.lastSecond;
  // After the timeline the load has stopped: its last seconds would only show zeros.
  if (stage === 'timeline') {
    if (!second) lines.push('  this second: waiting for the first second of load');
    else {
      const width = Math.max(...second.routes.map((route) => route.route.length));
      for (const route of second.routes) lines.push(routeLine(route, width));
    }
  }
  return lines;
}

/** One route's last second: successes, failures by cause, median latency. */
function routeLine(route: SecondTally['routes'][number], width: number): string {
  const causes = Object.entries(route.failures)
    .filter(([, count]) => count > 0)
    .sort(([, a], [, b]) => b - a);
  const failed = causes.reduce((sum, [, count]) => sum + count, 0);
  const detail =
    causes.length > 0 ? ` (${causes.map(([cause, count]) => `${cause} ${count}`).join(', ')})` : '';
  const p50 = route.latencyMs ? `  p50 ${Math.round(route.latencyMs.p50)} ms` : '';
  return `  ${route.route.padEnd(width)}  this second: ok ${String(route.ok).padStart(3)}  failed ${String(failed).padStart(3)}${detail}${p50}`;
}

/** Cuts a line to the terminal's width, so that no line wraps and the cursor arithmetic stays right. */
export function fitToWidth(line: string, columns: number): string {
  const characters = Array.from(line);
  if (characters.length < columns) return line;
  return `${characters.slice(0, Math.max(0, columns - 2)).join('')}…`;
}

/** The escapes that move the cursor up over a block of `lines` lines and clear to the end of the screen. */
export function clearBlock(lines: number): string {
  return lines > 0 ? `\r\x1b[${lines}A\x1b[J` : '';
}

export interface Progress {
  /** Give it to runScenario (with fanOut beside other watchers). */
  watcher: RunWatcher;
  /** Prints a log line (the caller's prefix included) above the block. */
  log(line: string): void;
  /** Clears the block and stops redrawing. Safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  /** The clock, in ms; performance.now() by default. */
  now?: () => number;
  /** For `all`: the number of deployments of each scenario of the batch, in order. */
  deploymentsPerScenario?: readonly number[];
}

/**
 * The progress block on `stream` (process.stderr). On a terminal, a block redrawn at most four times a
 * second; otherwise nothing but the log lines, unchanged.
 *
 * @example
 *   const progress = createProgress(process.stderr);
 *   const log = (line: string) => progress.log(`splitlab: ${line}`);
 *   try { await runScenario(scenario, { runtime, log, watcher: progress.watcher }); } finally { progress.stop(); }
 */
export function createProgress(stream: NodeJS.WriteStream, options: ProgressOptions = {}): Progress {
  if (!stream.isTTY) {
    return {
      watcher: { emit: () => undefined },
      log: (line) => void stream.write(`${line}\n`),
      stop: () => undefined,
    };
  }
  const now = options.now ?? (() => performance.now());
  let state = initialProgressState();
  let drawnLines = 0;
  let drawnText = '';
  let stopped = false;
  const draw = (): void => {
    const columns = stream.columns > 0 ? stream.columns : 80;
    const lines = stopped ? [] : renderProgressLines(state, now()).map((line) => fitToWidth(line, columns));
    const text = lines.map((line) => `${line}\n`).join('');
    // Nothing changed on screen: nothing to write (most ticks between two seconds).
    if (drawnLines > 0 && text === drawnText) return;
    stream.write(`${clearBlock(drawnLines)}${text}`);
    drawnLines = lines.length;
    drawnText = text;
  };
  const timer = setInterval(() => {
    if (state.active || drawnLines > 0) draw();
  }, REDRAW_INTERVAL_MS);
  // The block never keeps the process alive on its own.
  timer.unref();
  return {
    watcher: {
      emit(event) {
        state = applyRunEvent(state, event, now(), options.deploymentsPerScenario);
        // Gone at once when the run ends, before the summary is printed; otherwise at the next tick.
        if (!state.active && drawnLines > 0) draw();
      },
    },
    // The block comes back at the next tick, so a burst of log lines does not redraw it for each.
    log(line) {
      stream.write(`${clearBlock(drawnLines)}${line}\n`);
      drawnLines = 0;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (drawnLines > 0) draw();
    },
  };
}
