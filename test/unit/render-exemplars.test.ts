import { describe, expect, it } from 'vitest';
import type { DeploymentResult } from '../../lab/results.ts';
import {
  exemplarAnchor,
  renderExemplarsSection,
  WATERFALLS_SCRIPT_CLASS,
  type WaterfallSpec,
} from '../../lab/report/render-exemplars.ts';
import { waterfallOption } from '../../lab/report/waterfall-chart.ts';
import type { TraceExemplar } from '../../lab/tracing/trace-schema.ts';
import {
  manyExemplars,
  monolithCheckoutExemplar,
  partitionCheckoutExemplar,
  retryStormCheckoutExemplar,
} from '../support/fixtures/exemplars.ts';
import { makeReportResults } from './fixtures/report-results.ts';

function deployment(name: 'monolith' | 'split', exemplars?: TraceExemplar[]): DeploymentResult {
  const found = makeReportResults().deployments.find((d) => d.deployment === name);
  if (!found) throw new Error(`no ${name} in the report fixture`);
  return exemplars === undefined ? found : { ...found, exemplars };
}

function flat(text: string): string {
  return text.replace(/\s+/g, ' ');
}

function specsOf(section: string): WaterfallSpec[] {
  const match = new RegExp(
    `<script type="application/json" class="${WATERFALLS_SCRIPT_CLASS}">([\\s\\S]*?)</script>`,
  ).exec(section);
  if (!match?.[1]) throw new Error('no waterfall specs');
  return JSON.parse(match[1]) as WaterfallSpec[];
}

