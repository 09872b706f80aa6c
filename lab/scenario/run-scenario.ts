import { randomBytes } from 'node:crypto';
import { RESULTS_SCHEMA_VERSION, type DeploymentResult, type RunResults } from '../results.ts';
import type { LabLog, Runtime } from '../runtime/runtime.ts';
import { DEFAULTS } from '../defaults.ts';
import { ROUTES } from '../vocabulary/topology.ts';
import type { Scenario } from './define-scenario.ts';
import { evaluateClaims } from './evaluate-claims.ts';
import { faultWindows, phaseWindows, planDeployment } from './plan-deployment.ts';
import { runDeployment, throwIfAborted, type RunSteps } from './run-deployment.ts';

// Where callers have always found them.
export { faultWindows, phaseWindows } from './plan-deployment.ts';

export interface RunScenarioOptions {
  runtime: Runtime;
  log: LabLog;
  signal?: AbortSignal;
  runId?: string;
  /** Replaces the runner's I/O (load, scraping, settling, audit, clock): for tests. */
  steps?: Partial<RunSteps>;
}

/** A sortable, unique id for a run: `2025-01-31_12-00-00_partition_a1b2`. */
export function newRunId(scenarioName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return `${stamp}_${scenarioName}_${randomBytes(2).toString('hex')}`;
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
      await runDeployment(lab, planDeployment(scenario, variant), {
        log: options.log,
        signal: options.signal,
        runTag: `${runTag}v${index}`,
        steps: options.steps,
      }),
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
