/**
 * Where a running `npm run lab -- up` can be found: its control socket and its state file, both under
 * `.lab/interactive/` in the project. The state file is also the lock that keeps a second `up` from
 * starting: it is created exclusively, and a file whose process is gone (kill -9) is stale.
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LabError } from '../errors.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { isPidAlive } from '../runtime/child-process.ts';
import type { DeploymentName, RouteName } from '../vocabulary/topology.ts';

export interface ControlPaths {
  dir: string;
  socket: string;
  state: string;
}

/** `.lab/interactive/{control.sock,lab.json}` under `root` (the project's by default). */
export function controlPaths(root: string = PROJECT_ROOT): ControlPaths {
  const dir = path.join(root, '.lab', 'interactive');
  return { dir, socket: path.join(dir, 'control.sock'), state: path.join(dir, 'lab.json') };
}

/** What `.lab/interactive/lab.json` holds: enough for a person or a script to find everything. */
export interface LabState {
  pid: number;
  /** ISO time `up` started. */
  startedAt: string;
  /** `starting` until the deployment answers; `ready` after; `stopping` once Ctrl-C came. */
  status: 'starting' | 'ready' | 'stopping';
  deployment: DeploymentName;
  /** The runtime asked for (`auto` until it has chosen), then the one that runs. */
  runtime: string;
  load: boolean;
  socket: string;
  urls?: LabUrls;
}

export interface LabUrls {
  routes: Record<RouteName, string>;
  /** Each service's own /metrics (Prometheus text format; JSON at /metrics.json), not through Toxiproxy. */
  metrics: Record<string, string>;
  /** Toxiproxy's HTTP API, when the runtime says where it is. */
  toxiproxyApi?: string;
  /** The lab's DNS server, as the runtime describes it. */
  dns?: string;
  live?: string;
}

/** Whether `pid` is a running `lab.ts` (not some other process that got the pid of a dead lab). */
export function isLabProcess(pid: number): boolean {
  if (!isPidAlive(pid)) return false;
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return command.includes('lab.ts');
  } catch {
    // No /proc (not Linux): a live pid is taken at its word.
    return true;
  }
}

export async function readLabState(paths: ControlPaths): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(paths.state, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as LabState;
  } catch {
    // Written by rename, so never half a file; anything else is someone's edit: treat as no owner.
    return { pid: -1 } as LabState;
  }
}

/** Removes the socket and the state file (whoever left them). */
export async function removeControlFiles(paths: ControlPaths): Promise<void> {
  await rm(paths.socket, { force: true });
  await rm(paths.state, { force: true });
}

/** How a person stops the lab of `state`: what the refusal of a second `up` says. */
export function howToStop(state: LabState): string {
  return `stop it with Ctrl-C in its terminal, or kill ${state.pid} (SIGTERM: it tears everything down), then start again`;
}

/**
 * Takes the lab's lock: creates the state file exclusively. When one exists and its process still runs,
 * refuses (USAGE) with its pid and how to stop it; when its process is gone, the files are stale: they
 * are removed (and said so) and the lock is taken. The runtimes remove what such a lab left themselves.
 */
export async function claimLab(
  paths: ControlPaths,
  state: LabState,
  log: (line: string) => void,
): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  // Only the owner may reach the socket inside: file permissions, not the network, guard the lab.
  await chmod(paths.dir, 0o700);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = await open(paths.state, 'wx', 0o600);
      try {
        await file.writeFile(`${JSON.stringify(state, null, 2)}\n`);
      } finally {
        await file.close();
      }
      // Nobody owns the path now: a socket file there is a dead lab's.
      await rm(paths.socket, { force: true });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const existing = await readLabState(paths);
    if (existing && isLabProcess(existing.pid)) {
      throw new LabError(
        'USAGE',
        `a lab is already up (pid ${existing.pid}, ${existing.deployment} on ${existing.runtime}, ${existing.status} since ${existing.startedAt}); ` +
          `one at a time: ${howToStop(existing)}. npm run lab -- status shows it.`,
      );
    }
    log(
      `removed the control socket and state file of a lab that is gone (pid ${existing?.pid ?? 'unknown'}); ` +
        'the runtime removes what else it left when it starts',
    );
    await removeControlFiles(paths);
  }
  throw new LabError('USAGE', `could not take ${paths.state}: another lab keeps creating it; try again`);
}

/** Rewrites the state file in one step (write beside it, rename over it), so a reader never sees half. */
export async function writeLabState(paths: ControlPaths, state: LabState): Promise<void> {
  const next = `${paths.state}.${process.pid}.tmp`;
  await writeFile(next, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(next, paths.state);
}
