import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { RequestOutcome } from '../../lab/load/outcome.ts';
import { sampleHealth, type PhaseInstruments } from '../../lab/measure/health-sampler.ts';
import { dueInWindow, likelyCause, summarizeLoadHealth } from '../../lab/measure/load-health.ts';
import type { MachineSnapshot } from '../../lab/measure/machine-load.ts';

const WINDOWS = [
  { name: 'baseline', startS: 0, endS: 10 },
  { name: 'latency', startS: 10, endS: 30 },
  { name: 'recovery', startS: 30, endS: 40 },
];
const STREAMS = [{ ratePerSecond: 8 }];

/** Every request of an 8/s stream over 40 s, sent `lagMs(dueAtS)` late. */
function outcomes(lagMs: (dueAtS: number) => number): RequestOutcome[] {
  return Array.from({ length: 320 }, (_, k) => ({
    route: 'checkout' as const,
    dueAtS: k / 8,
    stream: 0,
    sendLagMs: lagMs(k / 8),
    latencyMs: 20,
    ok: true,
    cause: '',
    status: 201,
  }));
}

const quiet = (changes: Partial<PhaseInstruments['machine']> = {}): PhaseInstruments => ({
  eventLoopDelayMs: { p50: 0.1, p90: 0.4, p99: 1.2, max: 3 },
  machine: { cpuBusy: 0.4, labCpu: 0.35, otherLabs: [], ...changes },
});

const everySecond = Array.from({ length: 41 }, (_, second) => second * 1000);

describe('dueInWindow', () => {
  it('counts exactly the requests due in each phase, a boundary request in the later phase', () => {
    expect(WINDOWS.map((w) => dueInWindow(STREAMS, 40, w.startS, w.endS))).toEqual([80, 160, 80]);
    expect(dueInWindow([{ ratePerSecond: 30, fromS: 10, untilS: 15 }], 40, 10, 30)).toBe(150);
  });
});

describe('summarizeLoadHealth', () => {
  it('records due and sent, lag, event loop, scraper intervals and the machine per phase', () => {
    const { loadHealth, problems } = summarizeLoadHealth({
      deployment: 'split',
      windows: WINDOWS,
      streams: STREAMS,
      durationS: 40,
      outcomes: outcomes(() => 0.3),
      scrapeTimesMs: everySecond,
      instruments: [quiet(), quiet(), quiet()],
    });
    expect(loadHealth.map((phase) => [phase.phase, phase.due, phase.sent])).toEqual([
      ['baseline', 80, 80],
      ['latency', 160, 160],
      ['recovery', 80, 80],
    ]);
    expect(loadHealth[1]).toMatchObject({
      scheduleLagMs: { p50: 0.3, p99: 0.3, max: 0.3 },
      eventLoopDelayMs: { p99: 1.2 },
      scrapeIntervalMs: { p50: 1000, max: 1000 },
      machine: { cpuBusy: 0.4, labCpu: 0.35, otherLabs: 0 },
      degraded: [],
    });
    expect(problems).toEqual([]);
  });

  it('flags a starved generator (synthetic lag) and blames the saturated CPU of the system under test', () => {
    const { loadHealth, problems } = summarizeLoadHealth({
      deployment: 'split',
      windows: WINDOWS,
      streams: STREAMS,
      durationS: 40,
      // Late by up to 48 ms during the latency phase only.
      outcomes: outcomes((dueAtS) => (dueAtS >= 10 && dueAtS < 30 ? 12 + (dueAtS % 1) * 48 : 0.3)),
      scrapeTimesMs: everySecond,
      instruments: [quiet(), quiet({ cpuBusy: 0.97, labCpu: 0.92 }), quiet()],
    });
    expect(loadHealth.map((phase) => phase.degraded.length)).toEqual([0, 1, 0]);
    expect(loadHealth[1]?.degraded[0]).toBe(
      "the generator sent requests up to 54 ms late (p99 54 ms > 30 ms): the machine's CPU was saturated — " +
        "97 % busy, 95 % of it this lab's system under test, proxies and generator",
    );
    expect(problems).toMatchObject([
      { kind: 'generator-lagging', severity: 'degraded', deployment: 'split', phase: 'latency' },
    ]);
  });

  it('flags another lab running, a scraper that fell behind and a busy machine, each with its cause', () => {
    const late = [...everySecond.slice(0, 13), 13_900, ...everySecond.slice(15)];
    const { loadHealth, problems } = summarizeLoadHealth({
      deployment: 'monolith',
      windows: WINDOWS,
      streams: STREAMS,
      durationS: 40,
      outcomes: outcomes(() => 0.3),
      scrapeTimesMs: late,
      instruments: [quiet({ otherLabs: [1234] }), quiet(), quiet({ cpuBusy: 0.9, labCpu: 0.3 })],
    });
    expect(loadHealth[0]?.degraded).toEqual(['another splitlab run (pid 1234) was running on this machine']);
    expect(loadHealth[0]?.machine.otherLabs).toBe(1);
    expect(loadHealth[1]?.degraded).toEqual([
      "the metrics scraper's samples were up to 1900 ms apart (planned 1000 ms, limit 1500 ms): no cause " +
        "stands out (the machine was 40 % busy, 35 % this lab's)",
    ]);
    expect(loadHealth[2]?.degraded).toEqual([
      "other programs kept 60 % of the machine's CPU busy (90 % busy, 30 % this lab's; limit 25 %)",
    ]);
    expect(problems.map((problem) => [problem.kind, problem.phase])).toEqual([
      ['machine-contended', 'baseline'],
      ['scraper-lagging', 'latency'],
      ['machine-contended', 'recovery'],
    ]);
  });

  it('counts due only until a run stopped early, and reports no phase after it', () => {
    const { loadHealth, problems } = summarizeLoadHealth({
      deployment: 'split',
      windows: WINDOWS,
      streams: STREAMS,
      durationS: 40,
      stoppedAtS: 12.5,
      outcomes: outcomes(() => 0.3).filter((outcome) => outcome.dueAtS < 12.5),
      scrapeTimesMs: everySecond.slice(0, 13),
      instruments: [quiet(), quiet()],
    });
    expect(loadHealth.map((phase) => [phase.phase, phase.due, phase.sent])).toEqual([
      ['baseline', 80, 80],
      ['latency', 20, 20],
    ]);
    expect(problems).toEqual([]);
  });

  it('names the cause of a lag: another lab first, then other programs, then a saturated CPU, then its own loop', () => {
    const health = (machine: { cpuBusy?: number; labCpu?: number }, loopP99 = 1) => ({
      machine: { cpuBusy: 0.5, labCpu: 0.45, ...machine, otherLabs: 0 },
      eventLoopDelayMs: { p50: 1, p90: 1, p99: loopP99, max: loopP99 },
    });
    expect(likelyCause(health({}), [77, 88])).toBe('2 other splitlab runs (pids 77, 88) were running');
    expect(likelyCause(health({ cpuBusy: 0.8, labCpu: 0.3 }), [])).toMatch(/^other programs kept 50 %/);
    expect(likelyCause(health({}, 35), [])).toBe("the lab's own event loop was blocked (p99 35 ms)");
  });
});

