/**
 * The pure parts of what the runtimes prove and leave behind: judging a proxy's state against a link
 * fault, the names of the lab's temp dirs, the one-line teardown report, binding published ports on
 * loopback, and the dependency watchdog's rules.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLabError } from '../../lab/errors.ts';
import { engineAddressOf } from '../../lab/runtime/containers/docker.ts';
import { bindPublishedPorts } from '../../lab/runtime/containers/published-to-lab.ts';
import {
  dependencyFailure,
  startDependencyWatchdog,
  WATCHDOG_FAILURES_IN_A_ROW,
  WATCHDOG_POLL_MS,
} from '../../lab/runtime/dependency-watchdog.ts';
import { parseLabTempDir, reapDeadLabsTempDirs } from '../../lab/runtime/lab-temp-dirs.ts';
import { stopCalmly, teardownProblems } from '../../lab/runtime/stop-calmly.ts';
import { judgeLinkFault, type ProxyState } from '../../lab/runtime/toxiproxy-links.ts';
import {
  bandwidth,
  latency,
  limitData,
  outage,
  partition,
  reset,
  slicer,
  slowClose,
  type LinkFault,
} from '../../lab/vocabulary/faults.ts';

const proxy = (toxics: ProxyState['toxics'], enabled = true): ProxyState => ({
  name: 'payment-api',
  enabled,
  toxics,
});
const toxic = (type: string, stream: string, attributes: Record<string, unknown>) => ({
  name: `${type}-${stream}`,
  type,
  stream,
  toxicity: 1,
  attributes,
});

describe('judgeLinkFault', () => {
  it('sees a partition in effect only when both streams carry a timeout-0 toxic', () => {
    const both = proxy([
      toxic('timeout', 'upstream', { timeout: 0 }),
      toxic('timeout', 'downstream', { timeout: 0 }),
    ]);
    expect(judgeLinkFault(partition('payment-api'), both)).toEqual({
      inEffect: true,
      evidence: 'payment-api: toxics timeout/upstream, timeout/downstream; enabled',
    });
    const half = judgeLinkFault(
      partition('payment-api'),
      proxy([toxic('timeout', 'downstream', { timeout: 0 })]),
    );
    expect(half.inEffect).toBe(false);
    expect(half.evidence).toContain('missing timeout/upstream');
    expect(judgeLinkFault(partition('payment-api'), proxy([])).inEffect).toBe(false);
  });

  it('sees an outage in the enabled flag, not in toxics', () => {
    expect(judgeLinkFault(outage('payment-api'), proxy([], false))).toEqual({
      inEffect: true,
      evidence: 'payment-api: no toxics; disabled',
    });
    expect(judgeLinkFault(outage('payment-api'), proxy([])).inEffect).toBe(false);
  });

  it('needs the planned attributes: a latency of 100 ms is not the 200 ms asked for', () => {
    const fault = latency('payment-api', { ms: 200 });
    const right = proxy([toxic('latency', 'downstream', { latency: 200, jitter: 0 })]);
    const wrong = proxy([toxic('latency', 'downstream', { latency: 100, jitter: 0 })]);
    expect(judgeLinkFault(fault, right).inEffect).toBe(true);
    expect(judgeLinkFault(fault, wrong).inEffect).toBe(false);
  });

  it('sees no fault on a proxy that does not exist', () => {
    expect(judgeLinkFault(partition('payment-api'), undefined)).toEqual({
      inEffect: false,
      evidence: 'payment-api: no such proxy',
    });
  });

  it('judges every link fault kind against the toxics it plans', () => {
    const faults: LinkFault[] = [
      reset('payment-api', { afterMs: 10 }),
      bandwidth('payment-api', { kilobytesPerSecond: 5 }),
      slowClose('payment-api', { delayMs: 100 }),
      slicer('payment-api', { averageBytes: 10, variationBytes: 2, delayMicros: 50 }),
      limitData('payment-api', { bytes: 100 }),
    ];
    for (const fault of faults) {
      expect(judgeLinkFault(fault, proxy([])).inEffect, fault.kind).toBe(false);
    }
    const resetToxic = proxy([toxic('reset_peer', 'downstream', { timeout: 10 })]);
    expect(judgeLinkFault(reset('payment-api', { afterMs: 10 }), resetToxic).inEffect).toBe(true);
  });
});

describe('lab temp dirs', () => {
  it('reads the kind and owner pid from the name, and nothing from other names', () => {
    expect(parseLabTempDir('splitlab-pg-1234-AbC123')).toEqual({ kind: 'pg', ownerPid: 1234 });
    expect(parseLabTempDir('splitlab-image-services-77-xY12zz')).toEqual({
      kind: 'image-services',
      ownerPid: 77,
    });
    expect(parseLabTempDir('splitlab-pg-AbC123')).toBeUndefined(); // before pids were in the name
    expect(parseLabTempDir('splitlab-cli-test-123456')).toBeUndefined();
    expect(parseLabTempDir('splitlab-1234-abcdef')).toBeUndefined(); // a containers network's name
  });

  let parent: string | undefined;
  afterEach(async () => {
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it("removes a dead owner's dirs and says so, leaving a live owner's alone", async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), 'reap-test-'));
    // A pid that surely belonged to a process that has ended: one we started and waited for.
    const deadPid = spawnSync('true').pid;
    const dead = `splitlab-pg-${deadPid}-AbC123`;
    const live = `splitlab-pg-${process.pid}-XyZ789`;
    await mkdir(path.join(parent, dead));
    await mkdir(path.join(parent, live));
    const lines: string[] = [];
    const removed = await reapDeadLabsTempDirs((line) => lines.push(line), parent);
    expect(removed).toEqual([`${path.join(parent, dead)} (PostgreSQL data; its server had stopped)`]);
    expect(await readdir(parent)).toEqual([live]);
    expect(lines.join('\n')).toContain(`removed what lab runs that died`);
    expect(lines.join('\n')).toContain(dead);
  });
});

describe('stopCalmly', () => {
  it('runs every step, and reports the failed ones once, in order, with what may be left', async () => {
    const stack = new AsyncDisposableStack();
    const ran: string[] = [];
    stack.defer(() => {
      ran.push('last');
    });
    stack.defer(() => {
      ran.push('second');
      throw new Error('toxiproxy did not answer');
    });
    stack.defer(() => {
      ran.push('first');
      throw new Error('container would not stop');
    });
    const lines: string[] = [];
    const stop = stopCalmly(stack, {
      log: (line) => lines.push(line),
      what: 'the test lab',
      leftovers: async () => ['container x'],
    });
    await stop();
    await stop();
    expect(ran).toEqual(['first', 'second', 'last']);
    expect(lines).toEqual([
      'the test lab: teardown went on past container would not stop; toxiproxy did not answer; may be left: container x (the next start of any lab removes what a dead run left)',
    ]);
  });

  it('says nothing when every step worked', async () => {
    const stack = new AsyncDisposableStack();
    stack.defer(() => undefined);
    const lines: string[] = [];
    await stopCalmly(stack, { log: (line) => lines.push(line), what: 'x', leftovers: async () => [] })();
    expect(lines).toEqual([]);
  });

  it('flattens nested SuppressedErrors', () => {
    const nested = new SuppressedError(
      new Error('c'),
      new SuppressedError(new Error('b'), new Error('a'), ''),
      '',
    );
    expect(teardownProblems(nested)).toEqual(['a', 'b', 'c']);
  });
});

describe('bindPublishedPorts', () => {
  it('sets the one address on every published port, which Docker would otherwise bind on every interface', () => {
    const hostConfig = {
      PortBindings: { '8474/tcp': [{ HostPort: '0' }], '5432/tcp': [{ HostPort: '40001' }] },
    };
    bindPublishedPorts(hostConfig, '127.0.0.1');
    expect(hostConfig.PortBindings).toEqual({
      '8474/tcp': [{ HostPort: '0', HostIp: '127.0.0.1' }],
      '5432/tcp': [{ HostPort: '40001', HostIp: '127.0.0.1' }],
    });
  });

  it('publishes only the ports asked for', () => {
    const hostConfig = {
      PortBindings: { '8474/tcp': [{ HostPort: '0' }], '8666/tcp': [{ HostPort: '0' }] },
    };
    bindPublishedPorts(hostConfig, '10.231.0.2', [8474]);
    expect(hostConfig.PortBindings).toEqual({ '8474/tcp': [{ HostPort: '0', HostIp: '10.231.0.2' }] });
  });
});

describe('engineAddressOf', () => {
  it('is loopback for an engine on this machine and the engine address for a remote one', async () => {
    expect(await engineAddressOf(undefined)).toBe('127.0.0.1');
    expect(await engineAddressOf('unix:///var/run/docker.sock')).toBe('127.0.0.1');
    expect(await engineAddressOf('tcp://localhost:2375')).toBe('127.0.0.1');
    expect(await engineAddressOf('tcp://127.0.0.1:2375')).toBe('127.0.0.1');
    expect(await engineAddressOf('tcp://10.231.0.2:2375')).toBe('10.231.0.2');
    expect(await engineAddressOf('https://192.168.1.20:2376')).toBe('192.168.1.20');
  });
});

describe('dependency watchdog', () => {
  it('aborts `failed` with DEPENDENCY_FAILED naming what died, when, and whose fault it is not', async () => {
    const watchdog = startDependencyWatchdog();
    let die: (detail: string) => void = () => undefined;
    watchdog.watch('toxiproxy-server (pid 42)', new Promise((resolve) => (die = resolve)));
    expect(watchdog.failed.aborted).toBe(false);
    die('was killed by SIGKILL');
    await new Promise((resolve) => setImmediate(resolve));
    const reason: unknown = watchdog.failed.reason;
    expect(isLabError(reason) && reason.code).toBe('DEPENDENCY_FAILED');
    expect(String((reason as Error).message)).toMatch(
      /^toxiproxy-server \(pid 42\) died at \d{4}-\d\d-\d\dT[\d:.]+Z: was killed by SIGKILL; the run is invalid, not the system under test$/,
    );
  });

  it('keeps the first death, and ignores deaths after standing down (a deliberate teardown)', async () => {
    const watchdog = startDependencyWatchdog();
    watchdog.standDown();
    watchdog.watch('PostgreSQL', Promise.resolve('exited with code 0'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(watchdog.failed.aborted).toBe(false);

    const second = startDependencyWatchdog();
    second.watch('first', Promise.resolve('gone'));
    second.watch('second', Promise.resolve('gone too'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(String((second.failed.reason as Error).message)).toMatch(/^first died/);
  });

  it(`declares a polled dependency dead after ${WATCHDOG_FAILURES_IN_A_ROW} failed checks in a row, not after one`, async () => {
    const watchdog = startDependencyWatchdog();
    const answers = [false, true, false, false];
    let asked = 0;
    watchdog.poll('the API', async () => {
      const ok = answers[asked++] ?? false;
      if (!ok) throw new Error('fetch failed');
    });
    // One failure, then a success: not dead.
    await new Promise((resolve) => setTimeout(resolve, WATCHDOG_POLL_MS * 2 + 100));
    expect(watchdog.failed.aborted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, WATCHDOG_POLL_MS * 2 + 100));
    expect(watchdog.failed.aborted).toBe(true);
    expect(String((watchdog.failed.reason as Error).message)).toContain('the API died at');
    expect(String((watchdog.failed.reason as Error).message)).toContain('2 checks in a row failed');
    watchdog.standDown();
  });

  it('formats the failure as the contract says', () => {
    expect(
      dependencyFailure('the Docker engine', new Date('2025-01-01T00:00:00.000Z'), 'ping failed').message,
    ).toBe(
      'the Docker engine died at 2025-01-01T00:00:00.000Z: ping failed; the run is invalid, not the system under test',
    );
  });
});
