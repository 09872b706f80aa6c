import { outcomesDueIn } from '../load/aggregate.ts';
import type { RequestOutcome } from '../load/outcome.ts';
import type { ServiceLogLine } from '../runtime/runtime.ts';
import { chooseExemplars, type ExemplarCandidate } from '../tracing/choose-exemplars.ts';
import { summarizePhaseTraces } from '../tracing/summarize-phase-traces.ts';
import type { TraceCollector } from '../tracing/trace-collector.ts';
import { indexTraceLogs } from '../tracing/trace-logs.ts';
import { measureTrace } from '../tracing/trace-measures.ts';
import type { PhaseTraces, TraceExemplar } from '../tracing/trace-schema.ts';
import type { PhaseWindow } from '../results.ts';
import { ROUTES, type RouteName } from '../vocabulary/topology.ts';

/** What one deployment's traces add to its results. */
export interface DeploymentTraces {
  exemplars: TraceExemplar[];
  /** Per route and phase name: what the traces of its requests show. */
  phaseTraces(route: RouteName, phase: string): PhaseTraces | undefined;
}

/**
 * Step "traces": once the load is over, wait for the services' last batches of spans, then join each
 * traced request with its trace: the exemplars a report draws as waterfalls (with their log lines), and
 * per route and phase the medians the claims over traces read.
 */
export async function collectDeploymentTraces(
  traces: Pick<TraceCollector, 'settle' | 'trace'>,
  serviceLogs: readonly ServiceLogLine[],
  outcomes: readonly RequestOutcome[],
  windows: readonly PhaseWindow[],
): Promise<DeploymentTraces> {
  await traces.settle();
  const byPhase = new Map<string, RequestOutcome[]>();
  const candidates: ExemplarCandidate[] = [];
  for (const window of windows) {
    const due = outcomesDueIn(outcomes, window);
    for (const route of ROUTES) {
      const routeOutcomes = due.filter((outcome) => outcome.route === route);
      byPhase.set(`${route} ${window.name}`, routeOutcomes);
      for (const outcome of routeOutcomes) {
        // A request the generator never sent (generator_limit) has no trace to show.
        if (outcome.traceId === undefined || outcome.sentAtEpochMs === undefined) continue;
        candidates.push({
          route,
          phase: window.name,
          traceId: outcome.traceId,
          sentAtMs: outcome.sentAtEpochMs,
          latencyMs: outcome.latencyMs,
          ok: outcome.ok,
          cause: outcome.cause,
          status: outcome.status,
        });
      }
    }
  }
  const logs = indexTraceLogs(serviceLogs);
  return {
    exemplars: chooseExemplars(candidates, traces, (traceId) => logs.logsOf(traceId)),
    phaseTraces: (route, phase) =>
      summarizePhaseTraces(byPhase.get(`${route} ${phase}`) ?? [], (traceId) =>
        measureTrace(traces.trace(traceId)),
      ),
  };
}
