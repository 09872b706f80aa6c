/**
 * The other end of the local runtime's lifeline (see lifeline.ts), run as its own small process in its
 * own session. It reads `hold <pid> <signal>` and `release <pid>` lines on stdin, a pipe whose only
 * writer is the lab. When that pipe closes (the lab stopped, crashed or got `kill -9`), it ends every
 * process group it still holds: the first signal to the group's leader (SIGQUIT makes PostgreSQL shut
 * down at once and clean up its shared memory), then, once every leader has ended or the grace is over,
 * SIGKILL to whatever of each group is left.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** How long a held process gets to act on its first signal before the whole group is SIGKILLed. */
const GRACE_MS = 2_000;

const held = new Map<number, NodeJS.Signals>();

function signal(target: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(target, name);
    return true;
  } catch {
    return false; // ESRCH: gone already
  }
}

/**
 * Whether a held process still runs. Once the lab is dead its children belong to init, which may take
 * its time to reap them: a zombie has finished and must not hold up the rest (measured here: waiting
 * on zombies made every kill -9 take the full grace, 1.9 s instead of about 0.1 s).
 */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch (error) {
    // No /proc (not Linux): ask the kernel; ENOENT on Linux: the process is gone.
    return (error as NodeJS.ErrnoException).code === 'ENOENT' && process.platform !== 'linux'
      ? signal(pid, 0)
      : false;
  }
}

async function endEverythingHeld(): Promise<void> {
  for (const [pid, first] of held) {
    if (first === 'SIGKILL') signal(-pid, 'SIGKILL');
    else signal(pid, first);
  }
  const deadline = Date.now() + GRACE_MS;
  while ([...held.keys()].some(running) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const pid of held.keys()) signal(-pid, 'SIGKILL');
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [command, pidText, signalName] = line.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return;
  if (command === 'hold') held.set(pid, (signalName ?? 'SIGKILL') as NodeJS.Signals);
  else if (command === 'release') held.delete(pid);
});
// EOF or an error on the pipe both mean the lab is gone.
lines.on('close', () => void endEverythingHeld());
process.stdin.on('error', () => void endEverythingHeld());
