import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveLoad, type DriveLoadOptions } from '../../lab/load/drive-load.ts';
import { dueTimeS, streamSchedule } from '../../lab/load/due-times.ts';
import type { RequestOutcome } from '../../lab/load/outcome.ts';
import { summarizeLatency } from '../../lab/load/percentiles.ts';

// The real generator against a real (trivial) HTTP server on loopback: what is measured is the
// generator's own timing, so the server answers at once with a tiny body.
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(201, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pay`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const options = (overrides: Partial<DriveLoadOptions>): DriveLoadOptions => ({
  routes: [{ route: 'pay', url, ratePerSecond: 200 }],
  durationS: 1,
  timeoutMs: 5000,
  maxInFlightPerRoute: 100,
  runTag: `t${Date.now().toString(36)}`,
  ...overrides,
});

const lags = (outcomes: readonly RequestOutcome[]): number[] => outcomes.map((outcome) => outcome.sendLagMs);

describe('driveLoad: its own timing', () => {
  it('tags every outcome with its stream and a small send lag when the generator keeps up', async () => {
    // A short warm-up: the first requests of a process pay for compiling undici and opening connections
    // (cold runs measured here: lag p99 7-17 ms; warm runs 1.5-7.2 ms over 20 runs at 200/s for 1 s).
    await driveLoad(options({ durationS: 0.3 })).finished;
    const outcomes = await driveLoad(
      options({
        routes: [
          { route: 'pay', url, ratePerSecond: 200 },
          { route: 'pay', url, ratePerSecond: 40, fromS: 0.5 },
        ],
      }),
    ).finished;

    // Due at exactly the times of the schedule (due-times.ts), so phases count them exactly.
    const steady = outcomes.filter((outcome) => outcome.stream === 0).map((outcome) => outcome.dueAtS);
    const schedule = streamSchedule({ ratePerSecond: 200 }, 1);
    expect(steady.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, k) => dueTimeS(schedule, k)),
    );
    const flood = outcomes.filter((outcome) => outcome.stream === 1);
    expect(flood).toHaveLength(20);
    expect(flood.every((outcome) => outcome.dueAtS >= 0.5)).toBe(true);
    expect(outcomes.every((outcome) => outcome.ok && outcome.sendLagMs >= 0)).toBe(true);
    // Latency is still measured from the due time, so it includes the send lag.
    expect(outcomes.every((outcome) => outcome.latencyMs >= outcome.sendLagMs)).toBe(true);
    const lag = summarizeLatency(lags(outcomes));
    // Measured here at 200/s for 1 s, 20 runs each: on a quiet machine p50 0.3-0.8 ms, p99 1.5-7.2 ms (cold
    // 7-17 ms); with the 2 cores at load average 8, p50 0.7-1.2 ms but p99 up to 83 ms; p50 up to 9.3 ms
    // inside the whole unit suite on that machine. The bounds hold there and stay well below the starved
    // generator of the next test (every request due in the first 50 ms of a 300 ms block: >= 250 ms).
    expect(lag.p50).toBeLessThan(20);
    expect(lag.p99).toBeLessThan(150);
  });

  it('shows the lag of every request due while its event loop was blocked (a starved generator)', async () => {
    const startedAtMs = performance.now();
    const run = driveLoad(options({ durationS: 1.5, startedAtMs }));
    const block = await new Promise<{ fromMs: number; toMs: number }>((resolve) =>
      setTimeout(() => {
        const fromMs = performance.now();
        while (performance.now() - fromMs < 300) {
          // Busy: nothing else on this event loop runs, the generator included.
        }
        resolve({ fromMs, toMs: performance.now() });
      }, 500),
    );
    const outcomes = await run.finished;
    expect(outcomes).toHaveLength(300);

    const dueAtMs = (outcome: RequestOutcome): number => startedAtMs + outcome.dueAtS * 1000;
    const dueMeanwhile = outcomes.filter(
      (outcome) => dueAtMs(outcome) >= block.fromMs && dueAtMs(outcome) < block.toMs,
    );
    expect(dueMeanwhile.length).toBeGreaterThanOrEqual(55); // 300 ms at 200/s
    // None could be sent before the loop was free again; sendLagMs is rounded to 0.1 ms.
    for (const outcome of dueMeanwhile) {
      expect(outcome.sendLagMs).toBeGreaterThanOrEqual(block.toMs - dueAtMs(outcome) - 0.05);
    }
    const dueInFirst50Ms = dueMeanwhile.filter((outcome) => dueAtMs(outcome) < block.fromMs + 50);
    expect(dueInFirst50Ms.length).toBeGreaterThanOrEqual(9);
    expect(Math.min(...lags(dueInFirst50Ms))).toBeGreaterThanOrEqual(250);
    // What a health check over the whole run sees: a p99 far above the health threshold (30 ms).
    expect(summarizeLatency(lags(outcomes)).p99).toBeGreaterThanOrEqual(250);
    // And the generator catches up: requests due well after the block are sent on time again.
    const later = outcomes.filter((outcome) => dueAtMs(outcome) > block.toMs + 100);
    expect(summarizeLatency(lags(later)).p50).toBeLessThan(20);
  });
});
