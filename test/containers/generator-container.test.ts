/**
 * The load generator as a container on the lab's network (lab/agent/load-main.ts), driven from the lab
 * through startGeneratorContainer, against a real HTTP target on the same network.
 */
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { GenericContainer, Network, Wait, type ContainerRuntimeClient } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLabError } from '../../lab/errors.ts';
import type { RequestOutcome } from '../../lab/load/outcome.ts';
import { connectDocker } from '../../lab/runtime/containers/docker.ts';
import {
  startGeneratorContainer,
  type GeneratorContainer,
} from '../../lab/runtime/containers/generator-container.ts';
import { newRunIdentity } from '../../lab/runtime/containers/labels.ts';
import { resolveLabImages } from '../../lab/runtime/containers/resolve-images.ts';
import { summarizeLatency } from '../../lab/load/percentiles.ts';
import { labContainers, labNetworks } from '../integration/support/docker-footprint.ts';

/** A real HTTP server on the lab's network: 201 on /pay, after 2 s on /slow, 404 elsewhere. */
const TARGET_SCRIPT = `
const http = require('node:http');
http.createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    const answer = (status, body) => response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    if (request.url === '/pay') return answer(201, '{"ok":true}');
    if (request.url === '/slow') return void setTimeout(() => answer(201, '{"ok":true}'), 2000);
    answer(404, '{"cause":"no_route"}');
  });
}).listen(8080, () => console.log('target ready'));
`;
const TARGET = 'http://lab-target:8080';

let client: ContainerRuntimeClient;
let generator: GeneratorContainer;
const teardown = new AsyncDisposableStack();
const identity = newRunIdentity();

beforeAll(async () => {
  client = await connectDocker();
  const images = await resolveLabImages(client, { log: () => undefined });
  const network = await new Network({ nextUuid: () => identity.networkName }).start();
  teardown.defer(() => network.stop().then(() => undefined));
  const target = await new GenericContainer(images.node.name)
    .withName(`${identity.networkName}-target`)
    .withCommand(['node', '-e', TARGET_SCRIPT])
    .withNetwork(network)
    .withNetworkAliases('lab-target')
    .withLabels(identity.labels)
    .withWaitStrategy(Wait.forLogMessage(/target ready/))
    .start();
  teardown.defer(() => target.stop().then(() => undefined));
  generator = await startGeneratorContainer({
    client,
    image: images.agent.name,
    network,
    identity,
    startTimeoutMs: 60_000,
    teardown,
  });
});

afterAll(async () => {
  await teardown.disposeAsync();
});

