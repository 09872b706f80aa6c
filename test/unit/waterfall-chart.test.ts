import { describe, expect, it } from 'vitest';
import type { TraceExemplar } from '../../lab/tracing/trace-schema.ts';
import {
  ERROR_COLOUR,
  ERROR_SERIES,
  EVENT_SERIES,
  LOAD_GENERATOR_COLOUR,
  LOAD_GENERATOR_SERIES,
  MISSING_SERIES,
  SERVICE_COLOURS,
  waterfallHeight,
  waterfallOption,
  waterfallRows,
} from '../../lab/report/waterfall-chart.ts';
import {
  hexId,
  monolithCheckoutExemplar,
  partitionCheckoutExemplar,
  retryStormCheckoutExemplar,
} from '../support/fixtures/exemplars.ts';

interface Datum {
  name?: string;
  value: number | [number, number];
  itemStyle?: { color?: string; borderColor?: string; borderWidth?: number };
  tip: string;
}
interface Series {
  name: string;
  type: string;
  stack?: string;
  itemStyle?: { color?: string };
  data: (Datum | number | null)[];
}

function seriesOf(exemplar: TraceExemplar): Series[] {
  return waterfallOption(exemplar).series as unknown as Series[];
}

function series(exemplar: TraceExemplar, name: string): Series {
  const found = seriesOf(exemplar).find((s) => s.name === name);
  if (!found) throw new Error(`no series ${name}`);
  return found;
}

function labels(exemplar: TraceExemplar): string[] {
  const yAxis = waterfallOption(exemplar).yAxis as { data: (string | { value: string })[] };
  return yAxis.data.map((item) => (typeof item === 'string' ? item : item.value));
}

/** The row label without its indentation, and its depth (three no-break spaces a level). */
function row(label: string): { name: string; depth: number } {
  const indent = /^\u00a0*/.exec(label)?.[0].length ?? 0;
  return { name: label.slice(indent), depth: indent / 3 };
}

describe('waterfallRows', () => {
  it('puts the load generator first, then every span in tree order, children by start time', () => {
    const rows = waterfallRows(retryStormCheckoutExemplar()).map((r) => row(r.label));
    expect(rows).toEqual([
      { name: 'load generator: checkout', depth: 0 },
      { name: 'POST /checkout', depth: 1 },
      { name: 'scrypt hash', depth: 2 },
      { name: 'db transaction', depth: 2 },
      { name: 'charge payment', depth: 2 },
      { name: 'POST /charge (attempt 1)', depth: 3 },
      { name: 'POST /charge', depth: 4 },
      { name: 'db transaction', depth: 5 },
      { name: 'POST /charge (attempt 2)', depth: 3 },
      { name: 'POST /charge', depth: 4 },
      { name: 'db transaction', depth: 5 },
      { name: 'POST /charge (attempt 3)', depth: 3 },
      { name: 'POST /charge', depth: 4 },
      { name: 'db transaction', depth: 5 },
    ]);
  });

  it('adds a note row under a call whose callee exported no span, and none when it did', () => {
    const partition = waterfallRows(partitionCheckoutExemplar());
    const notes = partition.filter((r) => r.kind === 'missing');
    expect(notes.map((r) => row(r.label))).toEqual([{ name: 'no span from payment-service', depth: 4 }]);
    const client = partition.findIndex((r) => r.kind === 'span' && r.span.kind === 'client');
    expect(partition[client + 1]?.kind).toBe('missing');
    // The note spans the wait, so the gap is visible where the callee's bar would be.
    expect(partition[client + 1]).toMatchObject({
      startMs: partition[client]?.startMs,
      endMs: partition[client]?.endMs,
    });

    expect(waterfallRows(retryStormCheckoutExemplar()).some((r) => r.kind === 'missing')).toBe(false);
    expect(waterfallRows(monolithCheckoutExemplar()).some((r) => r.kind === 'missing')).toBe(false);
  });

  it('times every row from the send, so the load generator bar ends at its latency', () => {
    const exemplar = partitionCheckoutExemplar();
    const [request, server] = waterfallRows(exemplar);
    expect(request).toMatchObject({ startMs: 0, endMs: 5012.4 });
    expect(server?.startMs).toBeCloseTo(0.9, 3);
    expect(server?.endMs).toBeCloseTo(5011.5, 3);
  });

  it('shows every span once even when parents form a cycle or point to themselves', () => {
    const exemplar = monolithCheckoutExemplar();
    const [a, b, c] = exemplar.spans;
    if (!a || !b || !c) throw new Error('fixture changed');
    a.parentSpanId = c.spanId; // a -> c -> a: no root among them
    c.parentSpanId = a.spanId;
    b.parentSpanId = b.spanId;
    const rows = waterfallRows(exemplar).filter((r) => r.kind === 'span');
    expect(rows.map((r) => (r.kind === 'span' ? r.span.spanId : '')).sort()).toEqual(
      [a.spanId, b.spanId, c.spanId].sort(),
    );
  });
});

