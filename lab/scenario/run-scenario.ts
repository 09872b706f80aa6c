import { randomBytes } from 'node:crypto';
import { auditDatabases } from '../audit.ts';
import { LabError } from '../errors.ts';
import { describeFault } from '../faults.ts';
import { perPhase, perSecond, outcomesOf, recoverySeconds } from '../load/aggregate.ts';
import { driveLoad } from '../load/drive-load.ts';
import { scrapeMetrics } from '../metrics-scraper.ts';
import {
  RESULTS_SCHEMA_VERSION,
  type DeploymentName,
  type DeploymentResult,
  type FaultWindow,
  type PhaseWindow,
  type RunResults,
} from '../results.ts';
import type { LabLog, Runtime, StartedLab, Undo } from '../runtime.ts';
import { DEFAULTS } from '../defaults.ts';
import { LINKS, ROUTES, ROUTE_TARGETS } from '../topology.ts';
import type { Scenario } from './define-scenario.ts';
import { evaluateClaims } from './evaluate-claims.ts';

export interface RunScenarioOptions {
  runtime: Runtime;
  log: LabLog;
  signal?: AbortSignal;
  runId?: string;
}

/** Phase windows on the timeline, in seconds from t = 0. */
export function phaseWindows(scenario: Scenario): PhaseWindow[] {
  let startS = 0;
  return scenario.timeline.map((phase) => {
    const window = { name: phase.name, startS, endS: startS + phase.durationS };
    startS = window.endS;
    return window;
  });
}

export function faultWindows(scenario: Scenario): FaultWindow[] {
  const windows = phaseWindows(scenario);
  return scenario.timeline.flatMap((phase, index) =>
    (phase.faults ?? []).map((fault) => ({
      fault: fault.kind,
      link: fault.link,
      description: describeFault(fault),
      startS: windows[index]?.startS ?? 0,
      endS: windows[index]?.endS ?? 0,
      deployments: scenario.deployments.filter((deployment) => LINKS[fault.link].deployment === deployment),
    })),
  );
}

export function newRunId(scenarioName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return `${stamp}_${scenarioName}_${randomBytes(2).toString('hex')}`;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new LabError(
      'INTERRUPTED',
      'interrupted: the run was stopped and everything it started was torn down',
    );
}

