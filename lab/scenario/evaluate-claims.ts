import type { ClaimResult, DeploymentResult, PhaseSummary } from '../results.ts';
import { claimUnit, parseClaimMetric, type ClaimMetric } from '../vocabulary/claim-metrics.ts';
import type { ClaimDefinition, Scenario } from './define-scenario.ts';

// Scenarios are validated at load, so a metric that does not parse here is a bug in the lab.
function parsed(metric: string): ClaimMetric {
  const result = parseClaimMetric(metric);
  if (typeof result === 'string') throw new Error(`bug: unvalidated claim metric: ${result}`);
  return result;
}

type Measured = Pick<ClaimDefinition, 'route' | 'phase' | 'metric'>;

/** The value of one metric for one route and phase of one deployment, or null when nothing was measured. */
export function measure(claim: Measured, deployment: DeploymentResult | undefined): number | null {
  if (!deployment) return null;
  if (claim.metric.startsWith('audit:')) {
    const count = claim.metric.slice('audit:'.length) as keyof DeploymentResult['audit'];
    return deployment.audit[count] ?? null;
  }
  if (claim.metric.startsWith('service:')) {
    const [, service, field] = claim.metric.split(':') as [
      string,
      string,
      'requestsPerSecond' | 'attemptsPerCall' | 'bulkheadRejections',
    ];
    const summary = deployment.servicePhases?.find(
      (entry) => entry.service === service && entry.phase === claim.phase,
    );
    return summary?.[field] ?? null;
  }
  const route = deployment.routes.find((candidate) => candidate.route === claim.route);
  if (!route) return null;
  if (claim.metric === 'recoverySeconds') {
    return (
      deployment.recovery.find((entry) => entry.route === claim.route && entry.afterPhase === claim.phase)
        ?.seconds ?? null
    );
  }
  const phase: PhaseSummary | undefined = route.phases.find((candidate) => candidate.phase === claim.phase);
  if (!phase) return null;
  switch (claim.metric) {
    case 'successRate':
      return phase.successRate;
    case 'latencyP50Ms':
      return phase.latencyMs.p50;
    case 'latencyP99Ms':
      return phase.latencyMs.p99;
    case 'failureLatencyP50Ms':
      return phase.failureLatencyMs.p50;
    case 'firstFailureSeconds':
      return phase.firstFailureAfterS;
    default: {
      const cause = claim.metric.slice('causeShare:'.length);
      const failures = Object.values(phase.failures).reduce((sum, count) => sum + count, 0);
      return failures === 0 ? null : (phase.failures[cause] ?? 0) / failures;
    }
  }
}

/**
 * The observed value of a claim: its metric, or its metric compared (ratio or difference) with the same
 * metric of the deployment/phase it is `relativeTo`. Null when either side was not measured, or a
 * ratio's divisor is 0.
 */
export function observe(claim: ClaimDefinition, deployments: readonly DeploymentResult[]): number | null {
  const find = (name: string): DeploymentResult | undefined =>
    deployments.find((deployment) => deployment.deployment === name);
  const value = measure(claim, find(claim.deployment));
  if (!claim.relativeTo || value === null) return value;
  const reference = measure(
    { ...claim, phase: claim.relativeTo.phase ?? claim.phase },
    find(claim.relativeTo.deployment ?? claim.deployment),
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
