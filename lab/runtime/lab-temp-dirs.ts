import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPidAlive } from './child-process.ts';
import type { LabLog } from './runtime.ts';

/**
 * Every temp dir the lab makes is `splitlab-<kind>-<owner pid>-<random>` (kind: pg, gobin, image-<name>),
 * so the next start of any lab can tell a dead run's leftovers from a live lab's.
 */
const LAB_TEMP_DIR = /^splitlab-([a-z]+(?:-[a-z]+)*)-(\d+)-[A-Za-z0-9]{6}$/;

/** Creates `<tmp>/splitlab-<kind>-<this pid>-<random>`. */
export async function makeLabTempDir(kind: string, parent = os.tmpdir()): Promise<string> {
  return await mkdtemp(path.join(parent, `splitlab-${kind}-${process.pid}-`));
}

/** The kind and owner pid a lab temp dir's name carries, or undefined for any other name. */
export function parseLabTempDir(name: string): { kind: string; ownerPid: number } | undefined {
  const match = LAB_TEMP_DIR.exec(name);
  return match ? { kind: match[1] ?? '', ownerPid: Number(match[2]) } : undefined;
}

/** How long a leftover PostgreSQL gets for its immediate shutdown (SIGQUIT) before SIGKILL. */
const LEFTOVER_SHUTDOWN_MS = 3_000;

/**
 * Removes the temp dirs of lab processes that are gone (kill -9, power cut), after stopping the
 * PostgreSQL server still running in one; a live lab's dirs are left alone. Says what it removed.
 * Returns one line per removed dir.
 *
 * @example
 *   await reapDeadLabsTempDirs(console.log);
 */
export async function reapDeadLabsTempDirs(log: LabLog, parent = os.tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const owner = parseLabTempDir(name);
    if (!owner || isPidAlive(owner.ownerPid)) continue;
    const dir = path.join(parent, name);
    const server = owner.kind === 'pg' ? await stopLeftoverPostgres(dir) : '';
    await rm(dir, { recursive: true, force: true });
    removed.push(`${dir}${server}`);
  }
  if (removed.length > 0) {
    log(`removed what lab runs that died (kill -9, crash) left behind: ${removed.join('; ')}`);
  }
  return removed;
}

/** Stops the server of a leftover data dir, if it still runs; says what it found. */
async function stopLeftoverPostgres(dir: string): Promise<string> {
  const pid = Number(
    (await readFile(path.join(dir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0],
  );
  if (!isPidAlive(pid)) return ' (PostgreSQL data; its server had stopped)';
  // A pid can be reused: only a postgres serving this very directory is stopped.
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!command.includes(dir)) return ' (PostgreSQL data; its server had stopped)';
  // SIGQUIT: immediate shutdown; the postmaster ends its backends and frees its shared memory.
  process.kill(pid, 'SIGQUIT');
  const deadline = Date.now() + LEFTOVER_SHUTDOWN_MS;
  while (isPidAlive(pid) && Date.now() < deadline) await sleep(50);
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  return ` (PostgreSQL data; stopped its server, pid ${pid})`;
}
