import { describe, expect, it } from 'vitest';
import type { EChartsOption } from 'echarts';
import type { RunResults } from '../../lab/results.ts';
import { buildReportCharts, CAUSE_COLOURS, type ChartSpec } from '../../lab/report/charts.ts';
import { escapeHtml, inlineScript, jsonForScript } from '../../lab/report/html.ts';
import { CHARTS_SCRIPT_ID, RESULTS_SCRIPT_ID, renderRunReport } from '../../lab/report/render-run.ts';
import {
  DEGRADED_REASON,
  DEPENDENCY_FAILED_REASON,
  makeInvalidReportResults,
  makeReportResults,
} from './fixtures/report-results.ts';

function jsonBlock(page: string, id: string): unknown {
  const match = new RegExp(`<script type="application/json" id="${id}">([\\s\\S]*?)</script>`).exec(page);
  if (!match?.[1]) throw new Error(`no JSON block ${id}`);
  return JSON.parse(match[1]);
}

/** Asserts on text with whitespace collapsed (the page is formatted), without printing 1 MB on failure. */
function expectText(page: string, ...texts: string[]): void {
  const flat = page.replace(/\s+/g, ' ');
  for (const text of texts) expect(flat.includes(text), `page should contain: ${text}`).toBe(true);
}

function expectNoText(page: string, ...texts: string[]): void {
  const flat = page.replace(/\s+/g, ' ');
  for (const text of texts) expect(flat.includes(text), `page should not contain: ${text}`).toBe(false);
}

function hostileResults(): RunResults {
  const results = makeReportResults({
    scenario: {
      name: 'hostile',
      title: 'Does <script>alert(1)</script> run?',
      claim: 'Tom & Jerry say "</script><script>alert(2)</script>"',
      whatToLookAt: ['<img src=x onerror=alert(3)>'],
    },
    runtime: { name: 'local', details: { '<b>key</b>': "it's <i>fine</i>" } },
  });
  const [claim] = results.hypothesis.claims;
  if (claim) claim.description = '"><img src=x onerror=alert(4)>';
  const [fault] = results.faults;
  if (fault) fault.fault = '</script><svg onload=alert(5)>';
  return results;
}