async function sleepUntil(targetMs: number, signal: AbortSignal | undefined): Promise<void> {
  const waitMs = targetMs - performance.now();
  if (waitMs <= 0 || signal?.aborted) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * Runs one deployment through the scenario's timeline: load the whole time, each phase's faults applied
 * at its start and undone at its end (always, even when something fails), then settle and audit.
 */
async function runDeployment(
  lab: StartedLab,
  scenario: Scenario,
  deployment: DeploymentName,
  options: RunScenarioOptions & { runTag: string },
): Promise<DeploymentResult> {
  const { log, signal } = options;
  log(`[${deployment}] starting services ...`);
  await using started = await lab.startDeployment(deployment);
  throwIfAborted(signal);
  const phases = phaseWindows(scenario);
  const startedAtMs = performance.now();
  const scraper = scrapeMetrics(started.services, startedAtMs);
  const load = driveLoad({
    routes: ROUTES.map((route) => ({
      route,
      url: started.routeUrl(route),
      ratePerSecond: scenario.load[route].ratePerSecond,
    })),
    durationS: scenario.durationS,
    timeoutMs: DEFAULTS.clientTimeoutMs,
    maxInFlightPerRoute: DEFAULTS.maxInFlightPerRoute,
    runTag: options.runTag,
    startedAtMs,
    ...(signal ? { signal } : {}),
  });
  try {
    for (const [index, phase] of scenario.timeline.entries()) {
      const window = phases[index];
      if (!window) continue;
      await sleepUntil(startedAtMs + window.startS * 1000, signal);
      throwIfAborted(signal);
      await using undoStack = new AsyncDisposableStack();
      const applicable = (phase.faults ?? []).filter((fault) => LINKS[fault.link].deployment === deployment);
      for (const fault of applicable) {
        const undo: Undo = await started.applyFault(fault);
        undoStack.defer(undo);
        log(`[${deployment}] t=${window.startS}s ${phase.name}: ${describeFault(fault)}`);
      }
      const skipped = (phase.faults ?? []).filter((fault) => !applicable.includes(fault));
      if (applicable.length === 0) log(`[${deployment}] t=${window.startS}s ${phase.name}`);
      for (const fault of skipped) {
        log(
          `[${deployment}] t=${window.startS}s ${phase.name}: no ${fault.link} link in ${deployment}, nothing to inject`,
        );
      }
      await sleepUntil(startedAtMs + window.endS * 1000, signal);
      if (applicable.length > 0)
        log(`[${deployment}] t=${window.endS}s heal: faults of ${phase.name} undone`);
    }
  } finally {
    // Always wait for the generator and the scraper, so no request outlives the deployment it was sent to.
    await load.finished.catch(() => []);
    await scraper.stop();
  }
  const outcomes = await load.finished;
  const services = await scraper.stop();
  throwIfAborted(signal);
  await new Promise((resolve) => setTimeout(resolve, DEFAULTS.settleMs));
  const audit = await auditDatabases(started.databases);

  const routes = ROUTES.map((route) => {
    const routeOutcomes = outcomesOf(outcomes, route);
    const target = ROUTE_TARGETS[deployment][route];
    return {
      route,
      target: `POST ${target.path} on ${target.service} via ${target.link}`,
      seconds: perSecond(routeOutcomes, scenario.durationS),
      phases: perPhase(routeOutcomes, phases),
    };
  });
  // Recovery is measured only after phases that really injected something into this deployment.
  const recovery = scenario.timeline.flatMap((phase, index) =>
    (phase.faults ?? []).some((fault) => LINKS[fault.link].deployment === deployment)
      ? routes.map((route) => ({
          route: route.route,
          afterPhase: phase.name,
          seconds: recoverySeconds(route.seconds, phases[index]?.endS ?? 0),
        }))
      : [],
  );
  return { deployment, routes, services, recovery, audit };
}

/**
 * The pipeline: start the topology -> for each deployment in turn, drive load while the timeline applies
 * faults -> settle -> audit -> evaluate the hypothesis. Returns the serialisable results; everything it
 * started is stopped before it returns or throws.
 */
export async function runScenario(scenario: Scenario, options: RunScenarioOptions): Promise<RunResults> {
  const startedAt = new Date();
  const wallStart = performance.now();
  const runTag = randomBytes(4).toString('hex');
  options.log(`starting the ${options.runtime.name} runtime ...`);
  await using lab = await options.runtime.start({ log: options.log });
  options.log(`topology infrastructure ready in ${Math.round(performance.now() - wallStart)} ms`);
  const deployments: DeploymentResult[] = [];
  for (const deployment of scenario.deployments) {
    throwIfAborted(options.signal);
    deployments.push(await runDeployment(lab, scenario, deployment, { ...options, runTag }));
  }
  const claims = evaluateClaims(scenario, deployments);
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    runId: options.runId ?? newRunId(scenario.name, startedAt),
    scenario: {
      name: scenario.name,
      title: scenario.title,
      claim: scenario.claim,
      whatToLookAt: scenario.whatToLookAt,
    },
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallTimeMs: Math.round(performance.now() - wallStart),
    runtime: { name: lab.runtime, details: lab.details },
    load: ROUTES.map((route) => ({
      route,
      ratePerSecond: scenario.load[route].ratePerSecond,
      maxInFlight: DEFAULTS.maxInFlightPerRoute,
    })),
    phases: phaseWindows(scenario).map((window, index) => ({
      ...window,
      story: scenario.timeline[index]?.story ?? '',
    })),
    faults: faultWindows(scenario),
    deployments,
    hypothesis: { held: claims.every((claim) => claim.held), claims },
  };
}
