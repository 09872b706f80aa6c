/**
 * The traced-request sections in a real browser: a page with a partitioned split checkout, a retry
 * storm's checkout, a monolith checkout and 40 more exemplars. Waterfalls draw without an error as they
 * come into view, their bars and markers are on the canvas, the anchors exist and the log lines show.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { html } from '../../lab/report/html.ts';
import { page as reportPage } from '../../lab/report/markup.ts';
import { exemplarAnchor, renderExemplarsSection } from '../../lab/report/render-exemplars.ts';
import { chartPageScripts, RESULTS_SCRIPT_ID } from '../../lab/report/render-run.ts';
import { ERROR_COLOUR, SERVICE_COLOURS } from '../../lab/report/waterfall-chart.ts';
import type { DeploymentResult } from '../../lab/results.ts';
import type { TraceExemplar } from '../../lab/tracing/trace-schema.ts';
import {
  manyExemplars,
  monolithCheckoutExemplar,
  partitionCheckoutExemplar,
  retryStormCheckoutExemplar,
} from '../support/fixtures/exemplars.ts';
import { makeReportResults } from '../unit/fixtures/report-results.ts';

const partition = partitionCheckoutExemplar();
const storm = retryStormCheckoutExemplar();
const monolithCheckout = monolithCheckoutExemplar();
const many = manyExemplars(40);

function deployment(base: 'monolith' | 'split', name: string, exemplars: TraceExemplar[]): DeploymentResult {
  const found = makeReportResults().deployments.find((d) => d.deployment === base);
  if (!found) throw new Error(`no ${base} in the report fixture`);
  return { ...found, deployment: name, exemplars };
}

const DEPLOYMENTS = [
  deployment('monolith', 'monolith', [monolithCheckout]),
  deployment('split', 'split', [partition]),
  deployment('split', 'split/retry', [storm]),
  deployment('split', 'split/many', many),
];
const TOTAL = 3 + many.length;

let dir = '';
let url = '';
let browser: Browser | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'splitlab-exemplars-'));
  const body = html`<main>${DEPLOYMENTS.map((d) => renderExemplarsSection(d))}</main>
    ${chartPageScripts(RESULTS_SCRIPT_ID, { fixture: 'exemplars' }, [])}`;
  const file = path.join(dir, 'index.html');
  await writeFile(file, reportPage({ title: 'traced requests', body, scripts: true }));
  url = pathToFileURL(file).href;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function openPage(): Promise<{ page: Page; problems: string[] }> {
  if (!browser) throw new Error('no browser');
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  return { page, problems };
}

const rootData = (page: Page, name: string) => page.locator('html').getAttribute(`data-${name}`);

/** Pixels of the canvas in `selector` within a small distance of each colour, by colour. */
async function colourPixels(page: Page, selector: string, colours: string[]): Promise<number[]> {
  return page.locator(`${selector} canvas`).evaluate((element: unknown, wanted: string[]) => {
    const canvas = element as {
      width: number;
      height: number;
      getContext(kind: '2d'): {
        getImageData(x: number, y: number, w: number, h: number): { data: number[] };
      };
    };
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const targets = wanted.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
    const counts = targets.map(() => 0);
    for (let i = 0; i < data.length; i += 4) {
      targets.forEach((target, index) => {
        const near = target.every((value, channel) => Math.abs((data[i + channel] ?? 0) - value) <= 6);
        if (near && (data[i + 3] ?? 0) > 200) counts[index] = (counts[index] ?? 0) + 1;
      });
    }
    return counts;
  }, colours);
}

