import type { ClaimResult, DeploymentResult, PhaseSummary, PhaseWindow, RouteResult } from '../results.ts';
import {
  claimUnit,
  parseClaimMetric,
  type ClaimMetric,
  type ClosedField,
} from '../vocabulary/claim-metrics.ts';
import type { RouteName } from '../vocabulary/topology.ts';
import type { ClaimDefinition, Scenario } from './define-scenario.ts';
import { phaseWindows } from './plan-deployment.ts';

// Scenarios are validated at load, so a metric that does not parse here is a bug in the lab.
function parsed(metric: string): ClaimMetric {
  const result = parseClaimMetric(metric);
  if (typeof result === 'string') throw new Error(`bug: unvalidated claim metric: ${result}`);
  return result;
}

/** Where a metric is read: one route and phase of one deployment's results. */
interface MeasuredAt {
  deployment: DeploymentResult;
  route: RouteName;
  phase: string;
  /** The phase's place on the timeline, for metrics read from the per-second samples. */
  window?: PhaseWindow;
}

function routePhase({ deployment, route, phase }: MeasuredAt): PhaseSummary | undefined {
  return deployment.routes
    .find((candidate) => candidate.route === route)
    ?.phases.find((candidate) => candidate.phase === phase);
}

function routeOf({ deployment, route }: MeasuredAt): RouteResult | undefined {
  return deployment.routes.find((candidate) => candidate.route === route);
}

/** The route's closed-model requests (autocannon) of the phase, or of the whole run; when it had any. */
function closedPhase(at: MeasuredAt, wholeRun: boolean): PhaseSummary | undefined {
  const closed = routeOf(at)?.closedModel;
  return wholeRun ? closed?.wholeRun : closed?.phases.find((candidate) => candidate.phase === at.phase);
}

/** One figure of a phase summary (open or closed model), by field name; null when nothing was measured. */
function phaseFigure(summary: PhaseSummary | undefined, field: ClosedField): number | null {
  if (!summary) return null;
  switch (field) {
    case 'successRate':
      return summary.successRate;
    case 'latencyP50Ms':
      return summary.latencyMs.p50;
    case 'latencyP90Ms':
      return summary.latencyMs.p90;
    case 'latencyP99Ms':
      return summary.latencyMs.p99;
    case 'latencyMaxMs':
      return summary.latencyMs.max;
    case 'requests':
      return summary.completed;
  }
}

/**
 * The value of one metric where it is measured, or null when nothing was measured. One case per family:
 * the compiler rejects a family of the table that has no case here.
 */
function measureClaimMetric(metric: ClaimMetric, at: MeasuredAt): number | null {
  switch (metric.family) {
    case 'successRate':
    case 'latencyP50Ms':
    case 'latencyP90Ms':
    case 'latencyP99Ms':
      return phaseFigure(routePhase(at), metric.family);
    case 'failureLatencyP50Ms':
      return routePhase(at)?.failureLatencyMs.p50 ?? null;
    case 'firstFailureSeconds':
      return routePhase(at)?.firstFailureAfterS ?? null;
    case 'downtimeSeconds': {
      const { window } = at;
      const seconds = routeOf(at)?.seconds;
      if (!window || !seconds) return null;
      const failing = seconds
        .filter(
          (sample) => sample.t >= window.startS && sample.t < window.endS && sample.completed > sample.ok,
        )
        .map((sample) => sample.t);
      return failing.length === 0 ? 0 : Math.max(...failing) - Math.min(...failing) + 1;
    }
    case 'causeShare': {
      const failures = routePhase(at)?.failures;
      if (!failures) return null;
      const total = Object.values(failures).reduce((sum, count) => sum + count, 0);
      return total === 0 ? null : (failures[metric.cause] ?? 0) / total;
    }
    case 'recoverySeconds':
      return (
        at.deployment.recovery.find((entry) => entry.route === at.route && entry.afterPhase === at.phase)
          ?.seconds ?? null
      );
    case 'audit':
      return at.deployment.audit[metric.count];
    case 'service':
      return (
        at.deployment.servicePhases?.find(
          (entry) => entry.service === metric.service && entry.phase === at.phase,
        )?.[metric.field] ?? null
      );
    case 'trace': {
      const traces = routePhase(at)?.traces;
      if (!traces) return null;
      switch (metric.field) {
        case 'tracedShare':
          return traces.requests === 0
            ? null
            : Math.round((traces.withSpans / traces.requests) * 1000) / 1000;
        case 'failureOutboundShare':
          return traces.failures.outboundShareP50;
        case 'failureCalleeSawShare':
          return traces.failures.calleeSawShare;
        case 'failureAttempts':
          return traces.failures.attemptsP50;
        case 'successAttempts':
          return traces.successes.attemptsP50;
        case 'successServices':
          return traces.successes.servicesP50;
      }
      break;
    }
    case 'closed':
      return phaseFigure(closedPhase(at, metric.wholeRun), metric.closedField);
    case 'closedOverOpen': {
      const closed = phaseFigure(closedPhase(at, metric.wholeRun), metric.closedField);
      const open = phaseFigure(metric.wholeRun ? routeOf(at)?.wholeRun : routePhase(at), metric.closedField);
      return closed === null || open === null || open === 0
        ? null
        : Math.round((closed / open) * 1000) / 1000;
    }
    default:
      return metric satisfies never;
  }
}

/**
 * The observed value of a claim: its metric, or its metric compared (ratio or difference) with the same
 * metric of the deployment/phase it is `relativeTo`. Null when either side was not measured, or a
 * ratio's divisor is 0.
 */
export function observe(
  claim: ClaimDefinition,
  deployments: readonly DeploymentResult[],
  windows: readonly PhaseWindow[] = [],
): number | null {
  const metric = parsed(claim.metric);
  const measure = (deploymentName: string, phase: string): number | null => {
    const deployment = deployments.find((candidate) => candidate.deployment === deploymentName);
    const window = windows.find((candidate) => candidate.name === phase);
    return deployment
      ? measureClaimMetric(metric, { deployment, route: claim.route, phase, ...(window ? { window } : {}) })
      : null;
  };
  const value = measure(claim.deployment, claim.phase);
  if (!claim.relativeTo || value === null) return value;
  const reference = measure(
    claim.relativeTo.deployment ?? claim.deployment,
    claim.relativeTo.phase ?? claim.phase,
  );
  if (reference === null) return null;
  if (claim.relativeTo.by === 'difference') return Math.round((value - reference) * 1000) / 1000;
  return reference === 0 ? null : Math.round((value / reference) * 1000) / 1000;
}

/** Checks every claim of the hypothesis against what was measured. A claim with no measurement fails. */
export function evaluateClaims(scenario: Scenario, deployments: readonly DeploymentResult[]): ClaimResult[] {
  const windows = phaseWindows(scenario);
  return scenario.hypothesis.map((claim) => {
    const observed = observe(claim, deployments, windows);
    const held =
      observed !== null &&
      (claim.atLeast === undefined || observed >= claim.atLeast) &&
      (claim.atMost === undefined || observed <= claim.atMost);
    return {
      id: claim.id,
      description: claim.says,
      deployment: claim.deployment,
      route: claim.route,
      phase: claim.phase,
      metric: claim.metric,
      ...(claim.relativeTo ? { relativeTo: claim.relativeTo } : {}),
      unit: claimUnit(parsed(claim.metric), claim.relativeTo),
      ...(claim.atLeast !== undefined ? { atLeast: claim.atLeast } : {}),
      ...(claim.atMost !== undefined ? { atMost: claim.atMost } : {}),
      observed,
      held,
    };
  });
}