describe('renderRunReport', () => {
  const results = makeReportResults();
  const page = renderRunReport(results);

  it('is one HTML document that loads nothing from the network', () => {
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expectText(page, `<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    const externalLoads = [
      /<script[^>]*\ssrc\s*=/i,
      /<link\b/i,
      /\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i,
      /url\(\s*["']?(https?:)?\/\//i,
      /@import/i,
    ];
    for (const pattern of externalLoads) expect(pattern.test(page), String(pattern)).toBe(false);
    // URLs that appear only as text inside the inlined library: XML namespaces and licence links.
    const urls = new Set(page.match(/https?:\/\/[^\s"'`)<>]+/g) ?? []);
    const allowed =
      /^https?:\/\/(www\.w3\.org\/|www\.apache\.org\/licenses\/|github\.com\/ecomfe\/zrender\/)/;
    expect([...urls].filter((url) => !allowed.test(url))).toEqual([]);
  });

  it('inlines the ECharts library and the script that draws the charts', () => {
    expect(page.length).toBeGreaterThan(500_000);
    expectText(page, 'echarts');
    expectText(page, "getElementById('splitlab-charts')");
    expect(page.match(/<script\b/g)).toHaveLength(4);
    expect(page.match(/<\/script>/g)).toHaveLength(4);
  });

  it('shows the question, the claim it tests and the verdict', () => {
    expectText(page, `<title>${escapeHtml(results.scenario.title)} — splitlab</title>`);
    expectText(page, `<h1>${escapeHtml(results.scenario.title)}</h1>`);
    expectText(page, escapeHtml(results.scenario.claim));
    expectText(page, 'Hypothesis did not hold');
    expectNoText(page, 'Hypothesis held');
    expectText(page, '3 of 4 claims held');
    expectText(page, results.runId);
    expectText(page, '2026-11-25 12:05:03 UTC');
    expectText(page, '1 min 39 s');
    expectText(page, 'toxiproxy: 2.12.0');
  });

  it('says the hypothesis held when it did', () => {
    const held = makeReportResults();
    held.hypothesis = {
      held: true,
      claims: held.hypothesis.claims.map((claim) => ({ ...claim, held: true })),
    };
    const heldPage = renderRunReport(held);
    expectText(heldPage, 'Hypothesis held');
    expectNoText(heldPage, 'Hypothesis did not hold');
  });

  it('has one row per claim with its expectation, observation and outcome', () => {
    for (const claim of results.hypothesis.claims) {
      const row = new RegExp(`<tr class="[^"]*" data-claim-id="${claim.id}">([\\s\\S]*?)</tr>`).exec(
        page,
      )?.[1];
      if (row === undefined) throw new Error(`no row for claim ${claim.id}`);
      expectText(row, escapeHtml(claim.description));
      expectText(row, claim.held ? '✓ held' : '✗ did not hold');
    }
    const failed = /data-claim-id="split-checkout-fails-fast">([\s\S]*?)<\/tr>/.exec(page)?.[1] ?? '';
    expectText(failed, '≤ 500 ms');
    expectText(failed, '2.01 s');
    const share = /data-claim-id="split-circuit-opens">([\s\S]*?)<\/tr>/.exec(page)?.[1] ?? '';
    expectText(share, '77.8 %');
  });

  it('shows the timeline, the load, the per-phase tables, recovery and the audit', () => {
    expectText(page, 'signup-service can no longer reach payment-service');
    expectText(page, '<code>payment-api</code>');
    expectText(page, 'POST /charge on payment-service via edge-payment');
    expectText(page, 'circuit_open 350, deadline 100');
    expectNoText(page, 'did not recover');
    expectText(page, 'orphan users');
    expectText(page, '<td class="num bad">412</td>');
    expectText(page, escapeHtml(results.scenario.whatToLookAt[0] ?? ''));
    expectText(page, 'results schema version');
    expectText(page, `npm run rerender -- reports/${results.runId}`);
  });

  it('embeds the results, which parse back to the same object', () => {
    expect(jsonBlock(page, RESULTS_SCRIPT_ID)).toEqual(results);
  });

  it('embeds one chart spec per chart element', () => {
    const specs = jsonBlock(page, CHARTS_SCRIPT_ID) as ChartSpec[];
    // 3 routes x 2 kinds x 2 deployments + 3 services.
    expect(specs).toHaveLength(15);
    for (const spec of specs) expectText(page, `id="${spec.id}"`);
  });

  it('escapes every string from the results', () => {
    const hostile = hostileResults();
    const hostilePage = renderRunReport(hostile);
    expectText(hostilePage, 'Does &lt;script&gt;alert(1)&lt;/script&gt; run?');
    expectText(hostilePage, 'Tom &amp; Jerry');
    expectText(hostilePage, '&lt;img src=x onerror=alert(3)&gt;');
    expectText(hostilePage, '&lt;b&gt;key&lt;/b&gt;: it&#39;s &lt;i&gt;fine&lt;/i&gt;');
    for (const payload of [
      'alert(1)</script>',
      '<img src=x',
      '<svg onload',
      '<script>alert(2)',
      '<b>key',
      '<i>fine',
    ]) {
      expectNoText(hostilePage, payload);
    }
    // Still exactly the four script elements the renderer writes: nothing broke out of the JSON blocks.
    expect(hostilePage.match(/<script\b/g)).toHaveLength(4);
    expect(hostilePage.match(/<\/script>/gi)).toHaveLength(4);
    expect(jsonBlock(hostilePage, RESULTS_SCRIPT_ID)).toEqual(hostile);
  });

  it('renders results without faults, claims or service samples', () => {
    const bare = makeReportResults({ faults: [], hypothesis: { held: true, claims: [] } });
    for (const deployment of bare.deployments) deployment.services = [];
    const barePage = renderRunReport(bare);
    expectText(barePage, 'This scenario states no claims.');
    expectText(barePage, 'No service samples in monolith.');
  });
});