describe('a deliberately starved generator, measured for real', () => {
  it('shows in its phase as event-loop delay over the threshold, and only there', async () => {
    // Two 600 ms phases; in the second, the event loop is blocked 40 ms of every 50 ms, as a generator
    // starved of CPU would be. The machine reading is a constant (not what this test is about).
    const reading: MachineSnapshot = { atMs: 0, totalTicks: 0, idleTicks: 0, labTicks: 0, otherLabs: [] };
    const windows = [
      { name: 'fed', startS: 0, endS: 0.6 },
      { name: 'starved', startS: 0.6, endS: 1.2 },
    ];
    const startedAtMs = performance.now();
    const sampler = sampleHealth({
      windows,
      startedAtMs,
      log: () => undefined,
      label: 'test',
      readMachine: async () => ({ ...reading, atMs: performance.now() }),
    });
    await delay(600 - (performance.now() - startedAtMs));
    while (performance.now() - startedAtMs < 1200) {
      const blockUntil = performance.now() + 40;
      while (performance.now() < blockUntil);
      await delay(10);
    }
    const instruments = await sampler.stop();
    const { loadHealth, problems } = summarizeLoadHealth({
      deployment: 'split',
      windows,
      streams: [],
      durationS: 1.2,
      outcomes: [],
      scrapeTimesMs: [],
      instruments,
    });
    const [fed, starved] = loadHealth;
    // Measured over 10 runs beside three other engineers' work (load average 3-5 on 2 cores): the starved
    // phase's p99 was 43-196 ms; the fed phase's 0.3-13 ms, once 72 ms, so only the order is asserted.
    expect(starved?.eventLoopDelayMs.p99).toBeGreaterThan(20);
    expect(starved?.degraded[0]).toMatch(
      /^the lab's event loop was delayed up to \d+ ms \(p99 \d+ ms > 20 ms\), so its sends and timestamps were late too: /,
    );
    expect(fed?.eventLoopDelayMs.p99).toBeLessThan(starved?.eventLoopDelayMs.p99 ?? 0);
    expect(problems.map((problem) => problem.phase)).toContain('starved');
  });
});
