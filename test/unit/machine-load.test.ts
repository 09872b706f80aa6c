import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  findOtherLabs,
  machineShares,
  parseCpuLine,
  parseProcessStat,
  readMachine,
  type ProcessStat,
} from '../../lab/measure/machine-load.ts';

describe('parseProcessStat', () => {
  it('reads pid, parent, name and CPU ticks (own and reaped children), whatever the name holds', () => {
    const line =
      '4321 (node (lab) x) S 4300 4321 4300 0 -1 4194304 100 0 0 0 250 40 7 3 20 0 11 0 9999 1000000 5000';
    expect(parseProcessStat(line)).toEqual({ pid: 4321, ppid: 4300, comm: 'node (lab) x', ticks: 300 });
    expect(parseProcessStat('not a stat line')).toBeUndefined();
  });
});

describe('parseCpuLine', () => {
  it('sums every kind of CPU time and counts iowait as idle', () => {
    const procStat = 'cpu  100 5 50 800 20 0 10 15 0 0\ncpu0 50 2 25 400 10 0 5 8 0 0\n';
    expect(parseCpuLine(procStat)).toEqual({ totalTicks: 1000, idleTicks: 820 });
  });
});

describe('machineShares', () => {
  it('is the busy share and the lab share of all CPU time between two readings', () => {
    const from = { atMs: 0, totalTicks: 1000, idleTicks: 600, labTicks: 100, otherLabs: [] };
    const to = { atMs: 1000, totalTicks: 1200, idleTicks: 650, labTicks: 220, otherLabs: [] };
    expect(machineShares(from, to)).toEqual({ cpuBusy: 0.75, labCpu: 0.6 });
    expect(machineShares(from, from)).toEqual({ cpuBusy: null, labCpu: null });
  });
});

describe('findOtherLabs', () => {
  const processes = (rows: [pid: number, ppid: number, comm: string][]): ProcessStat[] =>
    rows.map(([pid, ppid, comm]) => ({ pid, ppid, comm, ticks: 0 }));
  const table = processes([
    [1, 0, 'init'],
    // This lab: npm -> sh -> node lab/cli/scenario.ts (self) -> its toxiproxy-server.
    [100, 1, 'npm run scenari'],
    [101, 100, 'sh'],
    [102, 101, 'node'],
    [103, 102, 'toxiproxy-serve'],
    // Another CLI run, through its shell.
    [200, 1, 'sh'],
    [201, 200, 'node'],
    [202, 201, 'toxiproxy-serve'],
    // A test's lab: only its toxiproxy-server shows it.
    [300, 1, 'node'],
    [301, 300, 'toxiproxy-serve'],
    // What a lab killed with -9 left: not a lab.
    [400, 1, 'toxiproxy-serve'],
    // The owner of a containers lab, and an unrelated node process.
    [500, 1, 'node'],
    [600, 1, 'node'],
  ]);
  const commandLines = new Map([
    [101, 'sh -c node lab/cli/scenario.ts latency'],
    [102, 'node lab/cli/scenario.ts latency'],
    [200, 'sh -c node lab/cli/scenario.ts partition'],
    [201, 'node lab/cli/scenario.ts partition'],
    [300, 'node node_modules/vitest/dist/workers/forks.js'],
    [500, 'node lab/cli/scenario.ts baseline'],
    [600, 'node server.js'],
  ]);

  it('finds every other run once, by its lab process, and never this one', () => {
    const containers = [
      { id: 'a'.repeat(64), ownerPid: 500, publicPorts: [32768] },
      { id: 'b'.repeat(64), ownerPid: 102, publicPorts: [] },
      // Its owner is dead: a leftover, not a lab.
      { id: 'c'.repeat(64), ownerPid: 999, publicPorts: [] },
    ];
    expect(findOtherLabs(table, commandLines, containers, 102)).toEqual([201, 300, 500]);
  });

  it('finds nothing when this is the only lab', () => {
    const alone = table.filter((process) => process.pid < 200);
    expect(findOtherLabs(alone, commandLines, [], 102)).toEqual([]);
  });
});

describe('readMachine', () => {
  it('finds another lab running on this machine, and not this one', async () => {
    // A stand-in for another run: a node process running lab/cli/scenario.ts (it only waits), started
    // by a shell that exits at once, so it is not below this process.
    const other = Number(
      execFileSync('sh', [
        '-c',
        `'${process.execPath}' -e 'setTimeout(() => {}, 5000)' lab/cli/scenario.ts >/dev/null 2>&1 & echo $!`,
      ]).toString(),
    );
    try {
      const { otherLabs } = await readMachine();
      expect(otherLabs).toContain(other);
      expect(otherLabs).not.toContain(process.pid);
    } finally {
      process.kill(other);
    }
  });

  it('counts the CPU of a child process as this lab’s', async () => {
    const before = await readMachine();
    // A child that uses 400 ms of CPU (by its own CPU clock: the machine is shared, so not by wall time).
    // (Asking for the CPU usage only every million additions: a getrusage() per turn is mostly system time.)
    const child = spawn(process.execPath, [
      '-e',
      'let i = 0; do for (let k = 0; k < 1e6; k++) i += k; while (process.cpuUsage().user < 400_000);',
    ]);
    await new Promise((resolve) => child.once('exit', resolve));
    const after = await readMachine();
    expect(after.totalTicks).toBeGreaterThan(before.totalTicks);
    // 400 ms of CPU is 40 ticks at 100 ticks/s, plus Node's start; the exited child is counted through
    // its parent's reaped-children time. Measured: 47-52 ticks in 8 runs.
    expect(after.labTicks - before.labTicks).toBeGreaterThanOrEqual(40);
    const shares = machineShares(before, after);
    expect(shares.labCpu).toBeGreaterThan(0);
    expect(shares.cpuBusy).toBeGreaterThanOrEqual(shares.labCpu ?? 1);
  });
});
