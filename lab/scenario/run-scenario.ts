import { randomBytes } from 'node:crypto';
import {
  RESULTS_SCHEMA_VERSION,
  type DeploymentResult,
  type RunResults,
  type ValidityProblem,
} from '../results.ts';
import { NO_WATCHER, type RunWatcher } from '../live/run-events.ts';
import { collectProvenance } from '../provenance/collect-provenance.ts';
import type { LabLog, Runtime, StartedLab } from '../runtime/runtime.ts';
import { DEFAULTS } from '../defaults.ts';
import { ROUTES } from '../vocabulary/topology.ts';
import type { Scenario } from './define-scenario.ts';
import { evaluateClaims } from './evaluate-claims.ts';
import { judgeValidity } from './judge-validity.ts';
import { faultWindows, phaseWindows, planDeployment, routeStreams } from './plan-deployment.ts';
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
  /** Told of everything as it happens: the live view, the terminal's progress. Never waited on. */
  watcher?: RunWatcher;
  /** For `all`: this scenario's place in the batch, for the watcher's ETA. */
  batch?: { index: number; count: number; remainingTimelineS: number };
  /** The command line the provenance records (default process.argv). */
  command?: readonly string[];
  /** Where the lab's trace collector also sends the services' spans: Jaeger, an OTLP endpoint. */
  traceForwarding?: { name: string; endpoint: string }[];
}

/** A sortable, unique id for a run: `2025-01-31_12-00-00_partition_a1b2`. */
export function newRunId(scenarioName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return `${stamp}_${scenarioName}_${randomBytes(2).toString('hex')}`;
}

/**
 * The pipeline: start the topology -> for each deployment in turn, drive load while the timeline applies
 * faults (each read back) -> settle -> audit -> evaluate the hypothesis -> judge the run's validity.
 * Returns the serialisable results; everything it started is stopped before it returns or throws.
 *
 * When a dependency of the lab dies or a fault is not observed, the deployment in progress comes back
 * partial, the remaining deployments are skipped, and the results say the run is invalid: the caller
 * still writes the report (exit code 3). Ctrl-C throws LabError INTERRUPTED.
 */
export async function runScenario(scenario: Scenario, options: RunScenarioOptions): Promise<RunResults> {
  const startedAt = new Date();
  const wallStart = performance.now();
  const runTag = randomBytes(4).toString('hex');
  options.log(`starting the ${options.runtime.name} runtime ...`);
  const watcher = options.watcher ?? NO_WATCHER;
  watcher.emit({
    type: 'run-started',
    scenario: { name: scenario.name, title: scenario.title, claim: scenario.claim },
    runtime: options.runtime.name,
    phases: phaseWindows(scenario),
    faults: faultWindows(scenario),
    variants: scenario.variants.map((variant) => ({ label: variant.name, deployment: variant.deployment })),
    durationS: scenario.durationS,
    ...(options.batch ? { batch: options.batch } : {}),
  });
  const lab = await options.runtime.start({
    log: options.log,
    ...(options.traceForwarding ? { traceForwarding: options.traceForwarding } : {}),
  });
  let results: RunResults;
  try {
    options.log(`topology infrastructure ready in ${Math.round(performance.now() - wallStart)} ms`);
    // Read once, before the load starts, so its git and HTTP calls never compete with a measurement.
    const provenance = await collectProvenance({
      command: options.command ?? process.argv,
      runtime: { name: lab.runtime, details: lab.details },
      seed: runTag,
      log: options.log,
    });
    const deployments: DeploymentResult[] = [];
    const problems: ValidityProblem[] = [];
    for (const [index, variant] of scenario.variants.entries()) {
      throwIfAborted(options.signal);
      if (lab.failed.aborted) {
        problems.push(dependencyFailedBetween(lab.failed.reason, variant.name));
        break;
      }
      const run = await runDeployment(lab, planDeployment(scenario, variant), {
        log: options.log,
        signal: options.signal,
        runTag: `${runTag}v${index}`,
        steps: options.steps,
        watcher,
      });
      deployments.push(run.result);
      problems.push(...run.problems);
      if (run.stoppedBy) {
        const skipped = scenario.variants.slice(index + 1).map((next) => next.name);
        options.log(
          `the run is invalid: ${run.stoppedBy.message}` +
            (skipped.length > 0 ? `; skipping ${skipped.join(', ')}` : ''),
        );
        break;
      }
    }
    const claims = evaluateClaims(scenario, deployments);
    results = {
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
      load: ROUTES.flatMap((route) =>
        routeStreams(scenario.load[route]).map((load) =>
          'connections' in load
            ? {
                route,
                ratePerSecond: 0,
                model: 'closed' as const,
                connections: load.connections,
                maxInFlight: 0,
              }
            : { route, ratePerSecond: load.ratePerSecond, maxInFlight: DEFAULTS.maxInFlightPerRoute },
        ),
      ),
      phases: phaseWindows(scenario).map((window, index) => ({
        ...window,
        story: scenario.timeline[index]?.story ?? '',
      })),
      faults: faultWindows(scenario),
      deployments,
      hypothesis: { held: claims.every((claim) => claim.held), claims },
      tracing: lab.traces.summary(),
      provenance,
      validity: judgeValidity(problems),
    };
  } catch (error) {
    await stopQuietly(lab, options.log);
    throw error;
  }
  // An invalid run's teardown meets a dependency that already died: its error must not cost the report.
  if (results.validity?.status === 'invalid') await stopQuietly(lab, options.log);
  else await lab[Symbol.asyncDispose]();
  return results;
}

/** Stops the lab; an error is logged once instead of hiding the one that ended the run. */
async function stopQuietly(lab: StartedLab, log: LabLog): Promise<void> {
  try {
    await lab[Symbol.asyncDispose]();
  } catch (error) {
    log(`teardown: ${(error as Error).message}; some of the lab may be left behind`);
  }
}

/** A dependency died between two deployments: the next one is not started. */
function dependencyFailedBetween(reason: unknown, next: string): ValidityProblem {
  const message = reason instanceof Error ? reason.message : String(reason);
  return {
    kind: 'dependency-failed',
    severity: 'invalid',
    message: `${message} (before ${next} started); ${next} and the deployments after it were skipped`,
  };
}
