/**
 * The comparison page, rendered from recorded runs: what it shows and that it stays self-contained.
 * (The integration test opens it in a browser.)
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildComparison } from '../../lab/compare/build-comparison.ts';
import type { Comparison } from '../../lab/compare/comparison.ts';
import { loadRuns } from '../../lab/compare/load-runs.ts';
import { COMPARISON_SCRIPT_ID, renderComparisonPage } from '../../lab/report/render-comparison.ts';
import { CHARTS_SCRIPT_ID } from '../../lab/report/render-run.ts';

const fixture = (name: string) => path.join(import.meta.dirname, 'fixtures', 'runs', name);

function jsonBlock(page: string, id: string): unknown {
  const match = new RegExp(`<script type="application/json" id="${id}">([\\s\\S]*?)</script>`).exec(page);
  return JSON.parse(match?.[1] ?? 'null');
}

describe('the comparison page', () => {
  let page: string;
  let comparison: Comparison;
  beforeAll(async () => {
    const runs = await loadRuns([fixture('latency'), fixture('partition-b')]);
    comparison = buildComparison(runs, { now: new Date('2026-11-30T20:00:00Z') });
    page = renderComparisonPage(
      comparison,
      runs.map((run) => run.results),
    );
  });

  it('names both runs, the claims of each and the shared phases with their noise labels', () => {
    expect(page).toContain('latency vs partition: what the runs share');
    expect(page).toContain('2026-11-30_17-41-35_latency_5df7');
    expect(page).toContain('2026-11-30_18-51-51_partition_5630');
    expect(page).toContain('data-claim-id="split-checkout-pays-the-delay"');
    expect(page).toContain('data-claim-id="split-checkout-fails"');
    expect(page).toContain('not in this run');
    expect(page).toContain('data-phase="split/checkout/baseline"');
    expect(page).toContain('no per-request data: noise not assessed');
  });

  it('lists what was not compared, highlights differing fields and explains the method', () => {
    expect(page).toContain('<strong>phase slow-link</strong>: only in A');
    expect(page).toContain('<strong>phase recovery</strong>: its window differs (A: 30–40 s; B: 25–40 s)');
    expect(page).toMatch(/<tr class="differs">\s*<td class="nowrap">scenario<\/td>/);
    expect(page).toContain('<a href="#not-compared">why</a>');
    expect(page).toContain('Bootstrap 95 % confidence interval of the difference of medians');
    expect(page).toContain('Two-proportion z-test');
  });

  it('embeds the comparison and one overlaid pair of charts per shared route and deployment', () => {
    expect(jsonBlock(page, COMPARISON_SCRIPT_ID)).toEqual(JSON.parse(JSON.stringify(comparison)));
    const charts = jsonBlock(page, CHARTS_SCRIPT_ID) as { id: string; unit: string }[];
    // monolith and split, pay and checkout: successes and latency each.
    expect(charts).toHaveLength(8);
    for (const chart of charts) expect(page).toContain(`id="${chart.id}"`);
    expect(charts.map((chart) => chart.unit)).toEqual([
      'requests',
      'ms',
      'requests',
      'ms',
      'requests',
      'ms',
      'requests',
      'ms',
    ]);
  });

  it('tests p99 and each failure cause beside the median, and says how', () => {
    expect(page).toContain('p99 vs A [95 % CI]');
    expect(page).toContain('<li><strong>p99.</strong> The same bootstrap for p99');
    expect(page).toContain('<li><strong>Failures by cause.</strong> For each failure cause either run saw');
    expect(page).not.toContain('failure counts are shown without a test');
    // These recorded runs predate per-request data: p99 is not assessed either, and says why.
    for (const row of comparison.phases) {
      expect(row.versusFirst[1]?.latencyP99).toMatchObject({ verdict: 'not-assessed', differenceMs: null });
    }
  });

  it("says above the charts whose faults are shaded: here the runs' faults differ on split", () => {
    // A: latency on payment-api 10–30 s; B: partition on payment-api 10–25 s; neither touched the monolith.
    expect(page.match(/data-faults="per-run"/g)).toHaveLength(2);
    expect(page.match(/No fault touched this deployment in any run\./g)).toHaveLength(2);
    expect(page).toMatch(
      /The runs' faults differ here<\/strong>, each shaded in its run's colour:[\s\S]*?>A<\/span\s*>\s*latency on payment-api 10–30 s[\s\S]*?>B<\/span\s*>\s*partition on payment-api 10–25 s\./,
    );
  });

  it('makes no network request', () => {
    expect(page).toContain("default-src 'none'");
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });
});