/** The text of each log row's cells, tags stripped. */
function logRows(section: string): string[][] {
  return [...section.matchAll(/<table class="compact exemplar-logs">([\s\S]*?)<\/table>/g)].flatMap((table) =>
    [...(table[1] ?? '').matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
      .map((rowMatch) =>
        [...(rowMatch[1] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) =>
          flat((cell[1] ?? '').replace(/<[^>]+>/g, '')).trim(),
        ),
      )
      .filter((cells) => cells.length > 0),
  );
}

describe('exemplarAnchor', () => {
  it('makes a valid id for any name, and different names never share one', () => {
    const names = ['split/retry', 'split-retry', 'split_retry', 'split retry', 'splitretry', 'spl-it/retry'];
    const anchors = names.map((name) => exemplarAnchor(name, 'checkout', 'slow-payments'));
    for (const anchor of anchors) expect(anchor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(new Set(anchors).size).toBe(names.length);
    expect(exemplarAnchor('split/retry', 'checkout', 'partition')).toBe(
      'exemplars-split_2f_retry-checkout-partition',
    );
    // The parts cannot run into each other: `a-b` + `c` is not `a` + `b-c`.
    expect(exemplarAnchor('split', 'a-b', 'c')).not.toBe(exemplarAnchor('split', 'a', 'b-c'));
  });
});

describe('renderExemplarsSection', () => {
  const partition = partitionCheckoutExemplar();
  const storm = retryStormCheckoutExemplar();
  const section = renderExemplarsSection(deployment('split', [storm, partition])).text;

  it('groups the cards by route and phase under the anchors the phase tables link to', () => {
    for (const exemplar of [partition, storm]) {
      expect(section).toContain(`id="${exemplarAnchor('split', exemplar.route, exemplar.phase)}"`);
    }
    // Phases in timeline order: the fixture's partition before a phase the tables do not list.
    expect(section.indexOf(exemplarAnchor('split', 'checkout', 'partition'))).toBeLessThan(
      section.indexOf(exemplarAnchor('split', 'checkout', 'slow-payments')),
    );
    expect(section).toContain('id="exemplars-split"');
  });

  it('says on each card what it is, what the load generator measured, and the trace id', () => {
    const text = flat(section);
    expect(text).toContain('<strong class="exemplar-kind">failure: deadline</strong>');
    expect(text).toContain('load generator: <strong>5.01 s</strong>, HTTP 503');
    expect(text).toContain(`trace <code class="trace-id">${partition.traceId}</code>`);
    expect(text).toContain('<strong class="exemplar-kind">slowest success</strong>');
    expect(text).toContain('load generator: <strong>1.46 s</strong>, HTTP 200');
    expect(text).toContain('13 spans from signup-service, payment-service');
    expect(text).toMatch(/class="exemplar failed" id="[^"]+" data-trace-id="0+a11ce"/);
  });

  it('ships one waterfall per card, each with its element, sized to its rows', () => {
    const specs = specsOf(section);
    expect(specs).toHaveLength(2);
    for (const spec of specs) expect(section).toContain(`id="${spec.id}"`);
    const byTrace = (traceId: string) =>
      specs.find(
        (spec) => section.indexOf(`id="${spec.id}"`) > section.indexOf(`data-trace-id="${traceId}"`),
      );
    expect(byTrace(partition.traceId)?.option).toStrictEqual(
      JSON.parse(JSON.stringify(waterfallOption(partition))),
    );
    // 7 rows: load generator, 5 spans and the note about payment-service.
    expect(section).toContain('style="height: 240px"');
  });

  it("merges the trace's log lines by time, from the send, with the span each was written in", () => {
    const rows = logRows(section);
    expect(rows).toEqual([
      ['+5.01 s', 'signup-service', 'charge_failed', 'POST /charge (attempt 1)', 'cause=deadline attempt=1'],
      [
        '+5.01 s',
        'signup-service',
        'checkout_failed',
        'POST /checkout',
        'cause=deadline status=503 user=created, payment missing',
      ],
      [
        '+461 ms',
        'payment-service',
        'charge_failed',
        'POST /charge',
        'cause=database message=timeout exceeded when trying to connect',
      ],
      [
        '+461 ms',
        'signup-service',
        'retry',
        'charge payment',
        'attempt=2 delay_ms=100 after=upstream_status',
      ],
      [
        '+1.06 s',
        'payment-service',
        'charge_failed',
        'POST /charge',
        'cause=database message=timeout exceeded when trying to connect',
      ],
      [
        '+1.06 s',
        'signup-service',
        'retry',
        'charge payment',
        'attempt=3 delay_ms=200 after=upstream_status',
      ],
    ]);
  });

  it('orders log lines by time even when the file does not, and shows levels and unknown spans', () => {
    const exemplar = partitionCheckoutExemplar();
    const [first, second] = exemplar.logs;
    if (!first || !second) throw new Error('fixture changed');
    second.line.level = 'warn';
    second.line.span_id = 'ffffffffffffffff';
    exemplar.logs = [second, first];
    const rows = logRows(renderExemplarsSection(deployment('split', [exemplar])).text);
    expect(rows.map((r) => r.slice(2, 4))).toEqual([
      ['charge_failed', 'POST /charge (attempt 1)'],
      ['warn checkout_failed', 'ffffffffffffffff'],
    ]);
  });

  it('escapes everything a log line or a span brings', () => {
    const exemplar = partitionCheckoutExemplar();
    const [log] = exemplar.logs;
    if (!log) throw new Error('fixture changed');
    log.line.event = '<script>alert(1)</script>';
    log.line['<b>'] = '"><img src=x onerror=alert(2)>';
    exemplar.phase = '"><svg onload=alert(3)>';
    exemplar.cause = '<i>deadline</i>';
    const text = renderExemplarsSection(deployment('split', [exemplar])).text;
    expect(text).not.toMatch(/<script>alert|<img|<svg|<i>|<b>=/);
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(text).toContain('failure: &lt;i&gt;deadline&lt;/i&gt;');
  });

  it('says when a request has no log line, and when a deployment has no traced request', () => {
    const monolith = renderExemplarsSection(deployment('monolith', [monolithCheckoutExemplar()])).text;
    expect(flat(monolith)).toContain('No service wrote a log line for this request.');
    expect(flat(monolith)).toContain('<strong class="exemplar-kind">median success</strong>');
    expect(flat(monolith)).toContain('HTTP 201');

    for (const empty of [deployment('monolith'), deployment('monolith', [])]) {
      const text = flat(renderExemplarsSection(empty).text);
      expect(text).toContain('No traced requests for monolith');
      expect(text).not.toContain('<script');
    }
  });

  it('shows at most 60 log lines of one request and says how many it left out', () => {
    const exemplar = partitionCheckoutExemplar();
    const [template] = exemplar.logs;
    if (!template) throw new Error('fixture changed');
    exemplar.logs = Array.from({ length: 75 }, (_, index) => ({
      ...template,
      atMs: template.atMs + index,
      line: { ...template.line, event: `line_${index}` },
    }));
    const text = renderExemplarsSection(deployment('split', [exemplar])).text;
    expect(logRows(text)).toHaveLength(60);
    expect(flat(text)).toContain('15 more log lines not shown');
  });

  it('stays light: 40 exemplars add well under a megabyte', () => {
    const bytes = Buffer.byteLength(renderExemplarsSection(deployment('split', manyExemplars(40))).text);
    expect(bytes).toBeLessThan(400_000);
  });
});
