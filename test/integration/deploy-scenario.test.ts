/**
 * Known answer for `deploy`: the shipped scenario's redeploy and version-skew phases on a shorter
 * timeline, with its own claims for those phases (their tolerances and the figures of the full runs they
 * were set from are in scenarios/deploy.ts), and the fault evidence of every deploy: observed in effect
 * after its apply and still in effect after its phase, with the drain and start timings.
 */
import { describe, expect, it } from 'vitest';
import { defineScenario } from '../../lab/scenario/define-scenario.ts';
import { runScenario } from '../../lab/scenario/run-scenario.ts';
import deployScenario from '../../scenarios/deploy.ts';
import { testRuntime } from './support/lab.ts';

const PHASES = new Set(['steady', 'redeploy', 'payment-v2-first', 'skew', 'signup-v2']);

const shortDeploy = defineScenario({
  ...deployScenario,
  timeline: deployScenario.timeline
    .filter((phase) => PHASES.has(phase.name))
    // The deploy phase and the skew after it as long as in the scenario: the skew must begin after the restart.
    .map((phase) =>
      phase.name === 'steady' || phase.name === 'redeploy'
        ? { ...phase, durationS: phase.name === 'steady' ? 4 : 8 }
        : phase,
    ),
  hypothesis: deployScenario.hypothesis.filter((claim) => PHASES.has(claim.phase)),
});

describe('deploy scenario', () => {
  it('restarts every monolith route, leaves split signup alone, and skews split checkout until signup v2', async () => {
    const results = await runScenario(shortDeploy, { runtime: testRuntime(), log: () => undefined });
    expect(results.hypothesis.claims.map((claim) => claim.id)).toEqual(
      expect.arrayContaining([
        'monolith-redeploy-pay-down',
        'split-skew-cause',
        'split-skew-healed-by-the-caller',
      ]),
    );
    for (const claim of results.hypothesis.claims) {
      expect(claim, JSON.stringify(claim)).toMatchObject({ held: true });
    }
    for (const deployment of results.deployments) {
      const evidence = deployment.faultEvidence ?? [];
      // monolith: 2 deploys; split: 3 (payment, payment v2, signup v2); each an apply and an undo step.
      expect(evidence).toHaveLength(deployment.deployment === 'monolith' ? 4 : 6);
      for (const entry of evidence) {
        expect(entry, JSON.stringify(entry)).toMatchObject({ observed: true });
        // The new version is still running after the phase: what the undo step expects of a deploy.
        expect(entry.evidence).toMatch(/\/healthz HTTP 200, version v[12]/);
        expect(entry.evidence).toMatch(/old process exited with code 0 after [\d.]+ s \(drained\)/);
      }
    }
  });
});
