import { setTimeout as sleepFor } from 'node:timers/promises';
import { DEFAULTS } from '../defaults.ts';
import { LabError } from '../errors.ts';
import { outcomesOf, perPhase, perSecond, recoverySeconds } from '../load/aggregate.ts';
import { driveLoad, type DriveLoadOptions, type LoadRun } from '../load/drive-load.ts';
import type { RequestOutcome } from '../load/outcome.ts';
import { auditDatabases } from '../measure/audit.ts';
import { scrapeMetrics, type MetricsScraper } from '../measure/metrics-scraper.ts';
import { summarizeServicePhases } from '../measure/service-phases.ts';
import { waitUntilSettled } from '../measure/settle.ts';
import type { AuditResult, DeploymentResult, ServiceResult } from '../results.ts';
import type { LabLog, ServiceEndpoint, StartedDeployment, StartedLab } from '../runtime/runtime.ts';
import { ROUTES, ROUTE_TARGETS } from '../vocabulary/topology.ts';
import type { DeploymentPlan, PlannedPhase } from './plan-deployment.ts';

/**
 * The I/O the runner does besides the runtime: load, scraping, settling, the audit and the clock.
 * The real ones by default; a test passes fakes that finish at once and a clock that never waits.
 */
export interface RunSteps {
  driveLoad(options: DriveLoadOptions): LoadRun;
  scrapeMetrics(services: readonly ServiceEndpoint[], startedAtMs: number): MetricsScraper;
  waitUntilSettled: typeof waitUntilSettled;
  auditDatabases(
    databases: { users: string; payments: string },
    outcomes: readonly RequestOutcome[],
  ): Promise<AuditResult>;
  /** Milliseconds on a monotonic clock: `performance.now()`. */
  now(): number;
  /** Waits `ms`, or less when `signal` aborts; never rejects. */
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void>;
}

export const REAL_RUN_STEPS: RunSteps = {
  driveLoad,
  scrapeMetrics,
  waitUntilSettled,
  auditDatabases,
  now: () => performance.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, signal ? { signal } : {}).catch(() => undefined),
};

export interface RunDeploymentOptions {
  log: LabLog;
  signal?: AbortSignal;
  /** Unique per deployment run, so emails and idempotency keys never collide with another's. */
  runTag: string;
  steps?: Partial<RunSteps>;
}

interface RunContext {
  log: LabLog;
  signal: AbortSignal | undefined;
  runTag: string;
  steps: RunSteps;
}

/** Throws the lab's INTERRUPTED error once Ctrl-C (the signal) has aborted the run. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new LabError(
      'INTERRUPTED',
      'interrupted: the run was stopped and everything it started was torn down',
    );
}

/** Waits until `targetMs` on the steps' clock; returns at once when it has passed or the run was aborted. */
async function sleepUntil(targetMs: number, context: RunContext): Promise<void> {
  const waitMs = targetMs - context.steps.now();
  if (waitMs <= 0 || context.signal?.aborted) return;
  await context.steps.sleep(waitMs, context.signal);
}

/** The outcome of `promise` instead of its rejection, so the steps after it still run. */
function settled<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}

/**
 * One phase: its faults applied at its start, undone at its end in reverse order, whether the phase
 * completed, an apply threw or the run was aborted.
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
  throwIfAborted(context.signal);
  // Undos run when this block ends, whether the phase completed or something threw.
  await using undoStack = new AsyncDisposableStack();
  for (const fault of phase.faults) {
    if (!fault.touches) {
      log(
        `[${plan.label}] t=${window.startS}s ${window.name}: "${fault.description}" does not touch ${plan.deployment}`,
      );
      continue;
    }
    for (const action of fault.runtimeActions) undoStack.defer(await started.apply(action));
    log(`[${plan.label}] t=${window.startS}s ${window.name}: ${fault.description}`);
  }
  if (phase.faults.length === 0) log(`[${plan.label}] t=${window.startS}s ${window.name}`);
  await sleepUntil(startedAtMs + window.endS * 1000, context);
  if (phase.injects) log(`[${plan.label}] t=${window.endS}s end of ${window.name}: undoing its faults`);
}

async function runTimeline(
  started: StartedDeployment,
  plan: DeploymentPlan,
  startedAtMs: number,
  context: RunContext,
): Promise<void> {
  for (const phase of plan.phases) await runPhase(started, plan, phase, startedAtMs, context);
}

/**
 * Step "drive + faults": load the whole timeline long while the phases apply and undo their faults.
 * The load generator and the scraper are each awaited exactly once, on every path, so no request
 * outlives the deployment it was sent to.
 */
async function driveWithFaults(
  started: StartedDeployment,
  plan: DeploymentPlan,
  context: RunContext,
): Promise<{ outcomes: RequestOutcome[]; services: ServiceResult[] }> {
  const { steps, signal } = context;
  const startedAtMs = steps.now();
  const scraper = steps.scrapeMetrics(started.services, startedAtMs);
  let load: LoadRun;
  try {
    load = steps.driveLoad({
      routes: plan.load.map((stream) => ({ ...stream, url: started.routeUrl(stream.route) })),
      durationS: plan.durationS,
      timeoutMs: DEFAULTS.clientTimeoutMs,
      maxInFlightPerRoute: DEFAULTS.maxInFlightPerRoute,
      runTag: context.runTag,
      startedAtMs,
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    await scraper.stop();
    throw error;
  }
  const timeline = await settled(runTimeline(started, plan, startedAtMs, context));
  // The scraper keeps watching until the last request has come back.
  const outcomes = await settled(load.finished);
  const services = await settled(scraper.stop());
  if (timeline.status === 'rejected') throw timeline.reason;
  if (outcomes.status === 'rejected') throw outcomes.reason;
  if (services.status === 'rejected') throw services.reason;
  return { outcomes: outcomes.value, services: services.value };
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
    ...(signal ? { signal } : {}),
  });
  return {
    ...(await steps.auditDatabases(started.databases, outcomes)),
    settledAfterMs: settledWork.waitedMs,
    stillPending: settledWork.stillPending,
  };
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
    const routeOutcomes = outcomesOf(measured.outcomes, route);
    const target = ROUTE_TARGETS[plan.deployment][route];
    return {
      route,
      target: `POST ${target.path} on ${target.service} via ${target.link}`,
      seconds: perSecond(routeOutcomes, plan.durationS),
      phases: perPhase(routeOutcomes, windows),
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

/**
 * Runs one deployment through its plan in named steps: start, drive + faults, settle, audit,
 * aggregate. The deployment is stopped before this returns or throws; an aborted `signal` (Ctrl-C)
 * ends in LabError INTERRUPTED after that teardown.
 *
 * @example
 *   const result = await runDeployment(lab, planDeployment(scenario, split()), { log: console.log, runTag: 'a1b2v1' });
 */
export async function runDeployment(
  lab: StartedLab,
  plan: DeploymentPlan,
  options: RunDeploymentOptions,
): Promise<DeploymentResult> {
  const context: RunContext = {
    log: options.log,
    signal: options.signal,
    runTag: options.runTag,
    steps: { ...REAL_RUN_STEPS, ...options.steps },
  };
  context.log(`[${plan.label}] starting services ...`);
  await using started = await lab.startDeployment(plan.deployment, plan.start);
  throwIfAborted(context.signal);
  const { outcomes, services } = await driveWithFaults(started, plan, context);
  throwIfAborted(context.signal);
  const audit = await settleAndAudit(started, outcomes, context);
  return aggregateDeployment(plan, { outcomes, services, audit, resources: started.resources });
}
