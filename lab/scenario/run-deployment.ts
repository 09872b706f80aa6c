import { setTimeout as sleepFor } from 'node:timers/promises';
import { DEFAULTS } from '../defaults.ts';
import { isLabError, LabError } from '../errors.ts';
import { outcomesOf, perPhase, perSecond, recoverySeconds, wholeRunSummary } from '../load/aggregate.ts';
import {
  driveClosedLoad,
  type ClosedLoadRun,
  type ClosedStreamSummary,
  type DriveClosedLoadOptions,
} from '../load/closed-load.ts';
import { driveLoad, type DriveLoadOptions, type LoadRun } from '../load/drive-load.ts';
import type { RequestOutcome } from '../load/outcome.ts';
import { auditDatabases } from '../measure/audit.ts';
import {
  describeAction,
  evidenceEntry,
  floodEvidence,
  observeAction,
  type ObservedState,
} from '../measure/fault-evidence.ts';
import {
  sampleHealth,
  type HealthSampler,
  type HealthSamplerOptions,
  type PhaseInstruments,
} from '../measure/health-sampler.ts';
import { summarizeLoadHealth } from '../measure/load-health.ts';
import { scrapeMetrics, type MetricsScraper } from '../measure/metrics-scraper.ts';
import { summarizeServicePhases } from '../measure/service-phases.ts';
import { waitUntilSettled } from '../measure/settle.ts';
import type {
  AuditResult,
  ClosedStream,
  DeploymentResult,
  FaultEvidence,
  ServiceResult,
  ServiceSample,
  ValidityProblem,
} from '../results.ts';
import { NO_WATCHER, type RunWatcher } from '../live/run-events.ts';
import { tallySeconds } from '../live/second-tally.ts';
import type {
  LabLog,
  RuntimeAction,
  ServiceEndpoint,
  StartedDeployment,
  StartedLab,
} from '../runtime/runtime.ts';
import { ROUTES, ROUTE_TARGETS, type RouteName } from '../vocabulary/topology.ts';
import { collectDeploymentTraces, type DeploymentTraces } from './collect-traces.ts';
import { problemsOfEvidence } from './judge-validity.ts';
import {
  streamLoadModel,
  type DeploymentPlan,
  type PlannedFault,
  type PlannedPhase,
} from './plan-deployment.ts';

/**
 * The I/O the runner does besides the runtime: load, scraping, settling, the audit and the clock.
 * The real ones by default; a test passes fakes that finish at once and a clock that never waits.
 */
export interface RunSteps {
  driveLoad(options: DriveLoadOptions): LoadRun;
  /** A closed-model stream (autocannon), one per stream of the plan that has `connections`. */
  driveClosedLoad(options: DriveClosedLoadOptions): ClosedLoadRun;
  scrapeMetrics(
    services: readonly ServiceEndpoint[],
    startedAtMs: number,
    onSample?: (service: string, sample: ServiceSample) => void,
  ): MetricsScraper;
  waitUntilSettled: typeof waitUntilSettled;
  auditDatabases(
    databases: { users: string; payments: string },
    outcomes: readonly RequestOutcome[],
  ): Promise<AuditResult>;
  /** Milliseconds on a monotonic clock: `performance.now()`. */
  now(): number;
  /** Waits `ms`, or less when `signal` aborts; never rejects. */
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void>;
  /** The lab's own instruments per phase: event-loop delay, the machine's CPU, other labs. */
  sampleHealth(options: HealthSamplerOptions): HealthSampler;
}

export const REAL_RUN_STEPS: RunSteps = {
  driveLoad,
  driveClosedLoad,
  scrapeMetrics,
  waitUntilSettled,
  auditDatabases,
  sampleHealth,
  now: () => performance.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, signal ? { signal } : {}).catch(() => undefined),
};

