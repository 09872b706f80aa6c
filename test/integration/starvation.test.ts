/**
 * Known answer for `flood`: a burst of CPU-heavy signups starves pay in the monolith, not in split.
 * Runs a short version of the starvation scenario with the real scrypt cost, since the CPU is the point.
 */
import { describe, expect, it } from 'vitest';
import { flood } from '../../lab/faults.ts';
import { localRuntime } from '../../lab/local/local-runtime.ts';
import { defineScenario } from '../../lab/scenario/define-scenario.ts';
import { runScenario } from '../../lab/scenario/run-scenario.ts';

const shortStarvation = defineScenario({
  name: 'short-starvation',
  title: 'Does a signup flood starve pay?',
  claim: 'In one process signup can starve payment of CPU.',
  load: { signup: { ratePerSecond: 2 }, pay: { ratePerSecond: 20 }, checkout: { ratePerSecond: 0 } },
  timeline: [
    { name: 'baseline', durationS: 6, story: 'Healthy.' },
    {
      name: 'flood',
      durationS: 8,
      story: 'Signup flood.',
      faults: [flood('signup', { ratePerSecond: 120 })],
    },
  ],
  hypothesis: [
    // Tolerances, from runs on this 2-core machine: the monolith's pay p99 grew 2.2x to 3.6x; split's
    // median did not move (3 ms -> 3 ms) and its p99 stayed at a third of the monolith's or less. The
    // claims leave a wide margin on both sides; they fail only if the isolation is lost.
    {
      id: 'monolith-pay-starves',
      says: 'monolith pay p99 at least 1.8x its baseline',
      deployment: 'monolith',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP99Ms',
      relativeTo: { phase: 'baseline' },
      atLeast: 1.8,
    },
    {
      id: 'split-pay-near-baseline',
      says: 'split pay p50 within 5 ms of its baseline',
      deployment: 'split',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP50Ms',
      relativeTo: { phase: 'baseline', by: 'difference' },
      atMost: 5,
    },
    {
      id: 'split-pay-beats-monolith',
      says: 'split pay p99 at most half the monolith pay p99 during the flood',
      deployment: 'split',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP99Ms',
      relativeTo: { deployment: 'monolith' },
      atMost: 0.5,
    },
  ],
  whatToLookAt: [],
});

describe('flood', () => {
  it('raises monolith pay p99 by a large factor while split pay stays near its baseline', async () => {
    const results = await runScenario(shortStarvation, { runtime: localRuntime(), log: () => undefined });
    expect(results.runtime.details.cpuPinning).toContain('payment-service on CPU');
    for (const claim of results.hypothesis.claims)
      expect(claim, JSON.stringify(claim)).toMatchObject({ held: true });
    // The flood really was offered: ~120/s for 8 s on top of the steady 2/s.
    const signupFlood = results.deployments[0]?.routes.find((route) => route.route === 'signup')?.phases[1];
    expect(signupFlood?.completed).toBeGreaterThan(900);
  });
});
