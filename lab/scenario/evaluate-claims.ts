import type { ClaimResult, DeploymentResult, PhaseSummary } from '../results.ts';
import { claimUnit, parseClaimMetric, type ClaimMetric } from '../vocabulary/claim-metrics.ts';
import type { RouteName } from '../vocabulary/topology.ts';
import type { ClaimDefinition, Scenario } from './define-scenario.ts';

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
}

function routePhase({ deployment, route, phase }: MeasuredAt): PhaseSummary | undefined {
  return deployment.routes
    .find((candidate) => candidate.route === route)
    ?.phases.find((candidate) => candidate.phase === phase);
}

/**
 * The value of one metric where it is measured, or null when nothing was measured. One case per family:
 * the compiler rejects a family of the table that has no case here.
 */
function measureClaimMetric(metric: ClaimMetric, at: MeasuredAt): number | null {
  switch (metric.family) {
    case 'successRate':
      return routePhase(at)?.successRate ?? null;
    case 'latencyP50Ms':
      return routePhase(at)?.latencyMs.p50 ?? null;
    case 'latencyP90Ms':
      return routePhase(at)?.latencyMs.p90 ?? null;
    case 'latencyP99Ms':
      return routePhase(at)?.latencyMs.p99 ?? null;
    case 'failureLatencyP50Ms':
      return routePhase(at)?.failureLatencyMs.p50 ?? null;
    case 'firstFailureSeconds':
      return routePhase(at)?.firstFailureAfterS ?? null;
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
    default:
      return metric satisfies never;
  }
}

/**
 * The observed value of a claim: its metric, or its metric compared (ratio or difference) with the same
 * metric of the deployment/phase it is `relativeTo`. Null when either side was not measured, or a
 * ratio's divisor is 0.
 */
export function observe(claim: ClaimDefinition, deployments: readonly DeploymentResult[]): number | null {
  const metric = parsed(claim.metric);
  const measure = (deploymentName: string, phase: string): number | null => {
    const deployment = deployments.find((candidate) => candidate.deployment === deploymentName);
    return deployment ? measureClaimMetric(metric, { deployment, route: claim.route, phase }) : null;
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
  return scenario.hypothesis.map((claim) => {
    const observed = observe(claim, deployments);
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
