import { describe, expect, it } from 'vitest';
import { parseCliArgs, parseRepeat } from '../../lab/cli/scenario-args.ts';
import { isLabError } from '../../lab/errors.ts';
import { spreadOf, summarizeRepeats } from '../../lab/repeat/summarize-repeats.ts';
import { renderRepeatPage } from '../../lab/report/render-repeat.ts';
import type { RunResults } from '../../lab/results.ts';
import { makeInvalidReportResults, makeReportResults } from './fixtures/report-results.ts';

/** The fixture run with `split-checkout-fails-fast` observed at `p99Ms`, and split checkout's partition p50 at `p50Ms`. */
function run(runId: string, p99Ms: number, p50Ms: number): RunResults {
  const results = makeReportResults({ runId });
  const claims = results.hypothesis.claims.map((claim) =>
    claim.id === 'split-checkout-fails-fast' ? { ...claim, observed: p99Ms, held: p99Ms <= 500 } : claim,
  );
  const deployments = results.deployments.map((deployment) => ({
    ...deployment,
    routes: deployment.routes.map((route) => ({
      ...route,
      phases: route.phases.map((phase) =>
        deployment.deployment === 'split' && route.route === 'checkout' && phase.phase === 'partition'
          ? { ...phase, latencyMs: { ...phase.latencyMs, p50: p50Ms } }
          : phase,
      ),
    })),
  }));
  return {
    ...results,
    deployments,
    hypothesis: { held: claims.every((claim) => claim.held), claims },
  };
}

describe('spreadOf', () => {
  it('gives min, median, max and (max - min) / median, leaving nulls out of the figures', () => {
    expect(spreadOf([30, 10, null, 20])).toEqual({
      values: [30, 10, null, 20],
      min: 10,
      median: 20,
      max: 30,
      relativeSpread: 1,
    });
    expect(spreadOf([4, 6])).toMatchObject({ median: 5, relativeSpread: 0.4 });
    expect(spreadOf([null, null])).toMatchObject({
      min: null,
      median: null,
      max: null,
      relativeSpread: null,
    });
    expect(spreadOf([0, 0])).toMatchObject({ median: 0, relativeSpread: 0 });
  });
});

describe('summarizeRepeats', () => {
  it('counts each claim held in k of n and marks a claim whose verdict flips as unstable', () => {
    const summary = summarizeRepeats([run('r1', 450, 40), run('r2', 520, 60), run('r3', 480, 50)]);
    const fast = summary.claims.find((claim) => claim.claim.id === 'split-checkout-fails-fast');
    expect(fast).toMatchObject({
      held: 2,
      judged: 3,
      unstable: true,
      observed: { values: [450, 520, 480], min: 450, median: 480, max: 520 },
    });
    const isolated = summary.claims.find((claim) => claim.claim.id === 'split-signup-isolated');
    expect(isolated).toMatchObject({ held: 3, judged: 3, unstable: false });
    expect(isolated?.claim).not.toHaveProperty('observed');
    expect(summary.runs.map((entry) => entry.runId)).toEqual(['r1', 'r2', 'r3']);
  });

  it('gives every phase of every route its spread', () => {
    const summary = summarizeRepeats([run('r1', 450, 40), run('r2', 450, 60)]);
    const figure = summary.figures.find(
      (entry) => entry.deployment === 'split' && entry.route === 'checkout' && entry.phase === 'partition',
    );
    expect(figure?.p50Ms).toMatchObject({ min: 40, median: 50, max: 60, relativeSpread: 0.4 });
  });

  it('lets an invalid run judge nothing, and keeps its place', () => {
    const invalid = makeInvalidReportResults();
    const summary = summarizeRepeats([run('r1', 450, 40), invalid]);
    expect(summary.runs[1]?.validity).toBe('invalid');
    const isolated = summary.claims.find((claim) => claim.claim.id === 'split-signup-isolated');
    expect(isolated?.judged).toBe(1);
    expect(isolated?.observed.values).toHaveLength(2);
  });
});

describe('renderRepeatPage', () => {
  it('shows each claim with min / median / max, held k of n, unstable ones, and links every run', () => {
    const summary = summarizeRepeats([run('r1', 450, 40), run('r2', 520, 60), run('r3', 480, 50)]);
    const page = renderRepeatPage(summary, ['../r1/index.html', '../r2/index.html', '../r3/index.html']);
    expect(page).toMatch(
      /data-claim="split-checkout-fails-fast" class="unstable">[\s\S]*?450 ms \/ 480 ms \/ 520 ms[\s\S]*?2 of 3[\s\S]*?unstable/,
    );
    expect(page).toMatch(/data-claim="split-signup-isolated">[\s\S]*?3 of 3[\s\S]*?✓ held/);
    for (const id of ['r1', 'r2', 'r3']) expect(page).toContain(`href="../${id}/index.html"`);
    expect(page).toContain('repeated 3 times');
    expect(page).not.toMatch(/<script/);
  });
});

describe('--repeat', () => {
  it('takes a whole number of runs from 1 to 50', () => {
    expect(parseCliArgs(['latency', '--repeat', '3']).repeat).toBe(3);
    expect(parseRepeat('1')).toBe(1);
    for (const bad of ['0', '51', '2.5', 'three', '-1', '']) {
      let message = '';
      try {
        parseRepeat(bad);
      } catch (error) {
        if (isLabError(error)) message = error.message;
      }
      expect(message).toMatch(/--repeat .* is not a number of runs; give a whole number from 1 to 50/);
    }
  });
});