describe('waterfallOption', () => {
  it('is plain data: JSON round-trips it unchanged and it holds no function', () => {
    for (const exemplar of [
      partitionCheckoutExemplar(),
      retryStormCheckoutExemplar(),
      monolithCheckoutExemplar(),
    ]) {
      const option = waterfallOption(exemplar);
      expect(JSON.parse(JSON.stringify(option))).toStrictEqual(option);
      expect(
        JSON.stringify(option, (_key, value: unknown) => (typeof value === 'function' ? 'FN' : value)),
      ).not.toContain('"FN"');
    }
  });

  it('draws each row as an invisible offset stacked with one visible bar, of the right length', () => {
    const exemplar = retryStormCheckoutExemplar();
    const rows = waterfallRows(exemplar);
    const all = seriesOf(exemplar).filter((s) => s.type === 'bar');
    expect(new Set(all.map((s) => s.stack))).toEqual(new Set(['waterfall']));
    const [offsets, ...visible] = all;
    expect(offsets?.name).toBe('offset');
    rows.forEach((r, index) => {
      expect(offsets?.data[index]).toBeCloseTo(r.startMs, 1);
      const bars = visible
        .map((s) => s.data[index])
        .filter((d): d is Datum => d !== null && typeof d === 'object');
      expect(bars).toHaveLength(1);
      expect(bars[0]?.value).toBeCloseTo(r.endMs - r.startMs, 1);
    });
  });

  it('colours bars by service from a fixed palette, the load generator grey', () => {
    const exemplar = retryStormCheckoutExemplar();
    // The colour is the series' (the legend shows it); a datum may add a red outline, never a colour.
    const colourOf = (name: string) => {
      const found = series(exemplar, name);
      const data = found.data.filter((d): d is Datum => d !== null && typeof d === 'object');
      expect(data.length).toBeGreaterThan(0);
      expect(data.filter((d) => d.itemStyle?.color !== undefined)).toEqual([]);
      return found.itemStyle?.color;
    };
    expect(colourOf(LOAD_GENERATOR_SERIES)).toBe(LOAD_GENERATOR_COLOUR);
    expect(colourOf('signup-service')).toBe(SERVICE_COLOURS['signup-service']);
    expect(colourOf('payment-service')).toBe(SERVICE_COLOURS['payment-service']);
    expect(seriesOf(exemplar).map((s) => s.name)).not.toContain('monolith');
    expect(series(monolithCheckoutExemplar(), 'monolith').data.some((d) => d !== null)).toBe(true);
    const legend = waterfallOption(exemplar).legend as { data: string[] };
    expect(legend.data).toEqual([
      LOAD_GENERATOR_SERIES,
      'signup-service',
      'payment-service',
      EVENT_SERIES,
      ERROR_SERIES,
    ]);
  });

  it('outlines failed spans in red and marks each with its cause as the label', () => {
    const exemplar = partitionCheckoutExemplar();
    const rows = waterfallRows(exemplar);
    const signup = series(exemplar, 'signup-service').data;
    rows.forEach((r, index) => {
      if (r.kind !== 'span') return;
      const datum = signup[index] as Datum;
      if (r.span.status === 'error')
        expect(datum.itemStyle).toMatchObject({ borderColor: ERROR_COLOUR, borderWidth: 2 });
      else expect(datum.itemStyle?.borderColor).toBeUndefined();
    });
    const errors = series(exemplar, ERROR_SERIES).data as Datum[];
    // The load generator's failure, then POST /checkout, charge payment and POST /charge.
    expect(errors.map((e) => e.name)).toEqual(['deadline', 'deadline', 'deadline', 'deadline']);
    expect(errors.map((e) => (e.value as [number, number])[1])).toEqual([0, 1, 4, 5]);
    expect(errors[3]?.tip).toContain(
      'POST /charge (attempt 1)</b><br><span style="color: #b3261e">failed: deadline',
    );
    expect((errors[3]?.value as [number, number])[0]).toBeCloseTo(54.9 + 4955.3, 1);
    expect(labels(exemplar)[6]).toContain('no span from payment-service');
    expect(series(exemplar, MISSING_SERIES).data[6]).toMatchObject({
      tip: expect.stringContaining('payment-service exported no span'),
    });
  });

  it('puts span events on their bar, at their time, with their name and attributes in the tooltip', () => {
    const exemplar = retryStormCheckoutExemplar();
    const events = series(exemplar, EVENT_SERIES).data as Datum[];
    const chargeRow = labels(exemplar).findIndex((label) => label.endsWith('charge payment'));
    expect(events.map((e) => e.value)).toEqual([
      [461.2, chargeRow],
      [1064.5, chargeRow],
    ]);
    expect(events[0]?.tip).toContain('<b>retry</b> at +461 ms');
    expect(events[0]?.tip).toContain('<br>delay_ms: 100');
    expect(events[1]?.tip).toContain('<br>attempt: 3');
  });

  it('escapes every text a tooltip shows: the tooltip renders HTML', () => {
    const exemplar = monolithCheckoutExemplar();
    const [span] = exemplar.spans;
    if (!span) throw new Error('fixture changed');
    span.name = '<img src=x onerror=alert(1)>';
    span.attributes['x<b>'] = '"</script>';
    span.events.push({ name: '<script>alert(2)</script>', atMs: span.startMs + 1, attributes: {} });
    const tips = seriesOf(exemplar)
      .flatMap((s) => s.data)
      .map((d) => (d !== null && typeof d === 'object' ? d.tip : ''));
    const text = tips.join('\n');
    expect(text).not.toMatch(/<img|<script|x<b>|"<\/script>/);
    expect(text).toContain('x&lt;b&gt;: &quot;&lt;/script&gt;');
    expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(text).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
  });

  it('aligns every row label left, styled ones too, so the indentation shows the tree', () => {
    const yAxis = waterfallOption(partitionCheckoutExemplar()).yAxis as {
      axisLabel: { align: string };
      data: (string | { textStyle: { align: string } })[];
    };
    expect(yAxis.axisLabel.align).toBe('left');
    const styled = yAxis.data.filter((item) => typeof item === 'object');
    expect(styled).toHaveLength(4);
    for (const item of styled) expect(item.textStyle.align).toBe('left');
  });

  it('keeps a span that starts before the send on the axis', () => {
    const exemplar = monolithCheckoutExemplar();
    const [span] = exemplar.spans;
    if (!span) throw new Error('fixture changed');
    span.startMs = exemplar.sentAtMs - 2.4;
    expect((waterfallOption(exemplar).xAxis as { min: number }).min).toBe(-3);
    expect((waterfallOption(monolithCheckoutExemplar()).xAxis as { min: number }).min).toBe(0);
  });

  it('names a callee from url.full when server.address is missing', () => {
    const exemplar = partitionCheckoutExemplar();
    const client = exemplar.spans.find((s) => s.kind === 'client');
    if (!client) throw new Error('fixture changed');
    delete client.attributes['server.address'];
    client.attributes['url.full'] = 'http://ledger.internal:9000/charge';
    expect(labels(exemplar).some((label) => label.endsWith('no span from ledger.internal'))).toBe(true);
  });

  it('grows with its rows, so every row keeps its height', () => {
    expect(waterfallHeight(14) - waterfallHeight(4)).toBe(10 * 24);
    expect(hexId(0x105, 16)).toBe('0000000000000105');
  });
});