export interface RunDeploymentOptions {
  log: LabLog;
  /** Ctrl-C: the run stops, tears down and ends in LabError INTERRUPTED (no report). */
  signal?: AbortSignal;
  /** Unique per deployment run, so emails and idempotency keys never collide with another's. */
  runTag: string;
  steps?: Partial<RunSteps>;
  /** Told of phases, faults and each second's outcomes as they happen (live view, progress). */
  watcher?: RunWatcher;
}

/** One deployment's results, the problems it found with the run's validity, and whether it stopped the run. */
export interface DeploymentRun {
  result: DeploymentResult;
  problems: ValidityProblem[];
  /**
   * Set when the lab could not go on (a dependency of the lab died, a fault was not observed after its
   * apply): the deployment is partial and the remaining deployments are skipped.
   */
  stoppedBy?: LabError;
}

interface RunContext {
  log: LabLog;
  runTag: string;
  steps: RunSteps;
  /** Aborts on Ctrl-C, when a dependency of the lab dies, or when the runner stops the run itself. */
  signal: AbortSignal;
  /** Stops the run from inside: the load at once, the timeline at its next step. */
  stop(reason: unknown): void;
  /** The observed fault timeline, step by step as the runner reads it back. */
  evidence: FaultEvidence[];
  watcher: RunWatcher;
  /** Where the load generator reaches a route: in the runtime's network when the generator runs there. */
  loadUrl(started: StartedDeployment, route: RouteName): string;
}

/** Throws the lab's INTERRUPTED error once Ctrl-C (the signal) has aborted the run. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new LabError(
      'INTERRUPTED',
      'interrupted: the run was stopped and everything it started was torn down',
    );
}

/** Waits until `targetMs` on the steps' clock; returns at once when it has passed or the run was stopped. */
async function sleepUntil(targetMs: number, context: RunContext): Promise<void> {
  const waitMs = targetMs - context.steps.now();
  if (waitMs <= 0 || context.signal.aborted) return;
  await context.steps.sleep(waitMs, context.signal);
}

/** The outcome of `promise` instead of its rejection, so the steps after it still run. */
function settled<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}

/** One runtime action applied in a phase, and whether its undo has run. */
interface AppliedAction {
  fault: PlannedFault;
  action: RuntimeAction;
  undone: boolean;
}

const formatLag = (entry: FaultEvidence): string => `${Math.round(entry.lagMs ?? 0)} ms`;

/**
 * Reads back every action of `applied` (in effect after an apply, gone after an undo), records one
 * evidence entry each and logs it. Returns the entries that were not observed.
 */
async function observeStep(
  started: StartedDeployment,
  plan: DeploymentPlan,
  phase: PlannedPhase,
  step: FaultEvidence['step'],
  applied: readonly AppliedAction[],
  startedAtMs: number,
  context: RunContext,
): Promise<FaultEvidence[]> {
  const { window } = phase;
  const plannedAtS = step === 'apply' ? window.startS : window.endS;
  const observations: ObservedState[] = await Promise.all(
    applied.map((entry) =>
      observeAction(started, entry.action, step === 'apply', context.steps, context.signal),
    ),
  );
  const prefix =
    step === 'apply'
      ? `[${plan.label}] t=${plannedAtS}s ${window.name}:`
      : `[${plan.label}] t=${plannedAtS}s end of ${window.name}: undo`;
  const missed: FaultEvidence[] = [];
  for (const [index, entry] of applied.entries()) {
    const observed = observations[index];
    if (!observed) continue;
    const evidence = evidenceEntry(
      step,
      {
        phase: window.name,
        fault: entry.fault.description,
        action: describeAction(entry.action),
        plannedAtS,
      },
      observed,
      startedAtMs,
    );
    context.evidence.push(evidence);
    if (evidence.observed) {
      context.log(`${prefix} observed after ${formatLag(evidence)} (${evidence.evidence})`);
    } else {
      missed.push(evidence);
      context.log(
        `${prefix} NOT observed within ${DEFAULTS.observeTimeoutMs} ms: ${evidence.action} (last read: ${evidence.evidence}); the run is invalid`,
      );
    }
  }
  return missed;
}

