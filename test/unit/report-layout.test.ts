import { describe, expect, it } from 'vitest';
import type { RunResults } from '../../lab/results.ts';
import { buildReportCharts } from '../../lab/report/charts.ts';
import { renderRunReport } from '../../lab/report/render-run.ts';
import { FIVE_COLUMNS, THREE_COLUMNS, makeManyColumnResults } from './fixtures/many-columns.ts';
import { makeReportResults } from './fixtures/report-results.ts';

/** The markup of `<section id="…">` (sections do not nest). */
function sectionOf(page: string, id: string): string {
  const match = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(page);
  if (!match?.[1]) throw new Error(`no section ${id}`);
  return match[1];
}

interface Article {
  deployment: string;
  start: number;
  end: number;
  markup: string;
}

/** Every `<article data-deployment>` in document order, with where it starts and ends. */
function articlesOf(markup: string): Article[] {
  const pattern = /<article\b[^>]*\bdata-deployment="([^"]+)"[^>]*>([\s\S]*?)<\/article>/g;
  return [...markup.matchAll(pattern)].map((match) => ({
    deployment: match[1] ?? '',
    start: match.index,
    end: match.index + match[0].length,
    markup: match[2] ?? '',
  }));
}

/** For each match of `pattern`, in document order, the deployment whose article holds it. */
function ownersOf(markup: string, pattern: RegExp): (string | undefined)[] {
  const articles = articlesOf(markup);
  return [...markup.matchAll(pattern)].map(
    (match) => articles.find((a) => a.start <= match.index && match.index < a.end)?.deployment,
  );
}

/** Consecutive repeats collapsed: contiguous blocks give each name once. */
function blocks(sequence: readonly (string | undefined)[]): (string | undefined)[] {
  return sequence.filter((name, index) => index === 0 || name !== sequence[index - 1]);
}

const text = (markup: string) =>
  markup
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

const CASES: { columns: number; results: RunResults; order: string[] }[] = [
  { columns: 2, results: makeReportResults(), order: ['monolith', 'split'] },
  {
    columns: 3,
    results: makeManyColumnResults(THREE_COLUMNS),
    order: ['monolith', 'split', ...THREE_COLUMNS],
  },
  {
    columns: 5,
    results: makeManyColumnResults(FIVE_COLUMNS),
    order: ['monolith', 'split', ...FIVE_COLUMNS],
  },
];

describe.each(CASES)('a run page with $columns columns', ({ results, order }) => {
  const page = renderRunReport(results);
  const deployments = sectionOf(page, 'deployments');

  it('keeps all tables of a deployment together, deployments in column order', () => {
    const owners = ownersOf(deployments, /<table\b/g);
    expect(owners.length).toBeGreaterThanOrEqual(5 * order.length);
    expect(blocks(owners)).toEqual(order);
  });

  it('gives each deployment one column holding its heading and all its tables, in order', () => {
    const articles = articlesOf(deployments);
    expect(articles.map((a) => a.deployment)).toEqual(order);
    for (const { deployment, markup } of articles) {
      const headings = [...markup.matchAll(/<h[34]\b[^>]*>([\s\S]*?)<\/h[34]>/g)].map((m) =>
        text(m[1] ?? ''),
      );
      expect(headings).toEqual([
        deployment,
        ...[
          'signup',
          'pay',
          'checkout',
          'Services per phase',
          'Recovery after heal',
          'Audit after settling',
          'Load health',
        ].map((heading) => `${heading} ${deployment}`),
      ]);
    }
  });

  it('shows each deployment its own figures', () => {
    for (const { deployment, markup } of articlesOf(deployments)) {
      const data = results.deployments.find((d) => d.deployment === deployment);
      if (!data) throw new Error(`no results for ${deployment}`);
      const orphans = /orphan users[\s\S]*?<td class="num[^"]*">([^<]*)<\/td>/.exec(markup)?.[1];
      expect(orphans, deployment).toBe(String(data.audit.orphanUsers));
      for (const route of data.routes) expect(markup).toContain(route.target);
    }
  });

  it('draws each chart in its own deployment column, deployments in column order', () => {
    const charts = sectionOf(page, 'charts');
    const specs = buildReportCharts(results);
    const deploymentOfChart = new Map<string, string>();
    for (const route of specs.routes) {
      for (const { deployment, chart } of [...route.throughput, ...route.latency]) {
        if (chart) deploymentOfChart.set(chart.id, deployment);
      }
    }
    for (const group of specs.services) {
      for (const { chart } of group.charts) deploymentOfChart.set(chart.id, group.deployment);
    }
    const ids = [...charts.matchAll(/<div class="chart-box" id="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(ids).toHaveLength(specs.all.length);
    expect(ownersOf(charts, /<div class="chart-box"/g)).toEqual(ids.map((id) => deploymentOfChart.get(id)));
    // One grid per route and one for the services, each with every deployment once, in column order.
    const grids = specs.routes.length + 1;
    expect(articlesOf(charts).map((a) => a.deployment)).toEqual(
      Array.from({ length: grids }, () => order).flat(),
    );
  });
});

describe('the top of the run page', () => {
  it('puts what to look at right under the verdict, before the hypothesis table', () => {
    const page = renderRunReport(makeReportResults());
    const verdict = page.indexOf('class="verdict');
    const look = page.indexOf('<section id="what-to-look-at">');
    const hypothesis = page.indexOf('<section id="hypothesis">');
    expect(verdict).toBeGreaterThan(0);
    expect(look).toBeGreaterThan(verdict);
    expect(hypothesis).toBeGreaterThan(look);
    expect(page.slice(verdict, look)).not.toMatch(/<section\b/);
  });
});

describe('route charts', () => {
  it('leave out a route nothing was sent on in any column, and keep the others', () => {
    const results = makeReportResults();
    const silenced: RunResults = {
      ...results,
      deployments: results.deployments.map((deployment) => ({
        ...deployment,
        routes: deployment.routes.map((route) =>
          route.route === 'signup'
            ? { ...route, seconds: route.seconds.map((second) => ({ ...second, completed: 0 })) }
            : route,
        ),
      })),
    };
    const before = buildReportCharts(results).routes.map((route) => route.route);
    expect(before).toContain('signup');
    expect(buildReportCharts(silenced).routes.map((route) => route.route)).toEqual(
      before.filter((route) => route !== 'signup'),
    );
  });
});
