import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  applyRunEvent,
  clearBlock,
  createProgress,
  fitToWidth,
  formatClock,
  initialProgressState,
  overheadEstimateS,
  remainingS,
  renderProgressLines,
  REDRAW_INTERVAL_MS,
  type ProgressState,
} from '../../lab/cli/progress.ts';
import type { RunEvent, RunStarted, SecondTally } from '../../lab/live/run-events.ts';

const runStarted = (overrides: Partial<RunStarted> = {}): RunStarted => ({
  type: 'run-started',
  scenario: { name: 'partition', title: 'What happens?', claim: 'c' },
  runtime: 'local',
  phases: [],
  faults: [],
  variants: [
    { label: 'monolith', deployment: 'monolith' },
    { label: 'split', deployment: 'split' },
  ],
  durationS: 60,
  ...overrides,
});

const second = (label: string): SecondTally => ({
  type: 'second',
  label,
  t: 27,
  routes: [
    { route: 'signup', ok: 10, failures: {}, latencyMs: { p50: 41.6, p90: 60, p99: 80 } },
    { route: 'pay', ok: 18, failures: { deadline: 2 }, latencyMs: { p50: 3.2, p90: 4, p99: 9 } },
    {
      route: 'checkout',
      ok: 0,
      failures: { deadline: 3, refused: 5 },
      latencyMs: null,
    },
  ],
  services: [],
});

/** Applies timed events (ms) to a fresh state. */
function play(events: [number, RunEvent][], deploymentsPerScenario: number[] = []): ProgressState {
  return events.reduce(
    (state, [atMs, event]) => applyRunEvent(state, event, atMs, deploymentsPerScenario),
    initialProgressState(),
  );
}

describe('progress state and ETA', () => {
  it('guesses 10 s of overhead per deployment locally and 25 s on containers before any is measured', () => {
    expect(overheadEstimateS(play([[0, runStarted()]]))).toBe(10);
    expect(overheadEstimateS(play([[0, runStarted({ runtime: 'containers' })]]))).toBe(25);
  });

  it('counts the whole run at the start: both timelines and both overheads', () => {
    const state = play([[0, runStarted()]]);
    // 60 s + 10 s for monolith, 60 s + 10 s for split.
    expect(remainingS(state, 0)).toBe(140);
    // 4 s into starting monolith: 6 s of its overhead left.
    expect(remainingS(state, 4000)).toBe(136);
  });

  it('counts down the timeline and learns the overhead from a finished deployment', () => {
    const state = play([
      [0, runStarted()],
      [
        6000,
        { type: 'deployment-started', label: 'monolith', deployment: 'monolith', routeUrls: {} as never },
      ],
    ]);
    // 20 s into the timeline; 6 s of overhead spent, 4 s guessed left; then split's 70 s.
    expect(remainingS(state, 26_000)).toBe(40 + 4 + 70);
    // Monolith took 6 s to start and 14 s to settle and audit after its 60 s: 20 s of overhead.
    const after = applyRunEvent(state, { type: 'deployment-finished', label: 'monolith' }, 80_000);
    expect(after.overheadsS).toEqual([20]);
    expect(overheadEstimateS(after)).toBe(20);
    expect(after.variantIndex).toBe(1);
    expect(after.stage).toBe('starting');
    expect(remainingS(after, 80_000)).toBe(60 + 20);
  });

  it('counts the scenarios still to come in a batch, with their deployments', () => {
    const state = play(
      [[0, runStarted({ batch: { index: 0, count: 3, remainingTimelineS: 200 } })]],
      [2, 3, 2],
    );
    expect(state.laterDeployments).toBe(5);
    // This scenario: 2 × (60 + 10); the others: 200 s of timeline and 5 × 10 s.
    expect(remainingS(state, 0)).toBe(140 + 200 + 50);
  });

  it('keeps what it learned across the scenarios of a batch', () => {
    const state = play([
      [0, runStarted({ variants: [{ label: 'monolith', deployment: 'monolith' }], durationS: 10 })],
      [
        5000,
        { type: 'deployment-started', label: 'monolith', deployment: 'monolith', routeUrls: {} as never },
      ],
      [17_000, { type: 'deployment-finished', label: 'monolith' }],
      [18_000, { type: 'run-finished', verdict: 'held' }],
      [18_500, runStarted({ batch: { index: 1, count: 2, remainingTimelineS: 0 } })],
    ]);
    // 17 s for a 10 s timeline: 7 s of overhead, used for the next scenario's two deployments.
    expect(state.overheadsS).toEqual([7]);
    expect(state.firstStartedAtMs).toBe(0);
    expect(remainingS(state, 18_500)).toBe(2 * (60 + 7));
  });

  it('expects only the scenarios to come once the last deployment is done', () => {
    const state = play([
      [0, runStarted({ variants: [{ label: 'monolith', deployment: 'monolith' }], durationS: 10 })],
      [
        2000,
        { type: 'deployment-started', label: 'monolith', deployment: 'monolith', routeUrls: {} as never },
      ],
      [15_000, { type: 'deployment-finished', label: 'monolith' }],
    ]);
    expect(state.stage).toBe('finishing');
    expect(remainingS(state, 15_000)).toBe(0);
    expect(renderProgressLines(state, 16_000)).toEqual([
      '▸ partition · column monolith (1 of 1) · stopping the lab',
      '  elapsed 16 s of ~16 s · ETA 0 s',
    ]);
  });
});

