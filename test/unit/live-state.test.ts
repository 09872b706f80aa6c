import { describe, expect, it } from 'vitest';
import { renderTopologyDiagram } from '../../lab/diagram/topology-diagram.ts';
import type { RunEvent, RunStarted, SecondTally } from '../../lab/live/run-events.ts';
import {
  activeFaults,
  currentColumn,
  FAULTS_KEPT,
  INITIAL_LIVE_STATE,
  liveSnapshot,
  reduceLiveState,
  SECONDS_KEPT,
  type LiveState,
} from '../../lab/live/live-state.ts';
import { CAUSE_COLOURS, outcomeColours, SUCCESS_COLOUR } from '../../lab/report/charts.ts';
import { crash, latency, partition } from '../../lab/vocabulary/faults.ts';
import { makeReportResults } from './fixtures/report-results.ts';

const ROUTE_URLS = { signup: 'http://127.0.0.1:1/signup', pay: 'http://127.0.0.1:1/pay', checkout: 'x' };

const RUN_STARTED: RunStarted = {
  type: 'run-started',
  scenario: { name: 'partition', title: 'Partition', claim: 'Networks fail.' },
  runtime: 'local',
  phases: [
    { name: 'baseline', startS: 0, endS: 3 },
    { name: 'partition', startS: 3, endS: 11, story: 'The link drops every byte.' },
    { name: 'recovery', startS: 11, endS: 15 },
  ],
  faults: [
    {
      fault: 'partition',
      link: 'payment-api',
      description: 'partition payment-api',
      startS: 3,
      endS: 11,
      deployments: ['split'],
    },
  ],
  variants: [
    { label: 'monolith', deployment: 'monolith' },
    { label: 'split', deployment: 'split' },
  ],
  durationS: 15,
};

function second(
  label: string,
  t: number,
  checkout: Partial<SecondTally['routes'][number]> = {},
): SecondTally {
  return {
    type: 'second',
    label,
    t,
    routes: [
      { route: 'signup', ok: 4, failures: {}, latencyMs: { p50: 30, p90: 40, p99: 50 } },
      { route: 'pay', ok: 20, failures: {}, latencyMs: { p50: 3, p90: 4, p99: 5 } },
      { route: 'checkout', ok: 8, failures: {}, latencyMs: { p50: 40, p90: 50, p99: 60 }, ...checkout },
    ],
    services: [
      { service: 'signup-service', requestsInFlight: 2, outboundInFlight: t, circuitState: 'closed' },
      { service: 'payment-service', requestsInFlight: 1, outboundInFlight: null, circuitState: null },
    ],
  };
}

const fold = (events: RunEvent[], from: LiveState = INITIAL_LIVE_STATE): LiveState =>
  events.reduce(reduceLiveState, from);

const column = (state: LiveState, label: string) => {
  const found = state.columns.find((c) => c.label === label);
  if (!found) throw new Error(`no column ${label}`);
  return found;
};

const route = (state: LiveState, label: string, name: string) => {
  const found = column(state, label).routes.find((r) => r.route === name);
  if (!found) throw new Error(`no route ${name} in ${label}`);
  return found;
};

/** The partition run of split up to the middle of its partition. */
const DURING_PARTITION: RunEvent[] = [
  RUN_STARTED,
  { type: 'deployment-started', label: 'monolith', deployment: 'monolith', routeUrls: ROUTE_URLS },
  { type: 'phase-started', label: 'monolith', phase: 'baseline', startS: 0, endS: 3 },
  second('monolith', 1),
  { type: 'deployment-finished', label: 'monolith' },
  { type: 'deployment-started', label: 'split', deployment: 'split', routeUrls: ROUTE_URLS },
  { type: 'phase-started', label: 'split', phase: 'baseline', startS: 0, endS: 3 },
  second('split', 1),
  second('split', 2),
  { type: 'phase-started', label: 'split', phase: 'partition', startS: 3, endS: 11 },
  {
    type: 'fault-applied',
    label: 'split',
    id: 'split@partition#0',
    fault: partition('payment-api'),
    description: 'partition payment-api',
    source: 'timeline',
    atS: 3.02,
  },
  second('split', 3),
  second('split', 8.5, { ok: 0, failures: { deadline: 6, reset: 1 }, latencyMs: null }),
];

