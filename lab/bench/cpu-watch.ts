import os from 'node:os';

export interface CpuShares {
  /** Share (0..1) of all cores' time that was busy while watched: this process, its children, anything else. */
  machineBusy: number;
  /** Share (0..1) of all cores' time used by this process (the generator or autocannon). */
  thisProcess: number;
}

function machineTicks(): { total: number; idle: number } {
  let total = 0;
  let idle = 0;
  for (const { times } of os.cpus()) {
    total += times.user + times.nice + times.sys + times.idle + times.irq;
    idle += times.idle;
  }
  return { total, idle };
}

/**
 * Starts watching the CPU; the returned function says how busy the machine and this process were since.
 * A benchmark on a shared machine is only as good as what else ran beside it: the figures go next to it.
 *
 * @example
 *   const stop = watchCpu();
 *   await work();
 *   stop() // { machineBusy: 0.62, thisProcess: 0.31 }
 */
export function watchCpu(): () => CpuShares {
  const machineBefore = machineTicks();
  const processBefore = process.cpuUsage();
  const startedAtMs = performance.now();
  return () => {
    const machine = machineTicks();
    const used = process.cpuUsage(processBefore);
    const wallMs = performance.now() - startedAtMs;
    const total = machine.total - machineBefore.total;
    const round = (share: number): number => Math.round(Math.min(1, Math.max(0, share)) * 100) / 100;
    return {
      machineBusy: total > 0 ? round(1 - (machine.idle - machineBefore.idle) / total) : 0,
      thisProcess: wallMs > 0 ? round((used.user + used.system) / 1000 / wallMs / os.cpus().length) : 0,
    };
  };
}
