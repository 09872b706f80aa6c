/**
 * Known answer for `flood`: a burst of CPU-heavy signups starves pay in the monolith, not in split.
 * Runs the shipped starvation scenario, with its own claims, on a shorter timeline, and with the real
 * scrypt cost, since the CPU is the point.
 *
 * Its tolerances come from runs on this 2-core machine (the test's own shorter timeline, 8 runs): the
 * monolith's pay p90 grew 2.7x to 20x on local and 4.2x to 27x in containers (the claim asks 2x); split's
 * median moved -0.4 to +0.8 ms on local and +0.1 to +4.4 ms in containers (the claim allows +8 ms) and
 * stayed at 0.05x to 0.52x of the monolith's median (the claim allows 0.75x). The claim used to compare
 * p99s against the baseline and failed in CI at 1.05x: the p99 of a 6 s baseline is two outliers, and in
 * containers it came out at 1.55x and 1.73x in 2 of 3 runs.
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
