/**
 * `npm run compare` as a user meets it: two real runs of a short scenario through the CLI, compared
 * through the CLI, and the page opened in a headless browser.
 *
 * SPLITLAB_COMPARE_SCREENSHOT=<file.png> keeps a screenshot of the page.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Comparison } from '../../lab/compare/comparison.ts';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import type { RunResults } from '../../lab/results.ts';
import { TEST_RUNTIME } from './support/lab.ts';
import { startCli } from './support/running-cli.ts';

let workDir: string;
let scenariosDir: string;
let reportsDir: string;
const runDirs: string[] = [];
let repeatPage: string;

async function runCli(script: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const running = startCli(script, args);
  const code = await running.exited;
  // 'exit' can come before the last 'data' of a pipe: let the streams drain.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { code, output: running.output() };
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'splitlab-compare-test-'));
  scenariosDir = path.join(workDir, 'scenarios');
  reportsDir = path.join(workDir, 'reports');
  await mkdir(scenariosDir);
  // Two phases of 4 s on the monolith only: the shortest run with a timeline to compare.
  await writeFile(
    path.join(scenariosDir, 'twice.ts'),
    `import { defineScenario } from ${JSON.stringify(path.join(PROJECT_ROOT, 'lab/scenario/define-scenario.ts'))};
export default defineScenario({
  name: 'twice',
  title: 'Does the same run twice look the same?',
  claim: 'Two runs of one scenario differ only by noise.',
  load: { signup: { ratePerSecond: 1 }, pay: { ratePerSecond: 20 }, checkout: { ratePerSecond: 5 } },
  timeline: [
    { name: 'calm', durationS: 4, story: 'Nothing happens.' },
    { name: 'later', durationS: 4, story: 'Still nothing.' },
  ],
  hypothesis: [{ id: 'pay-succeeds', says: 'pay succeeds', deployment: 'monolith', route: 'pay', phase: 'calm', metric: 'successRate', atLeast: 0.9 }],
  whatToLookAt: ['Nothing: this is a test.'],
  variants: [{ name: 'monolith', deployment: 'monolith', settings: {} }],
});
`,
  );
  // The two runs come from one `--repeat 2`, which also writes the page of their spread.
  const { code, output } = await runCli('lab/cli/scenario.ts', [
    'twice',
    '--repeat',
    '2',
    '--runtime',
    TEST_RUNTIME,
    '--scenarios-dir',
    scenariosDir,
    '--reports-dir',
    reportsDir,
  ]);
  expect(code, output).toBe(0);
  const reportPaths = [...output.matchAll(/Report: (.+index\.html)/g)].map((match) => match[1] ?? '');
  expect(reportPaths, output).toHaveLength(2);
  runDirs.push(...reportPaths.map((reportPath) => path.dirname(reportPath)));
  repeatPage = /Repeat page: (.+index\.html)/.exec(output)?.[1] ?? '';
  expect(repeatPage, output).not.toBe('');
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('npm run scenario -- <name> --repeat 2', () => {
  it('writes one page of both runs: each claim held in 2 of 2, every phase with its spread', async () => {
    const page = await readFile(repeatPage, 'utf8');
    expect(page).toContain('repeated 2 times');
    expect(page).toMatch(/data-claim="pay-succeeds">[\s\S]*?2 of 2[\s\S]*?✓ held/);
    for (const dir of runDirs) expect(page).toContain(`href="../${path.basename(dir)}/index.html"`);
    const summary = JSON.parse(
      await readFile(path.join(path.dirname(repeatPage), 'repeat.json'), 'utf8'),
    ) as {
      runs: unknown[];
      figures: { phase: string; p50Ms: { values: (number | null)[] } }[];
    };
    expect(summary.runs).toHaveLength(2);
    expect(summary.figures.find((figure) => figure.phase === 'calm')?.p50Ms.values).toHaveLength(2);
  });
});

describe('npm run compare', () => {
  it('refuses fewer than two runs and a missing folder with exit 2, naming the fix', async () => {
    const one = await runCli('lab/cli/compare.ts', [runDirs[0] ?? '']);
    expect(one.code).toBe(2);
    expect(one.output).toContain('compare needs at least two runs, got 1');
    const missing = await runCli('lab/cli/compare.ts', [runDirs[0] ?? '', path.join(workDir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.output).toContain('does not exist: give a report folder');
  });

  it('writes a page and comparison.json that compare the two runs phase by phase', async () => {
    // Each run now keeps every request's latency, per phase.
    const results = JSON.parse(
      await readFile(path.join(runDirs[0] ?? '', 'results.json'), 'utf8'),
    ) as RunResults;
    const phases = results.deployments[0]?.routes.flatMap((route) => route.phases) ?? [];
    expect(phases.length).toBe(6);
    for (const phase of phases) expect(phase.latencyHistogram).toMatch(/^[A-Za-z0-9+/=]+$/);

    const outDir = path.join(workDir, 'comparison');
    const { code, output } = await runCli('lab/cli/compare.ts', [
      runDirs[0] ?? '',
      runDirs[1] ?? '',
      '--out',
      outDir,
    ]);
    expect(code, output).toBe(0);
    expect(output).toContain(`comparison: ${path.join(outDir, 'index.html')}`);
    const comparison = JSON.parse(await readFile(path.join(outDir, 'comparison.json'), 'utf8')) as Comparison;
    expect(comparison.runs.map((run) => run.runId)).toEqual(runDirs.map((dir) => path.basename(dir)));
    expect(comparison.notCompared).toEqual([]);
    // signup, pay, checkout x calm, later, each with a verdict from the per-request data.
    expect(comparison.phases.map((row) => `${row.route}/${row.phase}`)).toEqual([
      'signup/calm',
      'signup/later',
      'pay/calm',
      'pay/later',
      'checkout/calm',
      'checkout/later',
    ]);
    for (const row of comparison.phases) {
      const median = row.versusFirst[1]?.latencyMedian;
      expect(['within-noise', 'beyond-noise']).toContain(median?.verdict);
      expect(median?.lowMs).toBeLessThanOrEqual(median?.highMs ?? Number.NaN);
    }
    const claim = comparison.claims.find((c) => c.id === 'pay-succeeds');
    expect(claim?.runs.map((run) => run?.held)).toEqual([true, true]);
    expect((await stat(path.join(outDir, 'index.html'))).size).toBeGreaterThan(100_000);
  });

  it('renders its charts in a browser without errors', async () => {
    const outDir = path.join(workDir, 'comparison');
    await inBrowser(path.join(outDir, 'index.html'), async (page, problems) => {
      // 3 routes of the one shared deployment, two charts each.
      await expect
        .poll(() => page.locator('html').getAttribute('data-charts-ready'), { timeout: 10_000 })
        .toBe('6');
      expect(await page.locator('.chart-box canvas').count()).toBe(6);
      expect(await page.locator('.chart-problem').count()).toBe(0);
      expect(await page.locator('[data-verdict]').count()).toBeGreaterThanOrEqual(12);
      expect(await page.locator('#not-compared').textContent()).toContain('Nothing');
      // No fault in either run: no band, and the page says so.
      expect(await page.locator('[data-faults="shared"]').first().textContent()).toContain(
        'No fault touched this deployment in any run.',
      );
      if (process.env.SPLITLAB_COMPARE_SCREENSHOT) {
        await page.screenshot({ path: process.env.SPLITLAB_COMPARE_SCREENSHOT, fullPage: true });
      }
      expect(problems).toEqual([]);
    });
  });

  it("shades each run's own fault windows in its colour when the runs' faults differ", async () => {
    // Recorded runs: a latency fault 10–30 s against a partition 10–25 s, both on payment-api (split only).
    const fixtures = path.join(PROJECT_ROOT, 'test', 'unit', 'fixtures', 'runs');
    const outDir = path.join(workDir, 'faults-differ');
    const { code, output } = await runCli('lab/cli/compare.ts', [
      path.join(fixtures, 'latency-histograms-a'),
      path.join(fixtures, 'partition-histograms-a'),
      '--out',
      outDir,
    ]);
    expect(code, output).toBe(0);
    await inBrowser(path.join(outDir, 'index.html'), async (page, problems) => {
      // monolith and split, signup, pay and checkout, two charts each.
      await expect
        .poll(() => page.locator('html').getAttribute('data-charts-ready'), { timeout: 10_000 })
        .toBe('12');
      expect(await page.locator('.chart-problem').count()).toBe(0);
      // What ECharts drew: the bands of each run, as series of the chart, in the split charts only.
      const bandsOf = (deployment: string) =>
        page.evaluate((selector) => {
          // The page's globals, typed here: the test project compiles without the DOM library.
          const { echarts, document } = globalThis as unknown as {
            echarts: { getInstanceByDom(element: unknown): { getOption(): unknown } | undefined };
            document: { querySelectorAll(selector: string): Iterable<unknown> };
          };
          return [...document.querySelectorAll(selector)].map((box) => {
            const option = echarts.getInstanceByDom(box)?.getOption() as {
              series: { name: string; markArea?: { data?: unknown[] } }[];
            };
            return option.series
              .filter((series) => (series.markArea?.data?.length ?? 0) > 0)
              .map((series) => `${series.name} ×${series.markArea?.data?.length}`);
          });
        }, `article[data-deployment="${deployment}"] .chart-box`);
      expect(await bandsOf('split')).toEqual(Array.from({ length: 6 }, () => ['A faults ×1', 'B faults ×1']));
      expect(await bandsOf('monolith')).toEqual(Array.from({ length: 6 }, () => []));
      expect(await page.locator('article[data-deployment="split"] [data-faults="per-run"]').count()).toBe(3);
      if (process.env.SPLITLAB_COMPARE_SCREENSHOT) {
        await page
          .locator('#charts')
          .screenshot({ path: process.env.SPLITLAB_COMPARE_SCREENSHOT.replace(/\.png$/, '-faults.png') });
      }
      expect(problems).toEqual([]);
    });
  });
});

/** Opens a page in headless Chromium, collecting errors and any request that leaves the file. */
async function inBrowser(
  file: string,
  check: (page: Page, problems: string[]) => Promise<void>,
): Promise<void> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('request', (request) => {
      if (!request.url().startsWith('file:')) problems.push(`network request: ${request.url()}`);
    });
    await page.goto(pathToFileURL(file).href);
    await check(page, problems);
  } finally {
    await browser.close();
  }
}