describe('reduceLiveState', () => {
  it('starts a run with its timeline, fault plan and every column pending', () => {
    const state = fold([RUN_STARTED]);
    expect(state.run).toMatchObject({ runtime: 'local', durationS: 15, batch: null });
    expect(state.run?.phases.map((p) => p.name)).toEqual(['baseline', 'partition', 'recovery']);
    expect(state.run?.faults).toHaveLength(1);
    expect(state.columns.map((c) => [c.label, c.status])).toEqual([
      ['monolith', 'pending'],
      ['split', 'pending'],
    ]);
    expect(state.current).toBeNull();
    expect(currentColumn(state)?.label).toBe('monolith');
  });

  it('follows the running column, its phase and time, and marks the columns done in turn', () => {
    const state = fold(DURING_PARTITION);
    expect(state.columns.map((c) => [c.label, c.status])).toEqual([
      ['monolith', 'done'],
      ['split', 'running'],
    ]);
    expect(state.current).toBe('split');
    expect(column(state, 'split')).toMatchObject({
      phase: { name: 'partition', startS: 3, endS: 11 },
      t: 8.5,
      routeUrls: ROUTE_URLS,
    });
    expect(state.version).toBe(DURING_PARTITION.length);
  });

  it('keeps each fault in effect with its source and description until it is undone', () => {
    const during = fold(DURING_PARTITION);
    const [fault] = activeFaults(column(during, 'split'));
    expect(fault).toMatchObject({
      id: 'split@partition#0',
      source: 'timeline',
      phase: 'partition',
      target: 'payment-api',
      description: 'partition payment-api',
      fromS: 3.02,
      untilS: null,
    });
    const healed = fold(
      [{ type: 'fault-undone', label: 'split', id: 'split@partition#0', atS: 11.01 }],
      during,
    );
    expect(activeFaults(column(healed, 'split'))).toEqual([]);
    expect(column(healed, 'split').faults).toMatchObject([{ fromS: 3.02, untilS: 11.01 }]);
  });

  it('counts per route per second and in total, with failures by cause and percentiles', () => {
    const state = fold(DURING_PARTITION);
    const checkout = route(state, 'split', 'checkout');
    expect(checkout.seconds.map((s) => s.t)).toEqual([1, 2, 3, 8.5]);
    expect(checkout.seconds.at(-1)).toEqual({
      t: 8.5,
      ok: 0,
      failures: { deadline: 6, reset: 1 },
      latencyMs: null,
    });
    expect(checkout.totals).toEqual({ ok: 24, failures: { deadline: 6, reset: 1 } });
    expect(route(state, 'split', 'pay').seconds.at(-1)?.latencyMs).toEqual({ p50: 3, p90: 4, p99: 5 });
    // The monolith's figures are its own.
    expect(route(state, 'monolith', 'checkout').totals).toEqual({ ok: 8, failures: {} });
    expect(state.causes).toEqual(['deadline', 'reset']);
  });

  it('keeps the latest in-flight figures and circuit state per service, with their recent history', () => {
    const state = fold(DURING_PARTITION);
    expect(column(state, 'split').services).toMatchObject([
      { service: 'signup-service', requestsInFlight: 2, outboundInFlight: 8.5, circuitState: 'closed' },
      { service: 'payment-service', requestsInFlight: 1, outboundInFlight: null, circuitState: null },
    ]);
    expect(column(state, 'split').services[0]?.history.map((s) => s.outboundInFlight)).toEqual([
      1, 2, 3, 8.5,
    ]);
  });

  it('keeps only the last 300 seconds of per-second figures, but every outcome in the totals', () => {
    const events: RunEvent[] = [
      { ...RUN_STARTED, phases: [], faults: [], durationS: null },
      { type: 'deployment-started', label: 'split', deployment: 'split', routeUrls: ROUTE_URLS },
    ];
    for (let t = 1; t <= SECONDS_KEPT + 50; t += 1) events.push(second('split', t));
    const state = fold(events);
    const checkout = route(state, 'split', 'checkout');
    expect(checkout.seconds).toHaveLength(SECONDS_KEPT);
    expect(checkout.seconds[0]?.t).toBe(51);
    expect(checkout.totals.ok).toBe(8 * (SECONDS_KEPT + 50));
    expect(column(state, 'split').services[0]?.history).toHaveLength(SECONDS_KEPT);
  });

  it('works for the interactive lab: no timeline, no duration, faults applied and undone by hand', () => {
    const state = fold([
      {
        type: 'run-started',
        scenario: { name: 'lab up', title: 'Interactive lab', claim: '' },
        runtime: 'local',
        phases: [],
        faults: [],
        variants: [{ label: 'split', deployment: 'split' }],
        durationS: null,
      },
      { type: 'deployment-started', label: 'split', deployment: 'split', routeUrls: ROUTE_URLS },
      second('split', 1),
      {
        type: 'fault-applied',
        label: 'split',
        id: 'hand-1',
        fault: latency('payment-api', { ms: 200 }),
        description: '+200 ms on payment-api',
        source: 'hand',
        atS: 1.5,
      },
      {
        type: 'fault-applied',
        label: 'split',
        id: 'hand-2',
        fault: crash('payment-service'),
        description: 'crash payment-service',
        source: 'hand',
        atS: 2,
      },
      { type: 'fault-undone', label: 'split', id: 'hand-1', atS: 4 },
    ]);
    expect(state.run).toMatchObject({ phases: [], durationS: null });
    const split = column(state, 'split');
    expect(split).toMatchObject({ status: 'running', phase: null, t: 4 });
    expect(activeFaults(split)).toMatchObject([
      { id: 'hand-2', source: 'hand', phase: null, target: 'payment-service' },
    ]);
    expect(split.faults[0]).toMatchObject({ id: 'hand-1', untilS: 4 });
  });

  it('bounds the faults it remembers, keeping the latest', () => {
    const events: RunEvent[] = [
      RUN_STARTED,
      { type: 'deployment-started', label: 'split', deployment: 'split', routeUrls: ROUTE_URLS },
    ];
    for (let index = 0; index < FAULTS_KEPT + 10; index += 1) {
      events.push({
        type: 'fault-applied',
        label: 'split',
        id: `hand-${index}`,
        fault: partition('payment-api'),
        description: 'partition',
        source: 'hand',
        atS: index,
      });
      events.push({ type: 'fault-undone', label: 'split', id: `hand-${index}`, atS: index + 0.5 });
    }
    const faults = column(fold(events), 'split').faults;
    expect(faults).toHaveLength(FAULTS_KEPT);
    expect(faults.at(-1)?.id).toBe(`hand-${FAULTS_KEPT + 9}`);
  });

  it('ends with the verdict and the report; an interrupted run ends its running column and its faults', () => {
    const done = fold(
      [{ type: 'run-finished', verdict: 'held', reportPath: '/tmp/reports/run-1/index.html' }],
      fold(DURING_PARTITION),
    );
    expect(done.finished).toEqual({
      verdict: 'held',
      reportPath: '/tmp/reports/run-1/index.html',
      error: null,
    });
    expect(column(done, 'split').status).toBe('done');
    expect(activeFaults(column(done, 'split'))).toEqual([]);

    const interrupted = fold(
      [{ type: 'run-finished', verdict: null, error: 'interrupted' }],
      fold([RUN_STARTED]),
    );
    expect(interrupted.finished).toEqual({ verdict: null, reportPath: null, error: 'interrupted' });
    expect(interrupted.columns.map((c) => c.status)).toEqual(['pending', 'pending']);
  });

  it('starts afresh on the next run of a batch', () => {
    const next = fold(
      [{ ...RUN_STARTED, batch: { index: 1, count: 3, remainingTimelineS: 30 } }],
      fold([...DURING_PARTITION, { type: 'run-finished', verdict: 'failed', reportPath: '/r/index.html' }]),
    );
    expect(next.finished).toBeNull();
    expect(next.causes).toEqual([]);
    expect(next.columns.every((c) => c.status === 'pending' && c.routes.length === 0)).toBe(true);
    expect(next.run?.batch).toEqual({ index: 1, count: 3, remainingTimelineS: 30 });
  });

  it('ignores figures of a column it was never told about, and never mutates the state it is given', () => {
    const before = fold(DURING_PARTITION);
    const frozen = JSON.stringify(before);
    const after = fold([second('split/none', 1)], before);
    expect(after.columns).toEqual(before.columns);
    expect(JSON.stringify(before)).toBe(frozen);
  });
});

