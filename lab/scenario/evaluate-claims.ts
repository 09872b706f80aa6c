import type { ClaimResult, DeploymentResult, PhaseSummary } from '../results.ts';
import type { ClaimDefinition, Scenario } from './define-scenario.ts';

/** The observed value of a claim's metric, or null when nothing was measured. */
export function observe(claim: ClaimDefinition, deployment: DeploymentResult | undefined): number | null {
  const route = deployment?.routes.find((candidate) => candidate.route === claim.route);
  if (!deployment || !route) return null;
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

export function describeExpectation(claim: ClaimDefinition): string {
  if (claim.atLeast !== undefined && claim.atMost !== undefined) return `${claim.atLeast} .. ${claim.atMost}`;
  if (claim.atLeast !== undefined) return `>= ${claim.atLeast}`;
  return `<= ${claim.atMost}`;
}

/** Checks every claim of the hypothesis against what was measured. A claim with no measurement fails. */
export function evaluateClaims(scenario: Scenario, deployments: readonly DeploymentResult[]): ClaimResult[] {
  return scenario.hypothesis.map((claim) => {
    const observed = observe(
      claim,
      deployments.find((deployment) => deployment.deployment === claim.deployment),
    );
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
      expected: describeExpectation(claim),
      observed,
      held,
    };
  });
}