/**
 * One phase: its faults applied at its start and read back until they show in effect, undone at its
 * end in reverse order (whether the phase completed, an apply threw or the run was stopped) and read
 * back until they are gone. A fault not observed after its apply stops the run: the lab could not do
 * what the scenario asked.
 */
async function runPhase(
  started: StartedDeployment,
  plan: DeploymentPlan,
  phase: PlannedPhase,
  startedAtMs: number,
  context: RunContext,
): Promise<void> {
  const { window } = phase;
  const { log } = context;
  await sleepUntil(startedAtMs + window.startS * 1000, context);
  if (context.signal.aborted) return;
  const applied: AppliedAction[] = [];
  // Faults the watcher was told are in effect: it is told they are gone once the undos are done.
  const announced: string[] = [];
  // Undos run when this block ends, whether the phase completed or something threw; the read-back of
  // the undos is deferred first, so it runs after all of them.
  await using undoStack = new AsyncDisposableStack();
  undoStack.defer(async () => {
    const undone = applied.filter((entry) => entry.undone);
    if (undone.length > 0 && !context.signal.aborted)
      await observeStep(started, plan, phase, 'undo', undone, startedAtMs, context);
    const atS = secondsSince(startedAtMs, context);
    for (const id of announced) context.watcher.emit({ type: 'fault-undone', label: plan.label, id, atS });
  });
  for (const fault of phase.faults) {
    if (!fault.touches) {
      log(
        `[${plan.label}] t=${window.startS}s ${window.name}: "${fault.description}" does not touch ${plan.deployment}`,
      );
      continue;
    }
    for (const action of fault.runtimeActions) {
      const undo = await started.apply(action);
      const entry: AppliedAction = { fault, action, undone: false };
      applied.push(entry);
      undoStack.defer(async () => {
        await undo();
        entry.undone = true;
      });
    }
    log(`[${plan.label}] t=${window.startS}s ${window.name}: ${fault.description}`);
  }
  if (phase.faults.length === 0) log(`[${plan.label}] t=${window.startS}s ${window.name}`);
  context.watcher.emit({
    type: 'phase-started',
    label: plan.label,
    phase: window.name,
    startS: window.startS,
    endS: window.endS,
  });
  const missed = await observeStep(started, plan, phase, 'apply', applied, startedAtMs, context);
  const [first] = missed;
  if (first) {
    context.stop(
      new LabError(
        'FAULT_NOT_OBSERVED',
        `${first.action} (${first.fault}) was not observed in effect within ${DEFAULTS.observeTimeoutMs} ms ` +
          `of its apply at t=${window.startS} s of ${plan.label} (last read: ${first.evidence})`,
      ),
    );
    return;
  }
  announced.push(...announceFaults(plan, phase, startedAtMs, context));
  await sleepUntil(startedAtMs + window.endS * 1000, context);
  if (phase.injects && !context.signal.aborted)
    log(`[${plan.label}] t=${window.endS}s end of ${window.name}: undoing its faults`);
}

function secondsSince(startedAtMs: number, context: RunContext): number {
  return Math.round(context.steps.now() - startedAtMs) / 1000;
}

/** Tells the watcher about each fault of the phase that touches this deployment, now in effect. */
function announceFaults(
  plan: DeploymentPlan,
  phase: PlannedPhase,
  startedAtMs: number,
  context: RunContext,
): string[] {
  const atS = secondsSince(startedAtMs, context);
  return phase.faults.flatMap((fault, index) => {
    if (!fault.touches) return [];
    const id = `${plan.label}@${phase.window.name}#${index}`;
    context.watcher.emit({
      type: 'fault-applied',
      label: plan.label,
      id,
      fault: fault.fault,
      description: fault.description,
      source: 'timeline',
      atS,
    });
    return [id];
  });
}