describe('the load generator in the lab network', () => {
  it('drives an open-model load and streams each outcome back on the lab timeline', async () => {
    const startedAtMs = performance.now();
    // When each outcome reached the lab, on the lab's clock.
    const arrivedAtMs: number[] = [];
    const streamed: RequestOutcome[] = [];
    const inFlightSeen: number[] = [];
    const run = generator.driveLoad({
      routes: [
        { route: 'pay', url: `${TARGET}/pay`, ratePerSecond: 50 },
        { route: 'signup', url: `${TARGET}/missing`, ratePerSecond: 5 },
      ],
      durationS: 4,
      timeoutMs: 2_000,
      maxInFlightPerRoute: 100,
      runTag: `g${identity.runId}`,
      startedAtMs,
      onOutcome: (outcome) => {
        arrivedAtMs.push(performance.now());
        streamed.push(outcome);
      },
    });
    const watcher = setInterval(() => inFlightSeen.push(run.inFlight('pay')), 20);
    const outcomes = await run.finished;
    clearInterval(watcher);

    expect(outcomes).toEqual(streamed);
    const pay = outcomes.filter((outcome) => outcome.route === 'pay');
    const missing = outcomes.filter((outcome) => outcome.route === 'signup');
    // Exactly the schedule: 50/s and 5/s for 4 s, due on the lab's own grid.
    expect(pay).toHaveLength(200);
    expect(missing).toHaveLength(20);
    expect(pay.map((outcome) => outcome.dueAtS).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, k) => k / 50),
    );
    expect(pay.every((outcome) => outcome.ok && outcome.status === 201 && outcome.cause === '')).toBe(true);
    expect(pay[0]?.idempotencyKey).toMatch(/^pay-g.+s0-\d+$/);
    expect(missing.every((outcome) => outcome.status === 404 && outcome.cause === 'no_route')).toBe(true);
    const lag = summarizeLatency(outcomes.map((outcome) => outcome.sendLagMs));
    // The first requests wait for the clock round trips and the POST (measured: a few ms).
    expect(lag.p99).toBeLessThan(30);
    expect(lag.max).toBeLessThan(100);
    // Aligned: an outcome reaches the lab after its answer, at most a flush interval (50 ms), the round
    // trip and the lab's own scheduling later. An offset of the two timelines would show here.
    const delays = outcomes.map(
      (outcome, index) =>
        (arrivedAtMs[index] ?? 0) - startedAtMs - (outcome.dueAtS * 1000 + outcome.latencyMs),
    );
    expect(Math.min(...delays)).toBeGreaterThan(-5);
    expect(Math.max(...delays)).toBeLessThan(250);
    // The in-flight counts arrived while it ran, and were reset at its end.
    expect(inFlightSeen.length).toBeGreaterThan(100);
    expect(run.inFlight('pay')).toBe(0);
  });

  it('runs a closed stream of 4 connections next to an open load, one POST each', async () => {
    const startedAtMs = performance.now();
    const closed = generator.driveClosedLoad({
      load: { route: 'pay', url: `${TARGET}/pay`, connections: 4, stream: 1, fromS: 0.5, untilS: 2.5 },
      durationS: 3,
      timeoutMs: 2_000,
      runTag: `c${identity.runId}`,
      startedAtMs,
    });
    const open = generator.driveLoad({
      routes: [{ route: 'pay', url: `${TARGET}/pay`, ratePerSecond: 20 }],
      durationS: 3,
      timeoutMs: 2_000,
      maxInFlightPerRoute: 100,
      runTag: `o${identity.runId}`,
      startedAtMs,
    });
    const [{ outcomes, summary }, openOutcomes] = await Promise.all([closed.finished, open.finished]);
    expect(openOutcomes).toHaveLength(60);
    expect(summary.connections).toBe(4);
    expect(summary.autocannon.instances).toBe(1);
    expect(outcomes.length).toBeGreaterThan(100);
    expect(summary.answered).toBe(outcomes.length);
    expect(summary.ok).toBe(outcomes.length);
    expect(outcomes.every((outcome) => outcome.loadModel === 'closed' && outcome.status === 201)).toBe(true);
    // Sent only inside its window of the lab's timeline (a send may fall a few ms past its end).
    const sentAt = outcomes.map((outcome) => outcome.dueAtS);
    expect(Math.min(...sentAt)).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...sentAt)).toBeLessThan(2.6);
  });

  it('stops a run when the lab aborts it, and still hands back the outcomes of what was cut', async () => {
    const abort = new AbortController();
    const startedAtMs = performance.now();
    const run = generator.driveLoad({
      routes: [{ route: 'pay', url: `${TARGET}/slow`, ratePerSecond: 20 }],
      durationS: 10,
      timeoutMs: 5_000,
      maxInFlightPerRoute: 100,
      runTag: `a${identity.runId}`,
      startedAtMs,
      signal: abort.signal,
    });
    await sleep(1_000);
    expect(run.inFlight('pay')).toBeGreaterThan(10);
    abort.abort();
    const outcomes = await run.finished;
    const stoppedAfterMs = performance.now() - startedAtMs;
    expect(stoppedAfterMs).toBeLessThan(2_500);
    // About 20 sent in the first second, all cut while /slow held them; none due after the abort.
    expect(outcomes.length).toBeGreaterThanOrEqual(15);
    expect(outcomes.length).toBeLessThanOrEqual(25);
    expect(outcomes.every((outcome) => !outcome.ok && outcome.status === null)).toBe(true);
    expect(Math.max(...outcomes.map((outcome) => outcome.dueAtS))).toBeLessThan(1.2);
    // Nothing is left running in the generator (asked from inside its container).
    const health = execFileSync(
      'docker',
      [
        'exec',
        generator.containerId,
        'node',
        '-e',
        "fetch('http://127.0.0.1:8090/healthz').then((r) => r.text()).then(console.log)",
      ],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(health)).toEqual({ ok: true, runs: 0 });
  });

  it('rejects with DEPENDENCY_FAILED naming the container when the generator dies mid-run', async () => {
    const run = generator.driveLoad({
      routes: [{ route: 'pay', url: `${TARGET}/pay`, ratePerSecond: 20 }],
      durationS: 10,
      timeoutMs: 2_000,
      maxInFlightPerRoute: 100,
      runTag: `k${identity.runId}`,
    });
    const failed = run.finished.then(
      () => undefined,
      (error: unknown) => error,
    );
    await sleep(1_000);
    const killedAtMs = performance.now();
    await client.container.dockerode.getContainer(generator.containerId).kill();
    const error = await failed;
    expect(performance.now() - killedAtMs).toBeLessThan(6_000);
    expect(isLabError(error) && error.code).toBe('DEPENDENCY_FAILED');
    expect(String(error)).toContain(`${identity.networkName}-generator`);
    expect(String(error)).toContain('not to blame');
  });

  it('leaves nothing of the lab in Docker', async () => {
    await teardown.disposeAsync();
    expect(labContainers(process.pid)).toEqual([]);
    expect(labNetworks(process.pid)).toEqual([]);
  });
});