describe('the validity of the run on its page', () => {
  it('puts an amber "measurement degraded" banner with its reasons under the verdict, which it keeps', () => {
    const page = renderRunReport(makeReportResults());
    const banner = /<div class="validity degraded"[\s\S]*?<\/div>/.exec(page)?.[0] ?? '';
    expectText(banner, 'Measurement degraded: read the verdict with care.');
    expectText(banner, `split, partition: ${escapeHtml(DEGRADED_REASON)}`);
    expectText(page, 'Hypothesis did not hold', '⚠ measurement degraded');
    // The banner comes right after the header, before what to look at.
    expect(page.indexOf('class="validity degraded"')).toBeGreaterThan(page.indexOf('</header>'));
    expect(page.indexOf('class="validity degraded"')).toBeLessThan(page.indexOf('id="what-to-look-at"'));
  });

  it('shows the first six degraded reasons and points at the load health tables for the rest', () => {
    const results = makeReportResults();
    const [problem] = results.validity?.problems ?? [];
    if (!problem) throw new Error('the fixture is degraded');
    results.validity = {
      status: 'degraded',
      problems: Array.from({ length: 10 }, (_, index) => ({ ...problem, phase: `phase-${index}` })),
    };
    const banner = /<div class="validity degraded"[\s\S]*?<\/div>/.exec(renderRunReport(results))?.[0] ?? '';
    expect(banner.match(/<li>/g)).toHaveLength(7);
    expectText(banner, 'split, phase-5:', 'and 4 more: see the <a href="#deployments">load health</a>');
    expectNoText(banner, 'split, phase-6:');
  });

  it('gives an invalid run no verdict: a red banner that says why, and "No verdict" in the verdict box', () => {
    const page = renderRunReport(makeInvalidReportResults());
    const banner = /<div class="validity invalid"[\s\S]*?<\/div>/.exec(page)?.[0] ?? '';
    expectText(banner, 'No verdict: the lab could not do what the scenario asked, so this run is invalid.');
    expectText(banner, `split: ${escapeHtml(DEPENDENCY_FAILED_REASON)}`);
    expectText(page, '<div class="verdict invalid" role="status"> No verdict');
    expectNoText(page, 'Hypothesis did not hold', 'Hypothesis held');
    // Degraded reasons are not the story of an invalid run: the banner lists the invalid ones only.
    expectNoText(banner, escapeHtml(DEGRADED_REASON));
    expectText(page, 'Partial: the run stopped during this deployment');
    expectText(page, 'Not audited: the run stopped and the databases could not be read');
  });

  it('says so, quietly, when the run was valid', () => {
    const results = makeReportResults();
    results.validity = { status: 'valid', problems: [] };
    expectText(renderRunReport(results), '✓ Measurement valid: every planned fault was observed');
  });

  it('draws the observed fault timeline under the planned one, and lists every step with its lag', () => {
    const page = renderRunReport(makeReportResults());
    const timeline = /<section id="timeline">[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
    const observed = /<div class="row" data-observed="split">[\s\S]*?<\/div>\s*<\/div>\s*<\/div>/.exec(
      timeline,
    )?.[0];
    expect(observed).toBeDefined();
    expectText(
      observed ?? '',
      'observed · split',
      'class="span observed"',
      'left: 25.005%',
      'partition +4.1 ms',
    );
    // The monolith had nothing to observe: no row.
    expectNoText(timeline, 'data-observed="monolith"');
    expectText(timeline, 'Observed fault timeline', '<code>timeout toxics on payment-api</code>');
    expectText(timeline, '<td class="num">4.1 ms</td>', '<td class="num">2.7 ms</td>');
    expectText(timeline, 'payment-api: toxics timeout/upstream, timeout/downstream; enabled');

    const invalid = renderRunReport(makeInvalidReportResults());
    expectText(invalid, 'observed · split (partial)', 'class="span missed"', '✗ partition: not observed');
    expectText(invalid, '<tr class="not-observed">', '<span class="bad">not observed</span>');
  });

  it('shows each deployment its load health per phase and why a phase is degraded', () => {
    const page = renderRunReport(makeReportResults());
    const split =
      /<article class="deployment card" data-deployment="split">[\s\S]*?<\/article>/.exec(page)?.[0] ?? '';
    expectText(split, 'Load health', '1,950 / 1,950', '<td class="num bad">31 ms / 48 ms</td>');
    expectText(split, '<td class="num bad">97 % / 52 %</td>', '1003 ms');
    expectText(split, `<strong>partition</strong>: measurement degraded — ${escapeHtml(DEGRADED_REASON)}`);
    const monolith =
      /<article class="deployment card" data-deployment="monolith">[\s\S]*?<\/article>/.exec(page)?.[0] ?? '';
    expectText(monolith, '✓ Every phase measured cleanly');
  });
});

describe('chart options', () => {
  const results = makeReportResults();
  const charts = buildReportCharts(results);

  type Timeline = {
    name: string;
    markArea: { data: [{ name: string; xAxis: number }, { xAxis: number }][] };
    markLine: { data: { name: string; xAxis: number }[] };
  };
  const timelineOf = (option: EChartsOption): Timeline => {
    const series = option.series as unknown as Timeline[];
    const timeline = series.find((s) => s.name === 'timeline');
    if (!timeline) throw new Error('no timeline series');
    return timeline;
  };
  const yMax = (option: EChartsOption) => (option.yAxis as { max: number }).max;

  it('shades a fault only in the deployments whose link it touched', () => {
    const checkout = charts.routes.find((r) => r.route === 'checkout');
    const monolith = checkout?.throughput.find((c) => c.deployment === 'monolith')?.chart;
    const split = checkout?.throughput.find((c) => c.deployment === 'split')?.chart;
    if (!monolith || !split) throw new Error('missing checkout charts');
    expect(timelineOf(monolith.option).markArea.data).toEqual([]);
    expect(timelineOf(split.option).markArea.data).toEqual([
      [{ name: 'partition\npayment-api', xAxis: 20 }, { xAxis: 50 }],
    ]);
    // Phase boundaries are marked everywhere.
    expect(timelineOf(monolith.option).markLine.data.map((d) => d.name)).toEqual([
      'baseline',
      'partition',
      'recovery',
    ]);
  });

  it('gives both deployments of a route the same y scale and every chart the same x range', () => {
    for (const route of charts.routes) {
      const [a, b] = route.throughput.map((c) => c.chart?.option);
      const [c, d] = route.latency.map((l) => l.chart?.option);
      if (!a || !b || !c || !d) throw new Error(`missing charts for ${route.route}`);
      expect(yMax(a)).toBe(yMax(b));
      expect(yMax(c)).toBe(yMax(d));
      expect((c.yAxis as { type: string }).type).toBe('log');
    }
    const ranges = new Set(charts.all.map((chart) => JSON.stringify(chart.option.xAxis)));
    expect(ranges.size).toBe(1);
  });

  it('stacks failures by cause with one colour per cause across all charts', () => {
    const split = charts.routes.find((r) => r.route === 'checkout')?.throughput[1]?.chart;
    const series = (split?.option.series ?? []) as {
      name: string;
      stack?: string;
      itemStyle?: { color: string };
    }[];
    const stacked = series.filter((s) => s.stack === 'outcome');
    expect(stacked.map((s) => s.name)).toEqual(['success', 'circuit_open', 'deadline', 'reset']);
    for (const s of stacked) expect(s.itemStyle?.color).toBe(charts.outcomeColours[s.name]);
    // The same colour for a cause in every report (and in the live view), whatever its frequency.
    expect(charts.outcomeColours.deadline).toBe(CAUSE_COLOURS.deadline);
    expect(charts.outcomeColours.circuit_open).toBe(CAUSE_COLOURS.circuit_open);
  });

  it('leaves out service series that were never measured', () => {
    const payment = charts.services.find((g) => g.deployment === 'split')?.charts[1];
    expect(payment?.service).toBe('payment-service');
    const names = ((payment?.chart.option.series ?? []) as { name: string }[]).map((s) => s.name);
    expect(names).toEqual(['event-loop delay p99 (ms)', 'requests in flight', 'timeline']);
  });
});

describe('html helpers', () => {
  it('escapes markup and keeps JSON blocks closed', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const json = jsonForScript({ s: '</script><!-- & \u2028' });
    expect(json).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(json)).toEqual({ s: '</script><!-- & \u2028' });
    expect(inlineScript('var s = "</SCRIPT>";')).toBe('var s = "<\\/SCRIPT>";');
  });
});