describe('renderProgressLines', () => {
  it('shows nothing before a run starts and after it finished', () => {
    expect(renderProgressLines(initialProgressState(), 0)).toEqual([]);
    const finished = play([
      [0, runStarted()],
      [1, { type: 'run-finished', verdict: null, error: 'interrupted' }],
    ]);
    expect(renderProgressLines(finished, 2)).toEqual([]);
  });

  it('shows the scenario, column and phase, the clocks and the last second per route', () => {
    const state = play([
      [0, runStarted({ batch: { index: 1, count: 9, remainingTimelineS: 0 } })],
      [
        10_000,
        { type: 'deployment-started', label: 'monolith', deployment: 'monolith', routeUrls: {} as never },
      ],
      [70_000, { type: 'deployment-finished', label: 'monolith' }],
      [75_000, { type: 'deployment-started', label: 'split', deployment: 'split', routeUrls: {} as never }],
      [95_000, { type: 'phase-started', label: 'split', phase: 'partition', startS: 20, endS: 40 }],
      [102_000, second('split')],
    ]);
    expect(renderProgressLines(state, 102_400)).toEqual([
      '▸ partition (2 of 9) · column split (2 of 2) · phase partition (20–40 s)',
      // 27.4 s of 60; monolith's overhead was 10 s, split spent 5 s starting: 32.6 + 5 = 37.6 s left.
      '  timeline 27 / 60 s · elapsed 1 min 42 s of ~2 min 20 s · ETA 38 s',
      '  signup    this second: ok  10  failed   0  p50 42 ms',
      '  pay       this second: ok  18  failed   2 (deadline 2)  p50 3 ms',
      '  checkout  this second: ok   0  failed   8 (refused 5, deadline 3)',
    ]);
  });

  it('says what happens outside the timeline: starting, settling, stopping', () => {
    const starting = play([[0, runStarted()]]);
    expect(renderProgressLines(starting, 1000)[0]).toBe(
      '▸ partition · column monolith (1 of 2) · starting the deployment',
    );
    const started = applyRunEvent(
      starting,
      { type: 'deployment-started', label: 'monolith', deployment: 'monolith', routeUrls: {} as never },
      5000,
    );
    expect(renderProgressLines(started, 6000)).toContain(
      '  this second: waiting for the first second of load',
    );
    // Past the 60 s timeline with no deployment-finished yet: settling and auditing, the load stopped.
    const settling = applyRunEvent(started, second('monolith'), 65_000);
    expect(renderProgressLines(settling, 66_000)).toEqual([
      '▸ partition · column monolith (1 of 2) · settle and audit',
      '  timeline 60 / 60 s · elapsed 1 min 6 s of ~2 min 20 s · ETA 1 min 14 s',
    ]);
  });

  it('ignores a second of another deployment than the one it shows', () => {
    const state = play([
      [0, runStarted()],
      [
        1000,
        { type: 'deployment-started', label: 'monolith', deployment: 'monolith', routeUrls: {} as never },
      ],
      [2000, second('monolith')],
      [61_000, { type: 'deployment-finished', label: 'monolith' }],
    ]);
    expect(state.lastSecond).toBeUndefined();
  });
});