async function runTimeline(
  started: StartedDeployment,
  plan: DeploymentPlan,
  startedAtMs: number,
  context: RunContext,
): Promise<void> {
  for (const phase of plan.phases) {
    if (context.signal.aborted) return;
    await runPhase(started, plan, phase, startedAtMs, context);
  }
}

/** What the drive measured, and the error that ended the timeline early if one did. */
interface Driven {
  startedAtMs: number;
  /** Every request's outcome, open and closed (`loadModel: 'closed'`). */
  outcomes: RequestOutcome[];
  /** Each closed stream's summary, by its index in the plan's load. */
  closedStreams: { stream: number; summary: ClosedStreamSummary }[];
  services: ServiceResult[];
  scrapeTimesMs: readonly number[];
  instruments: (PhaseInstruments | undefined)[];
  timelineError?: { error: unknown };
}

/**
 * Step "drive + faults": load the whole timeline long while the phases apply and undo their faults,
 * with the scraper and the health sampler watching. When the timeline throws, the load is stopped at
 * once. The load generator, the scraper and the sampler are each awaited exactly once, on every path,
 * so no request outlives the deployment it was sent to.
 */
async function driveWithFaults(
  started: StartedDeployment,
  plan: DeploymentPlan,
  context: RunContext,
): Promise<Driven> {
  const { steps } = context;
  const startedAtMs = steps.now();
  const tally = tallySeconds({
    label: plan.label,
    routes: ROUTES,
    services: started.services.map((service) => service.name),
    startedAtMs,
    watcher: context.watcher,
  });
  const scraper = steps.scrapeMetrics(started.services, startedAtMs, (service, sample) =>
    tally.sample(service, sample),
  );
  const sampler = steps.sampleHealth({
    windows: plan.phases.map((phase) => phase.window),
    startedAtMs,
    log: context.log,
    label: plan.label,
  });
  let load: LoadRun;
  const closedRuns: { stream: number; run: ClosedLoadRun }[] = [];
  try {
    for (const [stream, planned] of plan.load.entries()) {
      if (planned.connections === undefined) continue;
      const run = steps.driveClosedLoad({
        load: {
          route: planned.route,
          url: context.loadUrl(started, planned.route),
          connections: planned.connections,
          stream,
          ...(planned.fromS !== undefined ? { fromS: planned.fromS } : {}),
          ...(planned.untilS !== undefined ? { untilS: planned.untilS } : {}),
        },
        durationS: plan.durationS,
        timeoutMs: DEFAULTS.clientTimeoutMs,
        runTag: context.runTag,
        startedAtMs,
        signal: context.signal,
        onOutcome: (outcome) => tally.outcome(outcome),
        traceRequests: true,
      });
      closedRuns.push({ stream, run });
    }
    load = steps.driveLoad({
      routes: plan.load.map((stream) => ({ ...stream, url: context.loadUrl(started, stream.route) })),
      durationS: plan.durationS,
      timeoutMs: DEFAULTS.clientTimeoutMs,
      maxInFlightPerRoute: DEFAULTS.maxInFlightPerRoute,
      runTag: context.runTag,
      startedAtMs,
      signal: context.signal,
      onOutcome: (outcome) => tally.outcome(outcome),
      // Every lab has a trace collector, so every request carries its own trace id.
      traceRequests: true,
    });
  } catch (error) {
    context.stop(error);
    await Promise.allSettled(closedRuns.map((closed) => closed.run.finished));
    tally.stop();
    await scraper.stop();
    await sampler.stop();
    throw error;
  }
  const timeline = await settled(runTimeline(started, plan, startedAtMs, context));
  if (timeline.status === 'rejected') context.stop(timeline.reason);
  // The scraper keeps watching until the last request has come back.
  const outcomes = await settled(load.finished);
  const closed = await Promise.all(
    closedRuns.map(async ({ stream, run }) => ({ stream, ...(await run.finished) })),
  );
  const services = await settled(scraper.stop());
  const instruments = await sampler.stop();
  tally.stop();
  if (outcomes.status === 'rejected') throw outcomes.reason;
  if (services.status === 'rejected') throw services.reason;
  return {
    startedAtMs,
    outcomes: [...outcomes.value, ...closed.flatMap((stream) => stream.outcomes)],
    closedStreams: closed.map(({ stream, summary }) => ({ stream, summary })),
    services: services.value,
    scrapeTimesMs: scraper.sampleTimesMs(),
    instruments,
    ...(timeline.status === 'rejected' ? { timelineError: { error: timeline.reason } } : {}),
  };
}

