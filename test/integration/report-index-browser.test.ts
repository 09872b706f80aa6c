/**
 * The runs index in a real browser: its trend charts draw without an error, a point's tooltip shows its
 * run (escaped), and picking two runs prints the compare command.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResults } from '../../lab/results.ts';
import { writeRunReport, writeRunsIndex } from '../../lab/report/write-report.ts';
import { makeInvalidReportResults, makeReportResults } from '../unit/fixtures/report-results.ts';

let reportsDir = '';
let browser: Browser | undefined;

beforeAll(async () => {
  reportsDir = await mkdtemp(path.join(os.tmpdir(), 'splitlab-index-browser-'));
  const runs: [string, RunResults][] = [
    ['run <1>', makeReportResults({ startedAt: '2026-11-30T10:00:00.000Z' })],
    ['run-2', makeReportResults({ startedAt: '2026-11-30T11:00:00.000Z' })],
    ['run-3', { ...makeInvalidReportResults(), startedAt: '2026-11-30T12:00:00.000Z' }],
  ];
  const [, second] = runs;
  const fast = second?.[1].hypothesis.claims[1];
  if (fast) Object.assign(fast, { observed: 420, held: true });
  for (const [dir, results] of runs) await writeRunReport(path.join(reportsDir, dir), results);
  await writeRunsIndex(reportsDir);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
});

describe('the runs index in a browser', () => {
  it('draws every trend chart without an error and prints the compare command', async () => {
    if (!browser) throw new Error('no browser');
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    await page.goto(pathToFileURL(path.join(reportsDir, 'index.html')).href);

    const root = (name: string) => page.locator('html').getAttribute(`data-${name}`);
    expect(await root('charts-total')).toBe('4');
    // Charts are drawn as they come into view: scroll to them, then check each has a canvas.
    await page.locator('#trends').scrollIntoViewIfNeeded();
    await expect.poll(() => root('charts-drawn'), { timeout: 10_000 }).toBe('4');
    expect(await page.locator('.trend-box canvas').count()).toBe(4);

    // Hover the first point of the latency claim: its tooltip names the run, escaped.
    const box = page.locator('[data-claim="split-checkout-fails-fast"] .trend-box');
    const pixel = await box.evaluate((element: unknown) => {
      const { echarts } = globalThis as unknown as {
        echarts: { getInstanceByDom(e: unknown): { convertToPixel(f: object, v: number[]): number[] } };
      };
      return echarts.getInstanceByDom(element).convertToPixel({ seriesIndex: 0 }, [0, 2012]);
    });
    const bounds = await box.boundingBox();
    if (!bounds || !pixel[0] || !pixel[1]) throw new Error('no chart box');
    await page.mouse.move(bounds.x + pixel[0], bounds.y + pixel[1]);
    const tooltip = page.locator('.trend-box div', { hasText: 'did not hold' });
    await expect.poll(() => tooltip.first().textContent(), { timeout: 5_000 }).toContain('run <1>');
    expect(await tooltip.first().textContent()).toContain('2.01 s (tolerance ≤ 500 ms)');

    const command = page.locator('#compare-command');
    expect(await command.textContent()).toBe('npm run compare -- reports/<a> reports/<b>');
    await page.locator('input[name="compare-a"][value="run <1>"]').check();
    await page.locator('input[name="compare-b"][value="run-2"]').check();
    expect(await command.textContent()).toBe("npm run compare -- 'reports/run <1>' reports/run-2");
    expect(await root('compare')).toBe('ready');
    await page.locator('input[name="compare-b"][value="run <1>"]').check();
    expect(await page.locator('#compare-note').textContent()).toContain('pick two different runs');

    expect(problems).toEqual([]);
    await page.close();
  });
});
