import { randomBytes } from 'node:crypto';
import { auditDatabases } from '../measure/audit.ts';
import { LabError } from '../errors.ts';
import { describeFault, faultTarget, resolveFault } from '../vocabulary/faults.ts';
import { perPhase, perSecond, outcomesOf, recoverySeconds } from '../load/aggregate.ts';
import { driveLoad } from '../load/drive-load.ts';
import { scrapeMetrics } from '../measure/metrics-scraper.ts';
import { summarizeServicePhases } from '../measure/service-phases.ts';
import { waitUntilSettled } from '../measure/settle.ts';
import {
  RESULTS_SCHEMA_VERSION,
  type DeploymentResult,
  type FaultWindow,
  type PhaseWindow,
  type RunResults,
} from '../results.ts';
import type { LabLog, Runtime, StartedLab } from '../runtime/runtime.ts';
import { DEFAULTS } from '../defaults.ts';
import { ROUTES, ROUTE_TARGETS } from '../vocabulary/topology.ts';
import type { Scenario } from './define-scenario.ts';
import type { VariantDefinition } from '../vocabulary/variants.ts';
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
      link: faultTarget(fault),
      description: describeFault(fault),
      startS: windows[index]?.startS ?? 0,
      endS: windows[index]?.endS ?? 0,
      deployments: scenario.variants
        .filter((variant) => resolveFault(fault, variant.deployment).length > 0)
        .map((variant) => variant.name),
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
  variant: VariantDefinition,
  options: RunScenarioOptions & { runTag: string },
): Promise<DeploymentResult> {
  const { deployment } = variant;
  const label = variant.name;
  const { log, signal } = options;
  log(`[${label}] starting services ...`);
  await using started = await lab.startDeployment(deployment, {
    settings: variant.settings,
    quotas: scenario.quotas,
  });
  throwIfAborted(signal);
  const phases = phaseWindows(scenario);
  const startedAtMs = performance.now();
  const scraper = scrapeMetrics(started.services, startedAtMs);
  // Floods are extra streams of load in their phase's window; everything else is the runtime's.
  const floods = scenario.timeline.flatMap((phase, index) =>
    (phase.faults ?? [])
      .flatMap((fault) => resolveFault(fault, deployment))
      .flatMap((action) =>
        action.type === 'flood'
          ? [
              {
                route: action.route,
                url: started.routeUrl(action.route),
                ratePerSecond: action.ratePerSecond,
                fromS: phases[index]?.startS ?? 0,
                untilS: phases[index]?.endS ?? 0,
              },
            ]
          : [],
      ),
  );
  const load = driveLoad({
    routes: [
      ...ROUTES.map((route) => ({
        route,
        url: started.routeUrl(route),
        ratePerSecond: scenario.load[route].ratePerSecond,
      })),
      ...floods,
    ],
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
      // Undos run when this block ends, whether the phase completed or something threw.
      await using undoStack = new AsyncDisposableStack();
      const faults = phase.faults ?? [];
      let applied = 0;
      for (const fault of faults) {
        const actions = resolveFault(fault, deployment);
        if (actions.length === 0) {
          log(
            `[${label}] t=${window.startS}s ${phase.name}: "${describeFault(fault)}" does not touch ${deployment}`,
          );
        }
        for (const action of actions) {
          if (action.type !== 'flood') undoStack.defer(await started.apply(action));
        }
        if (actions.length > 0) {
          applied += 1;
          log(`[${label}] t=${window.startS}s ${phase.name}: ${describeFault(fault)}`);
        }
      }
      if (faults.length === 0) log(`[${label}] t=${window.startS}s ${phase.name}`);
      await sleepUntil(startedAtMs + window.endS * 1000, signal);
      if (applied > 0) log(`[${label}] t=${window.endS}s end of ${phase.name}: undoing its faults`);
    }
  } finally {
    // Always wait for the generator and the scraper, so no request outlives the deployment it was sent to.
    await load.finished.catch(() => []);
    await scraper.stop();
  }
  const outcomes = await load.finished;
  const services = await scraper.stop();
  throwIfAborted(signal);
  const settled = await waitUntilSettled(started.services, {
    minimumMs: DEFAULTS.settleMs,
    timeoutMs: DEFAULTS.settleTimeoutMs,
    ...(signal ? { signal } : {}),
  });
  const audit = {
    ...(await auditDatabases(started.databases, outcomes)),
    settledAfterMs: settled.waitedMs,
    stillPending: settled.stillPending,
  };

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
    (phase.faults ?? []).some((fault) => resolveFault(fault, deployment).length > 0)
      ? routes.map((route) => ({
          route: route.route,
          afterPhase: phase.name,
          seconds: recoverySeconds(route.seconds, phases[index]?.endS ?? 0),
        }))
      : [],
  );
  return {
    deployment: label,
    topology: deployment,
    settings: variant.settings,
    resources: started.resources,
    routes,
    services,
    servicePhases: summarizeServicePhases(services, phases),
    recovery,
    audit,
  };
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
  for (const [index, variant] of scenario.variants.entries()) {
    throwIfAborted(options.signal);
    deployments.push(
      await runDeployment(lab, scenario, variant, { ...options, runTag: `${runTag}v${index}` }),
    );
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
