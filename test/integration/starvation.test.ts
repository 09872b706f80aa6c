/**
 * Known answer for `flood`: a burst of CPU-heavy signups (a closed-model flood, autocannon) starves pay in
 * the monolith and the modular monolith (with or without its payment module on a worker thread), not in
 * split.
 * Runs the shipped starvation scenario, with its own claims, on a shorter timeline, and with the real
 * scrypt cost, since the CPU is the point.
 *
 * Its tolerances are the scenario's claims, each with the figures of the full local runs it was set from
 * (two with the closed flood on this shared 2-core machine). Before the flood was a closed model, the
 * monolith's pay p90 grew 2.7x to 20x over 8 runs of this test on local and 4.2x to 27x in containers; a
 * closed flood keeps the CPU busy without a backlog (0.6x to 3.8x), so the claim compares with split's.
 * Split's median stayed near its baseline on local and within +4.4 ms in containers (the claim allows +8 ms).
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
  it('slows pay in one process (monolith, modular, modular/worker) while split pay stays near its baseline', async () => {
    // The real scrypt cost: the flood must cost CPU.
    const results = await runScenario(shortStarvation, { runtime: testRuntime({}), log: () => undefined });
    // Split's services cannot take each other's CPU: pinned on local, a quota each in containers.
    const split = results.deployments.find((deployment) => deployment.topology === 'split');
    expect(split?.resources?.['payment-service']).toMatch(
      TEST_RUNTIME === 'containers' ? /^1 CPU/ : /^CPU \d/,
    );
    expect(results.hypothesis.claims.map((claim) => claim.id)).toContain('monolith-pay-starves');
    // Every claim's figure in the log, so a failing run still tells how far each one was.
    console.log(results.hypothesis.claims.map((claim) => `${claim.id} ${claim.observed}`).join('\n'));
    for (const claim of results.hypothesis.claims) {
      expect(claim, JSON.stringify(claim)).toMatchObject({ held: true });
    }
    // The flood really ran, in every column: autocannon's 16 connections kept signup hashing the whole
    // phase (measured 20 to 34 answered a second), each request answered, none bounded.
    for (const deployment of results.deployments) {
      const [flood] = deployment.closedStreams ?? [];
      expect(flood, deployment.deployment).toMatchObject({ route: 'signup', role: 'flood', phase: 'flood' });
      expect(flood?.answered, deployment.deployment).toBeGreaterThan(120);
      expect(flood?.ok).toBe(flood?.answered);
      expect(flood?.bounded).toEqual([]);
      // The steady signups stay apart from the flood's, which are marked closed-model.
      const signup = deployment.routes.find((route) => route.route === 'signup');
      expect(signup?.phases[1]?.completed).toBe(20);
      expect(signup?.closedModel?.phases[1]?.loadModel).toBe('closed');
    }
  });
});
