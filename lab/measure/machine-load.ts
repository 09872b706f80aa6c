/**
 * What the machine is doing besides the lab: CPU time of the whole machine (/proc/stat), CPU time of
 * this lab (its own process and everything it started: /proc/<pid>/stat; on the containers runtime also
 * the processes inside its containers), and other splitlab runs alive on the same machine.
 *
 * Why /proc and not `ps` or the Docker stats API: one read per process is a few microseconds (79
 * processes here: about 3 ms a sample), the numbers are cumulative CPU ticks that subtract exactly
 * across a phase, and a container's processes are host processes whose /proc/<pid>/cgroup names the
 * container, whatever cgroup version or driver Docker uses.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import { LAB_LABEL, OWNER_PID_LABEL } from '../runtime/containers/labels.ts';

/** One process as /proc/<pid>/stat shows it. */
export interface ProcessStat {
  pid: number;
  ppid: number;
  /** The executable's name, cut to 15 characters by the kernel (`toxiproxy-serve`). */
  comm: string;
  /**
   * CPU ticks it used, its own plus those of the children it has reaped (utime + stime + cutime +
   * cstime): a crashed service's time stays with the lab that reaped it.
   */
  ticks: number;
}

/** A container of some splitlab run, from the Docker API. */
export interface LabContainer {
  id: string;
  ownerPid: number;
  /** Host ports it publishes: the docker-proxy processes that forward them work for the lab. */
  publicPorts: number[];
}

/** The machine at one moment, in cumulative ticks. */
export interface MachineSnapshot {
  /** `performance.now()` of the reading. */
  atMs: number;
  /** Every CPU's ticks since boot (all cores together), and those of them spent idle. */
  totalTicks: number;
  idleTicks: number;
  /** Ticks used so far by this lab's processes and containers. */
  labTicks: number;
  /** Pids of the other splitlab runs alive on this machine. */
  otherLabs: number[];
}

/** Parses one /proc/<pid>/stat line; undefined for a line that is not one. */
export function parseProcessStat(line: string): ProcessStat | undefined {
  // The name is in parentheses and may hold spaces and parentheses itself: split after the last ')'.
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const number = (index: number): number => Number(fields[index] ?? Number.NaN);
  const ticks = number(11) + number(12) + number(13) + number(14);
  const stat = {
    pid: Number(line.slice(0, open)),
    ppid: number(1),
    comm: line.slice(open + 1, close),
    ticks,
  };
  return Number.isFinite(stat.pid) && Number.isFinite(stat.ppid) && Number.isFinite(ticks) ? stat : undefined;
}

/** Total and idle ticks of the whole machine from the `cpu` line of /proc/stat (iowait counts as idle). */
export function parseCpuLine(procStat: string): { totalTicks: number; idleTicks: number } {
  const line = procStat.split('\n').find((candidate) => candidate.startsWith('cpu ')) ?? '';
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return {
    totalTicks: user + nice + system + idle + iowait + irq + softirq + steal,
    idleTicks: idle + iowait,
  };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    // The process exited between the directory listing and the read.
    return undefined;
  }
}

/** Every process on the machine. */
export async function readProcessTable(): Promise<ProcessStat[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const stats = await Promise.all(pids.map((pid) => readText(`/proc/${pid}/stat`)));
  return stats.flatMap((text) => {
    const stat = text === undefined ? undefined : parseProcessStat(text);
    return stat ? [stat] : [];
  });
}

