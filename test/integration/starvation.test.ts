/**
 * Known answer for `flood`: a burst of CPU-heavy signups starves pay in the monolith, not in split.
 * Runs the shipped starvation scenario, with its own claims, on a shorter timeline, and with the real
 * scrypt cost, since the CPU is the point.
 *
 * Its tolerances come from runs on this 2-core machine: the monolith's pay p99 grew 2.2x to 3.6x (the
 * claim asks 1.8x); split's median did not grow (3 ms -> 2.5 ms; the claim allows +5 ms) and stayed at
 * 0.28x to 0.38x of the monolith's median (the claim allows 0.75x). A first version compared p99s
 * across deployments and failed once in CI at 0.86x: the p99 of 160 requests is one or two outliers.
 */
import { describe, expect, it } from 'vitest';
import { defineScenario } from '../../lab/scenario/define-scenario.ts';
import { runScenario } from '../../lab/scenario/run-scenario.ts';
import starvation from '../../scenarios/starvation.ts';
import { TEST_RUNTIME, testRuntime } from './support/lab.ts';

const shortStarvation = defineScenario({
  ...starvation,
  timeline: starvation.timeline
    .filter((phase) => phase.name !== 'recovery')
    .map((phase) => ({ ...phase, durationS: phase.name === 'baseline' ? 6 : 10 })),
});

describe('flood', () => {
  it('raises monolith pay p99 by a large factor while split pay stays near its baseline', async () => {
    // The real scrypt cost: the flood must cost CPU.
    const results = await runScenario(shortStarvation, { runtime: testRuntime({}), log: () => undefined });
    // Split's services cannot take each other's CPU: pinned on local, a quota each in containers.
    const split = results.deployments.find((deployment) => deployment.topology === 'split');
    expect(split?.resources?.['payment-service']).toMatch(
      TEST_RUNTIME === 'containers' ? /^1 CPU/ : /^CPU \d/,
    );
    expect(results.hypothesis.claims.map((claim) => claim.id)).toContain('monolith-pay-starves');
    for (const claim of results.hypothesis.claims) {
      expect(claim, JSON.stringify(claim)).toMatchObject({ held: true });
    }
    // The flood really was offered: 120/s for 10 s on top of the steady 2/s.
    const signupFlood = results.deployments[0]?.routes.find((route) => route.route === 'signup')?.phases[1];
    expect(signupFlood?.completed).toBeGreaterThan(1100);
  });
});
