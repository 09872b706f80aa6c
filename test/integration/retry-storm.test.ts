/**
 * Known answers for retries on the real stack, from the shipped retry-storm scenario without the
 * monolith and on a shorter timeline: retries are bounded and multiply payment-service's load; with the
 * same idempotency key on every attempt there is no double charge, without it the audit finds them.
 * The scenario's own claims carry the tolerances (attempts per call 2.5..3, load >= 1.8x, ...). The slow
 * phase keeps 18 of its 20 s: checkouts due in its last ~3 s get through once the delay is removed, so
 * a much shorter phase would dilute the failure rate the claim checks. The closed-model columns
 * (split/closed, split/retry-closed: checkout from 4 autocannon connections) answer the same question
 * for clients that wait: the attempts per call triple again, the load on payment-service does not.
 */
import { describe, expect, it } from 'vitest';
import { defineScenario } from '../../lab/scenario/define-scenario.ts';
import { runScenario } from '../../lab/scenario/run-scenario.ts';
import retryStorm from '../../scenarios/retry-storm.ts';
import { testRuntime } from './support/lab.ts';

const shortRetryStorm = defineScenario({
  ...retryStorm,
  variants: retryStorm.variants.filter((variant) => variant.deployment === 'split'),
  timeline: retryStorm.timeline
    .filter((phase) => phase.name !== 'recovery')
    .map((phase) => ({ ...phase, durationS: phase.name === 'baseline' ? 4 : 18 })),
  hypothesis: retryStorm.hypothesis.filter((claim) => claim.deployment !== 'monolith'),
});

describe('retries', () => {
  // Five columns of 22 s each: longer than the project's default timeout.
  it('are bounded, multiply load, and double-charge only without idempotency keys', async () => {
    const results = await runScenario(shortRetryStorm, {
      runtime: testRuntime(),
      log: () => undefined,
    });
    console.log(results.hypothesis.claims.map((claim) => `${claim.id} ${claim.observed}`).join('\n'));
    for (const claim of results.hypothesis.claims) {
      expect(claim, JSON.stringify(claim)).toMatchObject({ held: true });
    }
    const audit = (name: string) =>
      results.deployments.find((deployment) => deployment.deployment === name)?.audit;
    // Every failed split/retry checkout did commit its one charge: the client cannot know.
    expect(audit('split/retry')?.failedButCommitted).toBeGreaterThan(20);
    expect(audit('split/retry')?.acknowledgedWithoutRow).toBe(0);
    expect(audit('split/retry-no-keys')?.acknowledgedWithoutRow).toBe(0);
    // The closed columns' checkouts are the closed model's, marked so, and their streams never bounded.
    for (const name of ['split/closed', 'split/retry-closed']) {
      const deployment = results.deployments.find((candidate) => candidate.deployment === name);
      expect(deployment?.closedStreams, name).toMatchObject([
        { route: 'checkout', connections: 4, bounded: [] },
      ]);
      const checkout = deployment?.routes.find((route) => route.route === 'checkout');
      expect(checkout?.phases.every((phase) => phase.completed === 0)).toBe(true);
      expect(checkout?.closedModel?.phases.every((phase) => phase.loadModel === 'closed')).toBe(true);
    }
  }, 300_000);
});