describe('closed-model load in the report', () => {
  function withClosedPay(): RunResults {
    const results = makeReportResults();
    const [first] = results.deployments;
    if (!first) throw new Error('the fixture has a deployment');
    const pay = first.routes.find((route) => route.route === 'pay');
    if (!pay) throw new Error('the fixture drives pay');
    pay.closedModel = {
      connections: 2,
      seconds: pay.seconds.map((second) => ({ ...second, completed: second.completed * 10 })),
      phases: pay.phases.map((phase) => ({ ...phase, loadModel: 'closed' as const })),
      wholeRun: { ...pay.phases[0]!, phase: 'whole run', loadModel: 'closed' as const },
    };
    first.closedStreams = [
      {
        route: 'pay',
        connections: 2,
        role: 'steady',
        fromS: 0,
        untilS: 30,
        sent: 6344,
        answered: 6300,
        ok: 6300,
        autocannon: { errors: 44, timeouts: 0, non2xx: 0, instances: 2 },
        bounded: [{ atS: 12.5, errors: 501, pausedMs: 1000 }],
        labProcessCpuShare: 0.22,
      },
    ];
    results.load.push({ route: 'pay', ratePerSecond: 0, model: 'closed', connections: 2, maxInFlight: 0 });
    return results;
  }

  it('marks the closed-model tables, charts and load, and says when autocannon was bounded', () => {
    const results = withClosedPay();
    const page = renderRunReport(results);
    expectText(
      page,
      'closed model</strong> (autocannon, 2 connections) · latency per second from each send',
      '<strong>Closed model</strong> (autocannon, 2 connections): latency from each send',
      '2 connections (closed)',
      'Closed-model load',
      '1× (first at t=12.5 s, 501 errors in that second; paused 1,000 ms each)',
    );
    const charts = buildReportCharts(results).routes.find((route) => route.route === 'pay')?.closed;
    expect(charts?.map((chart) => chart.connections)).toEqual([2]);
  });

  it('leaves a run without closed streams as it was', () => {
    expectNoText(renderRunReport(makeReportResults()), 'Closed-model load', 'closed model</strong>');
  });
});
