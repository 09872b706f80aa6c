/**
 * The interactive lab as a user meets it: `npm run lab -- up --deployment split --load --live` keeps
 * running; `fault partition payment-api` makes split checkouts fail by their deadline while pay works,
 * `status` lists the fault, `heal` restores checkout, a second `up` is refused, and SIGINT leaves
 * nothing behind: no process, no control file, no port, no temp dir (no container on containers).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { controlPaths, isLabProcess, readLabState } from '../../lab/interactive/control-files.ts';
import { startCli, type RunningCli } from './support/running-cli.ts';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import type { LiveSnapshot } from '../../lab/live/live-state.ts';
import { labContainers, labNetworkAddresses, labNetworks } from './support/docker-footprint.ts';
import { checkoutBody, payBody, post, TEST_RUNTIME } from './support/lab.ts';
import { labSockets } from './support/listening-sockets.ts';
import { descendantsOf, isAlive, labTempDirsOf, listeningPorts } from './support/process-tree.ts';

const NODE = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
const inContainers = TEST_RUNTIME === 'containers';
const paths = controlPaths();

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node lab/cli/lab.ts <args>` to its end. */
function runLab(args: string[]): Promise<CliRun> {
  const cli = spawn(NODE, ['lab/cli/lab.ts', ...args], { cwd: PROJECT_ROOT, env: { ...process.env } });
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => cli.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** The running `up`. */
type Up = RunningCli;

function startUp(args: string[]): Up {
  return startCli('lab/cli/lab.ts', ['up', ...args]);
}

/** The URL printed on the line of `label` in up's banner, e.g. `checkout  POST http://...`. */
function urlAfter(output: string, label: RegExp): string {
  const match = new RegExp(`${label.source}\\s+(?:POST )?(http://\\S+)`).exec(output);
  if (!match?.[1]) throw new Error(`no URL for ${label.source} in:\n${output}`);
  return match[1];
}

async function liveState(liveUrl: string): Promise<LiveSnapshot> {
  const response = await fetch(new URL('/state', liveUrl));
  return (await response.json()) as LiveSnapshot;
}

let up: Up;
let checkoutUrl: string;
let payUrl: string;
let liveUrl: string;

beforeAll(async () => {
  const existing = await readLabState(paths);
  if (existing && isLabProcess(existing.pid))
    throw new Error(`a lab is already up (pid ${existing.pid}); stop it before running this test`);
  up = startUp(['--deployment', 'split', '--load', '--live', '--runtime', TEST_RUNTIME]);
  await up.sawOutput('ready:');
  checkoutUrl = urlAfter(up.output(), /checkout/);
  payUrl = urlAfter(up.output(), /pay/);
  liveUrl = urlAfter(up.output(), /live view/);
});

afterAll(async () => {
  if (up && up.cli.exitCode === null && up.cli.signalCode === null) {
    up.cli.kill('SIGINT');
    await up.exited;
  }
});

describe(`npm run lab (${TEST_RUNTIME} runtime)`, () => {
  it('prints every address: routes, metrics, Toxiproxy, DNS, live view, control socket', () => {
    const output = up.output();
    expect(output).toMatch(/splitlab lab: split on the \w+ runtime \(pid \d+\)/);
    expect(output).toMatch(/signup-service http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(output).toMatch(/DNS\s+lab DNS server on udp/);
    if (!inContainers) expect(output).toMatch(/toxiproxy\s+http:\/\/127\.0\.0\.1:\d+ \(its HTTP API/);
    expect(output).toContain(`control    ${paths.socket}`);
    expect(output).toContain('load       signup 4/s, pay 20/s, checkout 8/s');
  });

  it('partitions payment-api by hand: checkout fails by its deadline, pay works; status lists it; heal restores it', async () => {
    const applied = await runLab(['fault', 'partition', 'payment-api']);
    // Healed even when an assertion below fails, so that the tests after this one meet a lab without it.
    onTestFailed(async () => {
      await runLab(['heal']);
    });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(
      /hand-\d+ in effect \(read back after \d+ ms\): payment-api partitioned \(both\)/,
    );
    expect(applied.stdout).toContain('observed: timeout toxics on payment-api');

    const checkout = checkoutBody();
    const pay = payBody();
    const [failed, paid] = await Promise.all([
      post(checkoutUrl, checkout.body, checkout.headers),
      post(payUrl, pay.body, pay.headers),
    ]);
    expect(failed.status).toBe(504);
    expect(failed.body.cause).toBe('deadline');
    // The deadline is 5000 ms; as in faults.test.ts, 4.8 s to 6 s for timers and the insert before the call.
    expect(failed.elapsedMs).toBeGreaterThan(4800);
    expect(failed.elapsedMs).toBeLessThan(6000);
    expect(paid.status).toBe(201);

    const status = await runLab(['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(
      /faults in effect \(1, the newest last\):\n\s+hand-\d+\s+partition payment-api\s+since /,
    );
    // The steady load's last second: checkout fails by deadline on its own too.
    expect(status.stdout).toMatch(/last second \(t=[\d.]+ s\): .*checkout \d+ ok/);
    const live = await liveState(liveUrl);
    expect(live.run?.scenario.name).toBe('lab up');
    expect(live.columns[0]?.faults).toEqual([
      expect.objectContaining({ source: 'hand', target: 'payment-api', untilS: null }),
    ]);

    const healed = await runLab(['heal']);
    expect(healed.code, healed.stderr).toBe(0);
    expect(healed.stdout).toMatch(/hand-\d+ healed: payment-api partitioned/);
    const again = checkoutBody();
    const restored = await post(checkoutUrl, again.body, again.headers);
    expect(restored.status).toBe(201);
    expect(restored.elapsedMs).toBeLessThan(2000);
    expect((await runLab(['status'])).stdout).toContain('faults: none in effect');
    expect((await liveState(liveUrl)).columns[0]?.faults[0]?.untilS).not.toBeNull();
  });

  it('refuses bad fault input before sending it, with exit code 2', async () => {
    const otherDeployment = await runLab(['fault', 'partition', 'monolith-db']);
    expect(otherDeployment.code).toBe(2);
    expect(otherDeployment.stderr).toContain(
      'monolith-db is a link of monolith; this lab runs split; here: edge-signup',
    );
    const unknownKind = await runLab(['fault', 'partishun', 'payment-api']);
    expect(unknownKind.code).toBe(2);
    expect(unknownKind.stderr).toContain('"partishun" is not a fault kind; kinds: latency, partition');
    const notInEffect = await runLab(['heal', 'crash', 'signup-service']);
    expect(notInEffect.code).toBe(2);
    expect(notInEffect.stderr).toContain('no crash on signup-service is in effect');
  });

  it('refuses a second up, naming the pid of the first and how to stop it', async () => {
    const second = await runLab(['up', '--runtime', TEST_RUNTIME]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`a lab is already up (pid ${up.cli.pid}, split on ${TEST_RUNTIME}`);
    expect(second.stderr).toContain(`kill ${up.cli.pid}`);
    // The first lab is untouched.
    expect((await runLab(['status'])).code).toBe(0);
  });

  it('on SIGINT heals its faults, stops everything and leaves nothing behind', async () => {
    // A fault in effect at Ctrl-C: the teardown undoes it first.
    expect((await runLab(['fault', 'latency', 'payment-api', '--ms', '50'])).code).toBe(0);
    const pid = up.cli.pid ?? -1;
    const children = descendantsOf(pid);
    const ports = labSockets(
      new Set([pid, ...children.map((child) => child.pid)]),
      inContainers ? labNetworkAddresses(pid).containers : [],
    ).map((socket) => socket.port);
    if (!inContainers) {
      expect(children.map((child) => child.command).join('\n')).toMatch(/toxiproxy-server[\s\S]*postgres/);
      expect(labTempDirsOf(pid)).toHaveLength(1);
    } else expect(labContainers(pid).join('\n')).toContain('signup-service');
    // Toxiproxy API and links, PostgreSQL, 2 services, the live view (on containers: published ports).
    expect(ports.length).toBeGreaterThanOrEqual(inContainers ? 6 : 9);

    const signalledAt = performance.now();
    up.cli.kill('SIGINT');
    expect(await up.exited, up.output()).toBe(0);
    const tookMs = performance.now() - signalledAt;
    console.log(`${TEST_RUNTIME}: SIGINT to exit of lab up took ${Math.round(tookMs)} ms`);
    expect(up.output()).toMatch(/healed 1 fault\(s\) on the way out: hand-\d+/);
    expect(up.output()).toMatch(/stopped; everything torn down [\d.]+ s after the signal/);

    expect(children.filter((child) => isAlive(child.pid))).toEqual([]);
    expect(existsSync(paths.socket)).toBe(false);
    expect(existsSync(paths.state)).toBe(false);
    const listening = listeningPorts();
    expect(ports.filter((port) => listening.has(port))).toEqual([]);
    expect(labTempDirsOf(pid)).toEqual([]);
    if (inContainers) {
      expect(labContainers(pid)).toEqual([]);
      expect(labNetworks(pid)).toEqual([]);
    }
    // Measured on the local runtime with a fault in effect and load running: 0.6 s; containers remove
    // 5 containers and a network. The bound leaves room for a loaded 2-core machine.
    expect(tookMs).toBeLessThan(inContainers ? 30_000 : 10_000);
  });

  it('with no lab up, status, fault and heal exit 1 and say how to start one', async () => {
    for (const args of [['status'], ['fault', 'partition', 'payment-api'], ['heal']]) {
      const run = await runLab(args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toContain('no lab is up; start one with npm run lab -- up');
    }
  });
});
