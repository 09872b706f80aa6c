/**
 * The traces of a partition, end to end on the real stack: the shipped partition scenario on a shorter
 * timeline (monolith and split only), run by the lab as a user runs it. Every request carries its own
 * trace id; the exemplars in the results must be requests the load generator sent, joined with the
 * spans the services exported: a failing split checkout is signup-service waiting about 5 s on a call
 * payment-service never saw, and a successful split checkout is one trace across both services.
 */
import { describe, expect, it } from 'vitest';
import { defineScenario } from '../../lab/scenario/define-scenario.ts';
import { runScenario } from '../../lab/scenario/run-scenario.ts';
import type { DeploymentResult } from '../../lab/results.ts';
import partition from '../../scenarios/partition.ts';
import { testRuntime } from './support/lab.ts';

const TRACE_CLAIMS = ['split-checkout-waits-on-payment', 'payment-never-saw-it'];

const shortPartition = defineScenario({
  ...partition,
  variants: partition.variants.filter((variant) => variant.name === 'monolith' || variant.name === 'split'),
  timeline: partition.timeline.map((phase) => ({ ...phase, durationS: phase.name === 'partition' ? 8 : 3 })),
  hypothesis: partition.hypothesis.filter((claim) => TRACE_CLAIMS.includes(claim.id)),
});

function exemplarsOf(deployment: DeploymentResult | undefined, route: string, phase: string) {
  return (deployment?.exemplars ?? []).filter(
    (exemplar) => exemplar.route === route && exemplar.phase === phase,
  );
}

describe('a partition, traced', () => {
  it('shows the failing split checkout waiting on payment-service, which never saw it', async () => {
    const results = await runScenario(shortPartition, { runtime: testRuntime(), log: () => undefined });
    for (const claim of results.hypothesis.claims) {
      expect(claim, JSON.stringify(claim)).toMatchObject({ held: true });
    }
    const split = results.deployments.find((deployment) => deployment.deployment === 'split');
    const monolith = results.deployments.find((deployment) => deployment.deployment === 'monolith');

    // Every checkout of the partition phase carried a trace id, and its spans reached the lab.
    const checkoutTraces = split?.routes
      .find((route) => route.route === 'checkout')
      ?.phases.find((phase) => phase.phase === 'partition')?.traces;
    expect(checkoutTraces?.requests).toBeGreaterThan(0);
    expect(checkoutTraces?.withSpans).toBe(checkoutTraces?.requests);

    const failure = exemplarsOf(split, 'checkout', 'partition').find(
      (exemplar) => exemplar.kind === 'failure' && exemplar.cause === 'deadline',
    );
    expect(failure, 'a deadline failure among the exemplars').toBeDefined();
    const services = new Set(failure?.spans.map((span) => span.service));
    expect([...services]).toEqual(['signup-service']);
    const server = failure?.spans.find((span) => span.kind === 'server');
    expect(server).toMatchObject({ name: 'POST /checkout', status: 'error', statusMessage: 'deadline' });
    const attempt = failure?.spans.find((span) => span.kind === 'client');
    expect(attempt).toMatchObject({ status: 'error', statusMessage: 'deadline' });
    // The deadline is 5 s; the span ends when the policy gives up: 4.8 s to 6 s, as in faults.test.ts.
    expect(attempt?.durationMs).toBeGreaterThan(4800);
    expect(attempt?.durationMs).toBeLessThan(6000);
    // The exemplar is the request the generator sent: the trace is rooted in the lab's traceparent.
    expect(failure?.spans.every((span) => span.traceId === failure.traceId)).toBe(true);
    // Lab and services read one machine's clock (two clocks' epochs may differ by a few ms): within 1 s.
    expect(Math.abs((server?.startMs ?? 0) - (failure?.sentAtMs ?? 0))).toBeLessThan(1000);

    // Before the partition a split checkout is one trace across both services.
    const success = exemplarsOf(split, 'checkout', 'baseline').find((e) => e.kind === 'median success');
    expect(new Set(success?.spans.map((span) => span.service))).toEqual(
      new Set(['signup-service', 'payment-service']),
    );
    // The monolith's checkout is one service: the hash and one transaction, no call out.
    const monolithSuccess = exemplarsOf(monolith, 'checkout', 'partition').find(
      (exemplar) => exemplar.kind === 'median success',
    );
    expect(new Set(monolithSuccess?.spans.map((span) => span.service))).toEqual(new Set(['monolith']));
    expect(monolithSuccess?.spans.some((span) => span.name === 'db transaction')).toBe(true);
    expect(monolithSuccess?.spans.some((span) => span.kind === 'client')).toBe(false);

    expect(results.tracing?.spansReceived).toBeGreaterThan(0);
  });
});