describe('traced requests in a browser', () => {
  it('draws each waterfall as it comes into view, with no error', async () => {
    const { page, problems } = await openPage();
    await page.goto(url);
    expect(await rootData(page, 'waterfalls-total')).toBe(String(TOTAL));
    // Lazy: the cards far below the first screen are not drawn yet.
    await expect.poll(() => rootData(page, 'waterfalls-drawn'), { timeout: 10_000 }).not.toBe('0');
    expect(Number(await rootData(page, 'waterfalls-drawn'))).toBeLessThan(TOTAL / 2);

    const boxes = page.locator('.waterfall-box');
    expect(await boxes.count()).toBe(TOTAL);
    for (let index = 0; index < TOTAL; index += 1) await boxes.nth(index).scrollIntoViewIfNeeded();
    await expect.poll(() => rootData(page, 'waterfalls-drawn'), { timeout: 20_000 }).toBe(String(TOTAL));
    expect(await page.locator('.waterfall-box canvas').count()).toBe(TOTAL);
    expect(await page.locator('.chart-problem').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('paints the bars in their service colours and the failures in red', async () => {
    const { page, problems } = await openPage();
    await page.goto(url);
    const card = (exemplar: TraceExemplar) => `[data-trace-id="${exemplar.traceId}"] .waterfall-box`;
    const colours = [
      SERVICE_COLOURS['signup-service'],
      SERVICE_COLOURS['payment-service'],
      SERVICE_COLOURS.monolith,
      ERROR_COLOUR,
    ];
    const pixels = async (exemplar: TraceExemplar) => {
      await page.locator(card(exemplar)).scrollIntoViewIfNeeded();
      await expect.poll(() => page.locator(`${card(exemplar)} canvas`).count(), { timeout: 10_000 }).toBe(1);
      return colourPixels(
        page,
        card(exemplar),
        colours.map((c) => c ?? '#000000'),
      );
    };
    // [signup-service, payment-service, monolith, error red]; a 12 px bar of 5 s is thousands of pixels.
    const [signupP, paymentP, monolithP, redP] = await pixels(partition);
    expect(signupP).toBeGreaterThan(1000);
    expect(paymentP).toBe(0);
    expect(monolithP).toBe(0);
    expect(redP).toBeGreaterThan(200);
    const [signupS, paymentS, monolithS] = await pixels(storm);
    expect(signupS).toBeGreaterThan(1000);
    expect(paymentS).toBeGreaterThan(500);
    expect(monolithS).toBe(0);
    const [signupM, paymentM, monolithM, redM] = await pixels(monolithCheckout);
    expect([signupM, paymentM, redM]).toEqual([0, 0, 0]);
    expect(monolithM).toBeGreaterThan(500);

    // The partitioned call has its note row; the retry storm has one row per attempt and server span.
    const rowLabels = (exemplar: TraceExemplar) =>
      page.locator(card(exemplar)).evaluate((element: unknown) => {
        const { echarts } = globalThis as unknown as {
          echarts: { getInstanceByDom(e: unknown): { getOption(): { yAxis: { data: unknown[] }[] } } };
        };
        return echarts
          .getInstanceByDom(element)
          .getOption()
          .yAxis[0]?.data.map((item) =>
            String(
              typeof item === 'object' && item !== null ? (item as { value: string }).value : item,
            ).trim(),
          );
      });
    const partitionRows = await rowLabels(partition);
    expect(partitionRows).toHaveLength(7);
    expect(partitionRows?.[6]).toBe('no span from payment-service');
    const stormRows = await rowLabels(storm);
    expect(stormRows?.filter((label) => label === 'POST /charge')).toHaveLength(3);
    expect(stormRows?.filter((label) => /^POST \/charge \(attempt \d\)$/.test(label))).toHaveLength(3);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows a span event's name and attributes when the pointer is on its marker", async () => {
    const { page, problems } = await openPage();
    await page.goto(url);
    const box = page.locator(`[data-trace-id="${storm.traceId}"] .waterfall-box`);
    await box.scrollIntoViewIfNeeded();
    await expect.poll(() => box.locator('canvas').count(), { timeout: 10_000 }).toBe(1);
    const pixel = await box.evaluate((element: unknown) => {
      const { echarts } = globalThis as unknown as {
        echarts: { getInstanceByDom(e: unknown): { convertToPixel(f: object, v: number[]): number[] } };
      };
      // The first retry event: 461.2 ms on the `charge payment` row (row 4).
      return echarts.getInstanceByDom(element).convertToPixel({ gridIndex: 0 }, [461.2, 4]);
    });
    const bounds = await box.boundingBox();
    if (!bounds || pixel[0] === undefined || pixel[1] === undefined) throw new Error('no chart box');
    await page.mouse.move(bounds.x + pixel[0], bounds.y + pixel[1]);
    const tooltip = box.locator('div', { hasText: 'delay_ms' });
    await expect.poll(() => tooltip.first().textContent(), { timeout: 5_000 }).toContain('retry at +461 ms');
    expect(await tooltip.first().textContent()).toContain('charge payment · signup-service');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('opens at an anchor the phase tables link to, and shows the log lines there', async () => {
    const { page, problems } = await openPage();
    const anchor = exemplarAnchor('split/retry', storm.route, storm.phase);
    await page.goto(`${url}#${anchor}`);
    const group = page.locator(`[id="${anchor}"]`);
    expect(await group.count()).toBe(1);
    await expect.poll(async () => (await group.boundingBox())?.y ?? -1, { timeout: 5_000 }).toBeLessThan(100);
    // The waterfall at the anchor draws without any scrolling.
    await expect.poll(() => group.locator('.waterfall-box canvas').count(), { timeout: 10_000 }).toBe(1);

    const logs = group.locator('.exemplar-logs tbody tr');
    expect(await logs.count()).toBe(4);
    expect(await logs.first().isVisible()).toBe(true);
    expect((await logs.nth(1).innerText()).replace(/\s+/g, ' ')).toContain(
      '+461 ms signup-service retry charge payment attempt=2 delay_ms=100 after=upstream_status',
    );

    for (const [name, exemplar] of [
      ['monolith', monolithCheckout],
      ['split', partition],
    ] as const) {
      expect(
        await page.locator(`[id="${exemplarAnchor(name, exemplar.route, exemplar.phase)}"]`).count(),
      ).toBe(1);
    }
    const partitionLogs = page.locator(`[data-trace-id="${partition.traceId}"] .exemplar-logs tbody tr`);
    expect(await partitionLogs.count()).toBe(2);
    expect(await partitionLogs.nth(1).innerText()).toContain('checkout_failed');
    expect(await page.locator(`[data-trace-id="${monolithCheckout.traceId}"]`).innerText()).toContain(
      'No service wrote a log line for this request.',
    );
    expect(problems).toEqual([]);
    await page.close();
  });
});
