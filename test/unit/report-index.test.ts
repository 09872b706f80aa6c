import { describe, expect, it } from 'vitest';
import { INDEX_PAGE_SCRIPT, renderRunsIndex, type RunIndexEntry } from '../../lab/report/render-index.ts';
import { makeInvalidReportResults, makeReportResults } from './fixtures/report-results.ts';

/** The text of the verdict cell of the run in `dir`. */
function verdictOf(page: string, dir: string): string {
  const row = new RegExp(`<tr[^>]*data-run-dir="${dir}"[^>]*>([\\s\\S]*?)</tr>`).exec(page)?.[1] ?? '';
  return row.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

describe('the runs index', () => {
  it('shows an invalid run without a verdict and a degraded one with a warning', () => {
    const valid = makeReportResults({ validity: { status: 'valid', problems: [] } });
    const degraded = makeReportResults({
      validity: {
        status: 'degraded',
        problems: [
          { kind: 'generator-lagging', severity: 'degraded', phase: 'partition', message: 'late by 48 ms' },
        ],
      },
    });
    const page = renderRunsIndex(
      [
        { dir: 'valid-run', results: valid },
        { dir: 'degraded-run', results: degraded },
        { dir: 'invalid-run', results: makeInvalidReportResults() },
      ],
      [],
    );
    expect(verdictOf(page, 'valid-run')).not.toContain('degraded');
    expect(verdictOf(page, 'degraded-run')).toContain('measurement degraded');
    expect(verdictOf(page, 'invalid-run')).toContain('invalid: no verdict');
    expect(verdictOf(page, 'invalid-run')).not.toMatch(/held/);
  });
});

/** The markup of the first `<section>` with this id or `data-scenario` (sections nest one level here). */
function sectionOf(page: string, attribute: string): string {
  const start = page.indexOf(`<section ${attribute}`);
  if (start === -1) throw new Error(`no section ${attribute}`);
  let depth = 0;
  const tags = /<section\b|<\/section>/g;
  tags.lastIndex = start;
  for (let match = tags.exec(page); match; match = tags.exec(page)) {
    depth += match[0] === '</section>' ? -1 : 1;
    if (depth === 0) return page.slice(start, match.index);
  }
  throw new Error(`section ${attribute} does not end`);
}

/** The trend charts' specs, read back from the page's JSON block. */
function chartSpecsOf(page: string): { id: string; unit: string; label: string }[] {
  const json = /<script type="application\/json" id="splitlab-trend-charts">([\s\S]*?)<\/script>/.exec(
    page,
  )?.[1];
  return json === undefined ? [] : (JSON.parse(json) as { id: string; unit: string; label: string }[]);
}

function partitionRun(dir: string, startedAt: string, held: boolean): RunIndexEntry {
  const results = makeReportResults({ startedAt, validity: { status: 'valid', problems: [] } });
  results.hypothesis.held = held;
  return { dir, results };
}

describe('the runs index with trends', () => {
  const runs: RunIndexEntry[] = [
    partitionRun('run-2', '2026-11-30T12:00:00.000Z', true),
    partitionRun('run-1', '2026-11-30T10:00:00.000Z', false),
    {
      dir: 'run-3-invalid',
      results: { ...makeInvalidReportResults(), startedAt: '2026-11-30T14:00:00.000Z' },
    },
    {
      dir: 'other-1',
      results: makeReportResults({
        startedAt: '2026-11-30T09:00:00.000Z',
        scenario: { name: 'baseline', title: 'Is the baseline quiet?', claim: 'c', whatToLookAt: [] },
        runtime: { name: 'containers', details: {} },
      }),
    },
  ];

  it('keeps the list of runs, with a pick of A and B and the compare command to copy', () => {
    const page = renderRunsIndex(runs, []);
    const list = sectionOf(page, 'id="runs"');
    expect([...list.matchAll(/<tr data-run-dir="([^"]+)">/g)].map((m) => m[1])).toEqual([
      'run-3-invalid',
      'run-2',
      'run-1',
      'other-1',
    ]);
    for (const side of ['a', 'b']) {
      expect(
        [...list.matchAll(new RegExp(`name="compare-${side}"\\s+value="([^"]+)"`, 'g'))].map((m) => m[1]),
      ).toEqual(['run-3-invalid', 'run-2', 'run-1', 'other-1']);
    }
    expect(list).toContain('<code id="compare-command" data-reports="reports"');
    expect(list).toContain('npm run compare -- reports/&lt;a&gt; reports/&lt;b&gt;');
    expect(renderRunsIndex(runs, [], { reportsPath: 'out/reports' })).toContain(
      'npm run compare -- out/reports/&lt;a&gt; out/reports/&lt;b&gt;',
    );
  });

  it("shows each scenario's verdicts oldest first and one chart per claim from its second run on", () => {
    const page = renderRunsIndex(runs, []);
    const trends = sectionOf(page, 'id="trends"');
    expect([...trends.matchAll(/data-scenario="([^"]+)"/g)].map((m) => m[1])).toEqual([
      'baseline',
      'payment-partition',
    ]);
    const partition = sectionOf(page, 'class="trend" id="trend-payment-partition"');
    const marks = [...partition.matchAll(/class="run-mark ([^"]+)"[^>]*data-run-dir="([^"]+)"/g)];
    expect(marks.map((m) => [m[2], m[1]])).toEqual([
      ['run-1', 'failed'],
      ['run-2', 'held'],
      ['run-3-invalid', 'invalid'],
    ]);
    expect(partition).toContain('3 runs: 1 held, 1 did not, 1 invalid');
    expect(partition).toMatch(
      /title="2026-11-30 14:00:00 UTC · local, 1 min 39 s · invalid: no verdict · run-3-invalid"/,
    );
    expect([...partition.matchAll(/data-claim="([^"]+)"/g)].map((m) => m[1])).toEqual([
      'split-signup-isolated',
      'split-checkout-fails-fast',
      'split-circuit-opens',
      'split-checkout-recovers',
    ]);
    const baseline = sectionOf(page, 'class="trend" id="trend-baseline"');
    expect(baseline).toContain('One run so far');
    expect(baseline).toMatch(/class="run-mark failed degraded"[\s\S]*?<span class="runtime">C<\/span>/);
    expect(baseline).not.toContain('trend-box');

    // Every chart box has its spec in the JSON block, and nothing else does.
    const boxes = [...page.matchAll(/<div class="trend-box" id="([^"]+)"/g)].map((m) => m[1]);
    expect(chartSpecsOf(page).map((spec) => spec.id)).toEqual(boxes);
    expect(boxes).toHaveLength(4);
    expect(page).toContain('<script type="text/javascript" id="splitlab-echarts">');
    expect(page).toContain("script-src 'unsafe-inline'");
    expect(page).not.toMatch(/<link|(src|href)="https?:/i);
  });

  it('has no script, no pick and no chart with one run', () => {
    const page = renderRunsIndex([partitionRun('only', '2026-11-30T12:00:00.000Z', true)], []);
    expect(page).not.toMatch(/<script|name="compare-a"|class="trend-box"/);
    expect(page).toContain("default-src 'none'; style-src 'unsafe-inline'\"");
    expect(sectionOf(page, 'id="trends"')).toContain('One run so far');
  });

  it('escapes scenario names, claim texts and folder names in the markup and in the JSON block', () => {
    const hostile = (dir: string, startedAt: string) => {
      const entry = partitionRun(dir, startedAt, true);
      entry.results.scenario.name = '"><b>x</b>';
      const [first] = entry.results.hypothesis.claims;
      if (first) {
        first.id = '</script><script>alert(1)</script>';
        first.description = '<img src=x onerror=alert(2)>';
      }
      return entry;
    };
    const page = renderRunsIndex(
      [hostile('a"b', '2026-11-30T10:00:00.000Z'), hostile('<i>c</i>', '2026-11-30T11:00:00.000Z')],
      [],
    );
    // The chart library's own source has markup in its strings; the page around it must have none.
    const withoutLibrary = page.replace(
      /<script type="text\/javascript" id="splitlab-echarts">[\s\S]*?<\/script>/,
      '',
    );
    expect(withoutLibrary).not.toMatch(/<b>x<\/b>|<img|<i>c<\/i>|<script>alert|a"b/);
    expect(page).toContain('data-scenario="&quot;&gt;&lt;b&gt;x&lt;/b&gt;"');
    expect(page).toContain('value="a&quot;b"');
    expect(page).toContain('href="%3Ci%3Ec%3C%2Fi%3E/index.html"');
    expect(page).toContain('&lt;img src=x onerror=alert(2)&gt;');
    const [spec] = chartSpecsOf(page);
    expect(spec?.label).toContain('</script><script>alert(1)</script>');
    expect(page).toContain('\\u003c/script\\u003e\\u003cscript\\u003ealert(1)');
  });

  it('renders 300 runs of six scenarios: a trend chart per claim, a row per run', () => {
    const scenarios = ['partition', 'latency', 'outage', 'dns', 'breaker', 'crash'];
    const many = Array.from({ length: 300 }, (_, index) => {
      const results = makeReportResults({
        startedAt: new Date(Date.UTC(2026, 10, 1) + index * 60_000).toISOString(),
        scenario: {
          name: scenarios[index % scenarios.length] ?? 'x',
          title: 'q',
          claim: 'c',
          whatToLookAt: [],
        },
      });
      return { dir: `run-${index}`, results };
    });
    // Its speed is measured, not asserted here: 45-80 ms for these 300 runs on the 2-core machine.
    const page = renderRunsIndex(many, []);
    expect(chartSpecsOf(page)).toHaveLength(scenarios.length * 4);
    expect([...page.matchAll(/<tr data-run-dir=/g)]).toHaveLength(300);
  });
});

describe("the index's browser script", () => {
  it('parses as JavaScript (it is a string the type checker never sees)', () => {
    // Compiled, not run: a syntax error here would leave the page without charts and without the picker.
    expect(() => new Function(INDEX_PAGE_SCRIPT)).not.toThrow();
  });
});
