import { spawnSync } from 'node:child_process';
import os from 'node:os';

/**
 * Which CPUs each service may run on in the local runtime. A separate process is only "separate" for
 * CPU if it cannot take its neighbour's cores, so the split services get disjoint halves of the
 * machine, while the monolith and the modular monolith, one process each, get all of it: the same total for
 * every deployment.
 * Containers get the same effect from CPU quotas.
 *
 * Returns undefined when pinning is impossible (one CPU, or no `taskset`), and the lab says so.
 */
export function planCpuPinning(cpuCount = os.availableParallelism()): Record<string, string> | undefined {
  if (cpuCount < 2) return undefined;
  if (spawnSync('taskset', ['--version']).status !== 0) return undefined;
  const half = Math.floor(cpuCount / 2);
  const range = (from: number, to: number): string => (from === to ? String(from) : `${from}-${to}`);
  return {
    monolith: range(0, cpuCount - 1),
    // One process, however many modules (and worker threads) it holds: all of the machine, as the monolith.
    modular: range(0, cpuCount - 1),
    'signup-service': range(0, half - 1),
    'payment-service': range(half, cpuCount - 1),
  };
}