/** `pid` and every process below it. */
export function descendantsOf(table: readonly ProcessStat[], pid: number): Set<number> {
  const children = new Map<number, number[]>();
  for (const process of table)
    children.set(process.ppid, [...(children.get(process.ppid) ?? []), process.pid]);
  const found = new Set<number>([pid]);
  const queue = [pid];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const child of children.get(next) ?? []) {
      if (!found.has(child)) {
        found.add(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** The processes above `pid`, up to init. */
export function ancestorsOf(table: readonly ProcessStat[], pid: number): Set<number> {
  const parent = new Map(table.map((process) => [process.pid, process.ppid]));
  const found = new Set<number>();
  for (
    let next = parent.get(pid);
    next !== undefined && next > 0 && !found.has(next);
    next = parent.get(next)
  )
    found.add(next);
  return found;
}

const CLI_COMMAND = /(^|[\s/])lab\/cli(\/scenario|\/bench)?\.ts(\s|$)/;

/**
 * Other splitlab runs alive on this machine, by the pid of their lab process: a `lab/cli/scenario.ts`
 * (or bench) process, the parent of a `toxiproxy-server` (a local-runtime lab, a test's included), or
 * the owner of a labelled container. This process, its ancestors (`npm run` and its shell) and its
 * descendants are this lab; of a chain of candidates (`sh -c node lab/cli/scenario.ts`) the lowest
 * one stands for the run.
 */
export function findOtherLabs(
  table: readonly ProcessStat[],
  commandLines: ReadonlyMap<number, string>,
  containers: readonly LabContainer[],
  selfPid: number,
): number[] {
  const own = new Set([...descendantsOf(table, selfPid), ...ancestorsOf(table, selfPid)]);
  const alive = new Set(table.map((process) => process.pid));
  const candidates = new Set<number>();
  for (const process of table) {
    if (CLI_COMMAND.test(commandLines.get(process.pid) ?? '')) candidates.add(process.pid);
    // ppid 1: a leftover of a lab that died, not a lab.
    if (process.comm.startsWith('toxiproxy-serv') && process.ppid > 1) candidates.add(process.ppid);
  }
  for (const container of containers) if (alive.has(container.ownerPid)) candidates.add(container.ownerPid);
  const others = [...candidates].filter((pid) => !own.has(pid));
  // A candidate with another candidate below it is that run's shell or npm: keep the lowest.
  return others
    .filter((pid) => !others.some((other) => other !== pid && ancestorsOf(table, other).has(pid)))
    .sort((a, b) => a - b);
}

/**
 * Where the Docker engine's API answers: its unix socket (DOCKER_HOST=unix://..., else the default), or
 * a plain-TCP DOCKER_HOST. A remote engine's containers are listed too: when that engine in fact shares
 * this machine's kernel (a second engine in a network namespace, as the test setup makes), their
 * processes are found here and count as the lab's; on a real remote machine none are.
 */
function dockerEndpoint(): { socketPath: string } | { host: string; port: number } | undefined {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('tcp://')) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    return { host: url.hostname, port: Number(url.port || 2375) };
  }
  const path = host?.startsWith('unix://')
    ? host.slice('unix://'.length)
    : host
      ? undefined
      : '/var/run/docker.sock';
  return path !== undefined && existsSync(path) ? { socketPath: path } : undefined;
}

/**
 * Containers labelled as some splitlab run's, straight from the engine's API (no client library: one
 * GET). Empty without a Docker engine or when it does not answer in 500 ms.
 */
export function listLabContainers(): Promise<LabContainer[]> {
  const endpoint = dockerEndpoint();
  if (endpoint === undefined) return Promise.resolve([]);
  const filters = encodeURIComponent(JSON.stringify({ label: [`${LAB_LABEL}=true`] }));
  return new Promise((resolve) => {
    const request = http.get(
      { ...endpoint, path: `/containers/json?filters=${filters}`, timeout: 500 },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          try {
            const list = JSON.parse(body) as {
              Id: string;
              Labels?: Record<string, string>;
              Ports?: { PublicPort?: number }[];
            }[];
            resolve(
              list.map((entry) => ({
                id: entry.Id,
                ownerPid: Number(entry.Labels?.[OWNER_PID_LABEL] ?? Number.NaN),
                publicPorts: (entry.Ports ?? []).flatMap((port) =>
                  port.PublicPort ? [port.PublicPort] : [],
                ),
              })),
            );
          } catch {
            resolve([]);
          }
        });
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve([]));
  });
}

/**
 * Reads the machine once: its CPU ticks, this lab's (the process `selfPid` and its descendants, the
 * processes inside its own containers and the docker-proxy processes that forward their ports), and
 * the other labs alive.
 */
export async function readMachine(selfPid: number = process.pid): Promise<MachineSnapshot> {
  const [procStat, table, containers] = await Promise.all([
    readFile('/proc/stat', 'utf8'),
    readProcessTable(),
    listLabContainers(),
  ]);
  const atMs = performance.now();
  const ownContainers = containers.filter((container) => container.ownerPid === selfPid);
  const ownIds = ownContainers.map((container) => container.id);
  const ownPorts = new Set(ownContainers.flatMap((container) => container.publicPorts.map(String)));
  const lab = descendantsOf(table, selfPid);
  // Command lines only where they can matter: node (whose name reads `MainThread` on Node 24) and
  // shells (a CLI), docker-proxy (a lab's port).
  const commandLines = new Map<number, string>();
  await Promise.all(
    table
      .filter((process) => /^(node|MainThread|sh|bash|npm.*|docker-proxy)$/.test(process.comm))
      .map(async (process) => {
        const text = await readText(`/proc/${process.pid}/cmdline`);
        if (text !== undefined) commandLines.set(process.pid, text.replaceAll('\0', ' ').trim());
      }),
  );
  if (ownIds.length > 0) {
    await Promise.all(
      table
        .filter((process) => !lab.has(process.pid))
        .map(async (process) => {
          const cgroup = await readText(`/proc/${process.pid}/cgroup`);
          const forwardsOurPort =
            process.comm === 'docker-proxy' &&
            ownPorts.has(/-host-port (\d+)/.exec(commandLines.get(process.pid) ?? '')?.[1] ?? '');
          if (forwardsOurPort || (cgroup !== undefined && ownIds.some((id) => cgroup.includes(id))))
            lab.add(process.pid);
        }),
    );
  }
  const labTicks = table.reduce((sum, process) => (lab.has(process.pid) ? sum + process.ticks : sum), 0);
  return {
    atMs,
    ...parseCpuLine(procStat),
    labTicks,
    otherLabs: findOtherLabs(table, commandLines, containers, selfPid),
  };
}

/**
 * Shares (0..1) of the machine's CPU time between two readings: how much was busy, and how much of it
 * was this lab's. Null when no time passed between them.
 */
export function machineShares(
  from: MachineSnapshot,
  to: MachineSnapshot,
): { cpuBusy: number | null; labCpu: number | null } {
  const total = to.totalTicks - from.totalTicks;
  if (total <= 0) return { cpuBusy: null, labCpu: null };
  const clamp = (share: number): number => Math.round(Math.min(1, Math.max(0, share)) * 1000) / 1000;
  return {
    cpuBusy: clamp(1 - (to.idleTicks - from.idleTicks) / total),
    labCpu: clamp((to.labTicks - from.labTicks) / total),
  };
}