/** Steps "settle" and "audit": wait for outboxes and sagas to drain, then read the databases directly. */
async function settleAndAudit(
  started: StartedDeployment,
  outcomes: readonly RequestOutcome[],
  context: RunContext,
): Promise<AuditResult> {
  const { steps, signal } = context;
  const settledWork = await steps.waitUntilSettled(started.services, {
    minimumMs: DEFAULTS.settleMs,
    timeoutMs: DEFAULTS.settleTimeoutMs,
    signal,
  });
  return {
    ...(await steps.auditDatabases(started.databases, outcomes)),
    settledAfterMs: settledWork.waitedMs,
    stillPending: settledWork.stillPending,
  };
}

function notAudited(why: string): AuditResult {
  return {
    users: 0,
    payments: 0,
    orphanUsers: 0,
    doubleCharges: 0,
    acknowledgedWithoutRow: 0,
    failedButCommitted: 0,
    notAudited: why,
  };
}

/** A partial deployment's audit: no settling (its services may be gone), at most 5 s, or why not. */
async function auditWhatExists(
  started: StartedDeployment,
  outcomes: readonly RequestOutcome[],
  context: RunContext,
): Promise<AuditResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      context.steps.auditDatabases(started.databases, outcomes),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the databases did not answer within 5 s')), 5000);
      }),
    ]);
  } catch (error) {
    return notAudited(`the run stopped and the databases could not be read: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Step "aggregate": per-second and per-phase figures per route, recovery and service phases. Pure. */
export function aggregateDeployment(
  plan: DeploymentPlan,
  measured: {
    outcomes: readonly RequestOutcome[];
    services: ServiceResult[];
    audit: AuditResult;
    resources: Record<string, string>;
  },
): DeploymentResult {
  const windows = plan.phases.map((phase) => phase.window);
  const routes = ROUTES.map((route) => {
    const all = outcomesOf(measured.outcomes, route);
    const open = all.filter((outcome) => outcome.loadModel !== 'closed');
    const closed = all.filter((outcome) => outcome.loadModel === 'closed');
    const closedConnections = plan.load
      .filter((stream) => stream.route === route && stream.connections !== undefined)
      .reduce((sum, stream) => sum + (stream.connections ?? 0), 0);
    const target = ROUTE_TARGETS[plan.deployment][route];
    return {
      route,
      target: `POST ${target.path} on ${target.service} via ${target.link}`,
      seconds: perSecond(open, plan.durationS),
      phases: perPhase(open, windows),
      ...(open.length > 0 ? { wholeRun: wholeRunSummary(open, plan.durationS) } : {}),
      ...(closedConnections > 0
        ? {
            closedModel: {
              connections: closedConnections,
              seconds: perSecond(closed, plan.durationS),
              phases: perPhase(closed, windows).map((phase) => ({ ...phase, loadModel: 'closed' as const })),
              wholeRun: { ...wholeRunSummary(closed, plan.durationS), loadModel: 'closed' as const },
            },
          }
        : {}),
    };
  });
  return {
    deployment: plan.label,
    topology: plan.deployment,
    settings: plan.start.settings,
    resources: measured.resources,
    routes,
    services: measured.services,
    servicePhases: summarizeServicePhases(measured.services, windows),
    recovery: plan.recovery.flatMap((window) =>
      routes.map((route) => ({
        route: route.route,
        afterPhase: window.afterPhase,
        seconds: recoverySeconds(route.seconds, window.healAtS),
      })),
    ),
    audit: measured.audit,
  };
}

/** The deployment's results with what its traces showed: per phase, and the exemplars. */
function withTraces(result: DeploymentResult, traces: DeploymentTraces): DeploymentResult {
  return {
    ...result,
    routes: result.routes.map((route) => ({
      ...route,
      phases: route.phases.map((phase) => {
        const phaseTraces = traces.phaseTraces(route.route, phase.phase);
        return phaseTraces ? { ...phase, traces: phaseTraces } : phase;
      }),
    })),
    exemplars: traces.exemplars,
  };
}

/** Every flood of the plan with the load stream that sends it. */
function plannedFloods(plan: DeploymentPlan) {
  return plan.phases.flatMap((phase) =>
    phase.faults.flatMap((fault) =>
      fault.floods.map((flood) => ({ phase, fault, flood, stream: plan.load.indexOf(flood) })),
    ),
  );
}

/** The evidence of the floods, from the load's own outcomes; each logged like a runtime action's. */
function recordFloodEvidence(
  plan: DeploymentPlan,
  driven: Driven,
  stoppedAtS: number | null,
  context: RunContext,
): void {
  for (const { phase, fault, flood, stream } of plannedFloods(plan)) {
    const { window } = phase;
    if (stoppedAtS !== null && window.startS > stoppedAtS) continue;
    const entries = floodEvidence(
      {
        phase: window.name,
        fault: fault.description,
        route: flood.route,
        load: streamLoadModel(flood),
        window,
      },
      stream,
      driven.outcomes,
      plan.durationS,
      stoppedAtS,
    );
    for (const entry of entries) {
      context.evidence.push(entry);
      const where =
        entry.step === 'apply'
          ? `t=${window.startS}s ${window.name}:`
          : `t=${window.endS}s end of ${window.name}: undo`;
      const lag = entry.step === 'apply' ? ` after ${formatLag(entry)}` : '';
      context.log(
        entry.observed
          ? `[${plan.label}] ${where} observed${lag} (${entry.action}: ${entry.evidence})`
          : `[${plan.label}] ${where} NOT observed: ${entry.action} (${entry.evidence}); the run is invalid`,
      );
    }
  }
}

/** The closed streams' summaries as results.json records them: steady or a flood (and its phase). */
function closedStreamResults(
  plan: DeploymentPlan,
  streams: readonly { stream: number; summary: ClosedStreamSummary }[],
): ClosedStream[] {
  const floods = plannedFloods(plan);
  return streams.map(({ stream, summary }) => {
    const flood = floods.find((candidate) => candidate.stream === stream);
    return {
      ...summary,
      role: flood ? ('flood' as const) : ('steady' as const),
      ...(flood ? { phase: flood.phase.window.name } : {}),
    };
  });
}

/** The observed fault timeline in time order; at the same time an undo comes before the next apply. */
function inTimeOrder(evidence: readonly FaultEvidence[]): FaultEvidence[] {
  return [...evidence].sort(
    (a, b) => a.plannedAtS - b.plannedAtS || (a.step === b.step ? 0 : a.step === 'undo' ? -1 : 1),
  );
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why a deployment stopped the run: what died, or which fault was not observed. */
interface StopReason {
  kind: 'dependency-failed' | 'fault-not-observed';
  error: LabError;
}

/**
 * Why the run stopped early, if it did for a reason that makes it invalid rather than broken: a
 * dependency of the lab died (its watchdog aborted `lab.failed`), or a fault was not observed. The
 * watchdog notices a death within 1-2 s, so after an error or a missed fault the runner gives it that
 * long before it blames the error itself: the lab never blames the system under test, nor a fault, for
 * its own failure.
 */
async function whyStopped(
  lab: StartedLab,
  internal: AbortSignal,
  failed: boolean,
  steps: RunSteps,
): Promise<StopReason | undefined> {
  if ((failed || internal.aborted) && !lab.failed.aborted)
    await steps.sleep(DEFAULTS.dependencyGraceMs, lab.failed);
  if (lab.failed.aborted) {
    const reason: unknown = lab.failed.reason;
    const error = isLabError(reason) ? reason : new LabError('DEPENDENCY_FAILED', errorMessage(reason));
    return { kind: 'dependency-failed', error };
  }
  const reason: unknown = internal.reason;
  return internal.aborted && isLabError(reason) && reason.code === 'FAULT_NOT_OBSERVED'
    ? { kind: 'fault-not-observed', error: reason }
    : undefined;
}

/**
 * Runs one deployment through its plan in named steps: start, drive + faults (each read back), settle,
 * audit, aggregate, load health. The deployment is stopped before this returns or throws.
 *
 * - Ctrl-C (`signal`) ends in LabError INTERRUPTED after that teardown.
 * - When a dependency of the lab dies (`lab.failed`) or a fault is not observed after its apply, the
 *   load stops at once, the faults are undone, what exists is audited and aggregated, and the result
 *   comes back `partial` with `stoppedBy` set: the caller skips the remaining deployments.
 *
 * @example
 *   const { result, problems } = await runDeployment(lab, planDeployment(scenario, split()), { log: console.log, runTag: 'a1b2v1' });
 */
export async function runDeployment(
  lab: StartedLab,
  plan: DeploymentPlan,
  options: RunDeploymentOptions,
): Promise<DeploymentRun> {
  // A generator in the runtime's network replaces the lab's own, unless a test brings its own steps.
  const generatorSteps: Partial<RunSteps> = lab.generator
    ? { driveLoad: lab.generator.driveLoad, driveClosedLoad: lab.generator.driveClosedLoad }
    : {};
  const steps = { ...REAL_RUN_STEPS, ...generatorSteps, ...options.steps };
  const internal = new AbortController();
  const context: RunContext = {
    log: options.log,
    runTag: options.runTag,
    steps,
    signal: AbortSignal.any([lab.failed, internal.signal, ...(options.signal ? [options.signal] : [])]),
    stop: (reason) => {
      if (!internal.signal.aborted) internal.abort(reason);
    },
    evidence: [],
    watcher: options.watcher ?? NO_WATCHER,
    loadUrl: (started, route) =>
      lab.generator && !options.steps?.driveLoad && started.routeUrlInNetwork
        ? started.routeUrlInNetwork(route)
        : started.routeUrl(route),
  };
  let stoppedAtMs: number | null = null;
  if (context.signal.aborted) stoppedAtMs = steps.now();
  else context.signal.addEventListener('abort', () => (stoppedAtMs = steps.now()), { once: true });

  let driven: Driven | undefined;
  let audit: AuditResult | undefined;
  let traces: DeploymentTraces | undefined;
  let resources: Record<string, string> = {};
  let failure: { error: unknown } | undefined;
  let stop: StopReason | undefined;
  let stopJudged = false;
  context.log(`[${plan.label}] starting services ...`);
  try {
    await using started = await lab.startDeployment(plan.deployment, plan.start);
    resources = started.resources;
    context.watcher.emit({
      type: 'deployment-started',
      label: plan.label,
      deployment: plan.deployment,
      routeUrls: Object.fromEntries(ROUTES.map((route) => [route, started.routeUrl(route)])) as Record<
        RouteName,
        string
      >,
    });
    if (!context.signal.aborted) {
      driven = await driveWithFaults(started, plan, context);
      failure = driven.timelineError;
      if (!context.signal.aborted) {
        audit = await settleAndAudit(started, driven.outcomes, context);
        traces = await collectDeploymentTraces(
          lab.traces,
          started.serviceLogs(),
          // Exemplars and phase traces are the open model's: the closed one's would be mixed in.
          driven.outcomes.filter((outcome) => outcome.loadModel !== 'closed'),
          plan.phases.map((phase) => phase.window),
        );
      } else if (!options.signal?.aborted) {
        // Stopped early: audit what exists while the deployment is still up, if the lab is the reason.
        stop = await whyStopped(lab, internal.signal, failure !== undefined, steps);
        stopJudged = true;
        if (stop) audit = await auditWhatExists(started, driven.outcomes, context);
      }
    }
  } catch (error) {
    failure = { error };
  }
  context.watcher.emit({ type: 'deployment-finished', label: plan.label });
  throwIfAborted(options.signal);
  if (!stopJudged) stop = await whyStopped(lab, internal.signal, failure !== undefined, steps);
  if (failure && !stop) throw failure.error;
  // What failed after the stop (an undo or a teardown meeting the dead dependency) is said once, calmly.
  if (failure && stop)
    context.log(
      `[${plan.label}] after the stop: ${errorMessage(failure.error)}; some of it may be left behind`,
    );
  const stoppedBy = stop?.error;

  const startedAtMs = driven?.startedAtMs ?? null;
  const stoppedAtS =
    stoppedBy && startedAtMs !== null && stoppedAtMs !== null
      ? Math.round(stoppedAtMs - startedAtMs) / 1000
      : stoppedBy
        ? 0
        : null;
  const outcomes = driven?.outcomes ?? [];
  const result = aggregateDeployment(plan, {
    outcomes,
    services: driven?.services ?? [],
    audit: audit ?? notAudited(`the run stopped before the audit: ${stoppedBy?.message ?? 'unknown'}`),
    resources,
  });
  if (driven) recordFloodEvidence(plan, driven, stoppedAtS, context);
  const faultEvidence = inTimeOrder(context.evidence);
  const { loadHealth, problems: healthProblems } = summarizeLoadHealth({
    deployment: plan.label,
    windows: plan.phases.map((phase) => phase.window),
    streams: plan.load,
    durationS: plan.durationS,
    stoppedAtS,
    // The open generator's health; a closed stream's own is in closedStreams (bounds, CPU).
    outcomes: outcomes.filter((outcome) => outcome.loadModel !== 'closed'),
    scrapeTimesMs: driven?.scrapeTimesMs ?? [],
    instruments: driven?.instruments ?? [],
  });
  const problems: ValidityProblem[] = [
    ...(stop?.kind === 'dependency-failed'
      ? [
          {
            kind: 'dependency-failed' as const,
            severity: 'invalid' as const,
            deployment: plan.label,
            message:
              `${stop.error.message} (at t=${stoppedAtS ?? 0} s of ${plan.label}'s timeline` +
              `${driven ? '' : ', while its services started'}); the load was stopped and the remaining ` +
              'deployments skipped',
          },
        ]
      : []),
    ...problemsOfEvidence(plan.label, faultEvidence),
    ...healthProblems,
  ];
  return {
    result: {
      ...(traces ? withTraces(result, traces) : result),
      faultEvidence,
      loadHealth,
      loadStreams: plan.load.map((stream) => ({
        route: stream.route,
        ...streamLoadModel(stream),
        ...(stream.fromS !== undefined ? { fromS: stream.fromS } : {}),
        ...(stream.untilS !== undefined ? { untilS: stream.untilS } : {}),
      })),
      ...(driven && driven.closedStreams.length > 0
        ? { closedStreams: closedStreamResults(plan, driven.closedStreams) }
        : {}),
      ...(stoppedBy ? { partial: true } : {}),
    },
    problems,
    ...(stoppedBy ? { stoppedBy } : {}),
  };
}
