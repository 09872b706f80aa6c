import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { parseLabTempDir } from '../../../lab/runtime/lab-temp-dirs.ts';

/** pid -> parent pid, read from /proc (Linux). */
function parentsByPid(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may contain spaces and parentheses; the fields after the last ')' are fixed.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // the process ended while we looked
    }
  }
  return parents;
}

/** Every live descendant of `rootPid`, with its command line. */
export function descendantsOf(rootPid: number): { pid: number; command: string }[] {
  const parents = parentsByPid();
  const found: { pid: number; command: string }[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [pid, ppid] of parents) {
      if (ppid !== parent) continue;
      queue.push(pid);
      let command = '';
      try {
        command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      } catch {
        command = '(gone)';
      }
      found.push({ pid, command });
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie has exited; it only waits for its parent to read its status.
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** TCP ports in LISTEN state on this machine (from /proc/net/tcp and tcp6). */
export function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns[3] !== '0A') continue; // 0A = LISTEN
      const port = Number.parseInt(columns[1]?.split(':')[1] ?? '', 16);
      if (Number.isFinite(port)) ports.add(port);
    }
  }
  return ports;
}

/**
 * The lab temp dirs (`splitlab-<kind>-<pid>-<random>`) owned by these pids: a test looks only at its own
 * lab's, since other labs on the machine (other test runs) come and go meanwhile.
 */
export function labTempDirsOf(...ownerPids: number[]): string[] {
  return readdirSync(os.tmpdir()).filter((entry) => {
    const owner = parseLabTempDir(entry);
    return owner !== undefined && ownerPids.includes(owner.ownerPid);
  });
}