describe('liveSnapshot', () => {
  it("draws the running column's diagram with its faults in effect, and nothing once they are undone", () => {
    const during = liveSnapshot(fold(DURING_PARTITION), renderTopologyDiagram);
    expect(during.topology).toMatchObject({ label: 'split', deployment: 'split' });
    expect(during.topology?.svg).toMatch(/<svg[^>]*>/);
    expect(during.topology?.svg).toMatch(/data-link="payment-api"[^>]*data-fault="partition"/);
    const healed = liveSnapshot(
      fold([...DURING_PARTITION, { type: 'fault-undone', label: 'split', id: 'split@partition#0', atS: 11 }]),
      renderTopologyDiagram,
    );
    expect(healed.topology?.svg).not.toContain('data-fault=');
  });

  it('colours each cause as every report does, and an unknown cause keeps the colour it first got', () => {
    const state = fold(DURING_PARTITION);
    const snapshot = liveSnapshot(state, () => '');
    // The same colour as in any report that has these causes.
    const report = outcomeColours(makeReportResults());
    expect(snapshot.colours).toEqual({
      success: SUCCESS_COLOUR,
      deadline: CAUSE_COLOURS.deadline,
      reset: CAUSE_COLOURS.reset,
    });
    for (const cause of ['deadline', 'reset'])
      if (report[cause]) expect(report[cause]).toBe(snapshot.colours[cause]);
    // Causes outside the table: spare colours, none taken away by a later, more frequent one.
    const odd = liveSnapshot(fold([second('split', 9, { failures: { http_418: 1 } })], state), () => '');
    const later = liveSnapshot(
      fold(
        [second('split', 10, { failures: { http_500: 100 } })],
        fold([second('split', 9, { failures: { http_418: 1 } })], state),
      ),
      () => '',
    );
    expect(later.colours.http_418).toBe(odd.colours.http_418);
    expect(later.colours.http_500).not.toBe(later.colours.http_418);
    expect(Object.values(CAUSE_COLOURS)).not.toContain(later.colours.http_500);
  });

  it('links the report by its address on the live server, never by its path on disk', () => {
    const state = fold(
      [{ type: 'run-finished', verdict: 'failed', reportPath: '/home/me/reports/r1/index.html' }],
      fold([RUN_STARTED]),
    );
    const snapshot = liveSnapshot(state, () => '');
    expect(snapshot.finished).toEqual({ verdict: 'failed', reportHref: '/report/index.html', error: null });
    expect(JSON.stringify(snapshot)).not.toContain('/home/me');
  });

  it('is plain JSON: what the server sends is what the page reads', () => {
    const snapshot = liveSnapshot(fold(DURING_PARTITION), renderTopologyDiagram);
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
  });
});
