/**
 * The closed model (autocannon, lab/load/closed-load.ts) against a real HTTP server in its own process,
 * frozen with SIGSTOP for 2 s while the open-model generator drives the same server: the closed stream's
 * requests collapse to one per connection during the stall and its whole-run p99 stays at milliseconds,
 * while the open stream keeps its schedule and its p99 shows the stall. Then the hot-loop bound against a
 * refused port, with autocannon unbounded for comparison.
 *
 * Figures from runs on this 2-core machine (see the report at the end of each test's comments).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { wholeRunSummary } from '../../lab/load/aggregate.ts';
import { driveClosedLoad } from '../../lab/load/closed-load.ts';
import { driveLoad } from '../../lab/load/drive-load.ts';

// A server that answers every POST with 200 and a small JSON body after 1 ms: fast enough that the
// closed stream sends hundreds of requests a second, so a collapse is plain.
const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => setTimeout(() => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); }, 1));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  child = undefined;
});

async function startServer(): Promise<{ url: string; process: ChildProcess }> {
  const started = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  child = started;
  const [line] = (await once(started.stdout, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${line.toString().trim()}/pay`, process: started };
}

/** A port nothing listens on: bound and closed again at once. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('closed-model load', () => {
  it('collapses during a stall that the open model keeps measuring on schedule', async () => {
    const server = await startServer();
    const startedAtMs = performance.now();
    const durationS = 6;
    const open = driveLoad({
      routes: [{ route: 'pay', url: server.url, ratePerSecond: 50 }],
      durationS,
      timeoutMs: 10_000,
      maxInFlightPerRoute: 500,
      runTag: 'co-open',
      startedAtMs,
    });
    const closed = driveClosedLoad({
      load: { route: 'pay', url: server.url, connections: 4, stream: 1 },
      durationS,
      timeoutMs: 10_000,
      runTag: 'co-closed',
      startedAtMs,
    });
    await sleep(startedAtMs + 2000 - performance.now());
    server.process.kill('SIGSTOP');
    await sleep(startedAtMs + 4000 - performance.now());
    server.process.kill('SIGCONT');
    const openOutcomes = await open.finished;
    const { outcomes: closedOutcomes, summary } = await closed.finished;

    const sentIn = (outcomes: typeof openOutcomes, fromS: number, untilS: number) =>
      outcomes.filter((outcome) => outcome.dueAtS >= fromS && outcome.dueAtS < untilS);
    // Baseline second: the closed stream sends as fast as the server answers.
    const closedBaseline = sentIn(closedOutcomes, 0.5, 1.5).length;
    expect(closedBaseline).toBeGreaterThan(200);
    // Frozen (allowing 200 ms for the signal to land and the last answers to drain): at most one request
    // per connection, each waiting out the stall.
    const closedStalled = sentIn(closedOutcomes, 2.2, 3.8);
    expect(closedStalled.length).toBeLessThanOrEqual(4);
    // The open model kept its schedule: every request due in the stall was sent, on time.
    const openStalled = sentIn(openOutcomes, 2.2, 3.8);
    expect(openStalled).toHaveLength(80);
    expect(Math.max(...openStalled.map((outcome) => outcome.sendLagMs))).toBeLessThan(100);
    expect(openStalled.every((outcome) => outcome.ok)).toBe(true);
    // One p99 for the run: the open model shows the stall, the closed one buries it under its fast seconds.
    const openP99 = wholeRunSummary(openOutcomes, durationS).latencyMs.p99 ?? 0;
    const closedRun = wholeRunSummary(closedOutcomes, durationS);
    expect(openP99).toBeGreaterThan(1200);
    expect(closedRun.latencyMs.p99 ?? Infinity).toBeLessThan(100);
    expect(closedRun.latencyMs.max ?? 0).toBeGreaterThan(1500);
    expect(summary.bounded).toEqual([]);
    expect(summary.answered).toBe(closedOutcomes.filter((outcome) => outcome.status !== null).length);
    expect(closedOutcomes.every((outcome) => outcome.loadModel === 'closed')).toBe(true);
    console.log(
      `closed-load stall: closed baseline ${closedBaseline}/s, ${closedStalled.length} sent while frozen, ` +
        `closed p99 ${closedRun.latencyMs.p99} ms (max ${closedRun.latencyMs.max}), open p99 ${openP99} ms, ` +
        `lab CPU ${summary.labProcessCpuShare}`,
    );
  }, 30_000);

  it('bounds autocannon reconnecting in a hot loop against a refused port', async () => {
    const port = await refusedPort();
    const url = `http://127.0.0.1:${port}/pay`;
    const unboundedStart = performance.now();
    const unbounded = await driveClosedLoad({
      load: { route: 'pay', url, connections: 4, stream: 0, untilS: 1 },
      durationS: 1,
      timeoutMs: 10_000,
      runTag: 'hot',
      startedAtMs: unboundedStart,
      maxErrorsPerSecond: Infinity,
    }).finished;
    const boundedStart = performance.now();
    const bounded = await driveClosedLoad({
      load: { route: 'pay', url, connections: 4, stream: 0, untilS: 3 },
      durationS: 3,
      timeoutMs: 10_000,
      runTag: 'bounded',
      startedAtMs: boundedStart,
    }).finished;
    // Unbounded, autocannon turns a refused port into thousands of errors a second (measured: 2,376 in 1 s
    // with every one recorded; 135k in 2 s without the lab's bookkeeping).
    expect(unbounded.outcomes.length).toBeGreaterThan(1500);
    // Bounded: stopped once per second (3 s, a 1 s pause each time), about 500 errors each.
    expect(bounded.summary.bounded.length).toBeGreaterThanOrEqual(2);
    expect(bounded.summary.bounded.length).toBeLessThanOrEqual(3);
    expect(bounded.outcomes.length).toBeLessThan(3 * 520);
    expect(bounded.outcomes.every((outcome) => !outcome.ok)).toBe(true);
    expect(new Set(bounded.outcomes.map((outcome) => outcome.cause))).toEqual(
      new Set(['refused', 'generator_bounded']),
    );
    expect(performance.now() - boundedStart).toBeLessThan(4500);
    console.log(
      `closed-load hot loop: unbounded ${unbounded.outcomes.length} errors in 1 s at ` +
        `${unbounded.summary.labProcessCpuShare} of a core; bounded ${bounded.outcomes.length} in 3 s ` +
        `(${bounded.summary.bounded.length} stops) at ${bounded.summary.labProcessCpuShare}`,
    );
  }, 30_000);
});