describe('terminal helpers', () => {
  it.each([
    [0, '0 s'],
    [59.4, '59 s'],
    [60, '1 min'],
    [72.4, '1 min 12 s'],
    [-3, '0 s'],
  ])('formatClock(%s) is %j', (seconds, text) => {
    expect(formatClock(seconds)).toBe(text);
  });

  it('cuts a line to the terminal width so it never wraps', () => {
    expect(fitToWidth('abcdef', 10)).toBe('abcdef');
    expect(fitToWidth('abcdefghij', 8)).toBe('abcdef…');
    expect(Array.from(fitToWidth('▸ ééééééééé', 5))).toHaveLength(4);
  });

  it('moves up over the block and clears below', () => {
    expect(clearBlock(0)).toBe('');
    expect(clearBlock(3)).toBe('\r\x1b[3A\x1b[J');
  });
});

/** A fake terminal: what was written, with `isTTY` and a width. */
function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { isTTY: boolean; columns: number };
  stream.isTTY = isTTY;
  stream.columns = 100;
  let text = '';
  (stream as unknown as PassThrough).on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, written: () => text };
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createProgress', () => {
  it('without a terminal, writes the log lines and nothing else', async () => {
    const { stream, written } = fakeStream(false);
    const progress = createProgress(stream);
    progress.watcher.emit(runStarted());
    progress.log('splitlab: one');
    await tick(REDRAW_INTERVAL_MS * 2);
    progress.log('splitlab: two');
    progress.stop();
    await tick(0);
    expect(written()).toBe('splitlab: one\nsplitlab: two\n');
  });

  it('on a terminal, draws the block, prints log lines above it and clears it at the end', async () => {
    const { stream, written } = fakeStream(true);
    let now = 0;
    const progress = createProgress(stream, { now: () => now });
    progress.watcher.emit(runStarted());
    await tick(REDRAW_INTERVAL_MS + 100);
    const drawn = written();
    expect(drawn).toContain('▸ partition · column monolith (1 of 2) · starting the deployment\n');
    expect(drawn).toContain('  timeline 0 / 60 s');
    // The block has two lines now; a log line first moves up over them and clears them.
    progress.log('splitlab: hello');
    expect(written().slice(drawn.length)).toBe(`${clearBlock(2)}splitlab: hello\n`);
    now = 5000;
    await tick(REDRAW_INTERVAL_MS + 100);
    expect(written().slice(drawn.length)).toContain('elapsed 5 s');
    progress.watcher.emit({ type: 'run-finished', verdict: 'held' });
    // Cleared at once when the run ends, before the summary prints.
    expect(written().endsWith(clearBlock(2))).toBe(true);
    progress.stop();
  });

  it('redraws at most four times a second', async () => {
    const { stream, written } = fakeStream(true);
    const progress = createProgress(stream);
    progress.watcher.emit(runStarted());
    for (let index = 0; index < 200; index += 1) progress.watcher.emit(second('monolith'));
    await tick(1100);
    progress.stop();
    const draws = written().split('▸ partition').length - 1;
    // Measured: 4 on an idle machine; timers only run late, never early.
    expect(draws).toBeGreaterThanOrEqual(1);
    expect(draws).toBeLessThanOrEqual(5);
  });
});
