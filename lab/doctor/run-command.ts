import { execFile } from 'node:child_process';

export type CommandOutcome =
  | { ok: true; stdout: string; stderr: string }
  /** `output`: what the command printed (stderr, then stdout), for a caller that reads more than `problem`. */
  | { ok: false; problem: string; notFound: boolean; output: string };

/**
 * Runs a short command (`postgres --version`) and says what happened in words: its output, or "not
 * found", "no answer within 4 s", "exit 1: <last line of stderr>". The child is killed when `signal`
 * aborts or the timeout is over, so nothing outlives doctor.
 *
 * @example
 *   const outcome = await runCommand('go', ['version'], { timeoutMs: 4000 });
 */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; signal?: AbortSignal; uid?: number; gid?: number; env?: NodeJS.ProcessEnv },
): Promise<CommandOutcome> {
  return await new Promise((resolve) => {
    execFile(
      command,
      [...args],
      {
        encoding: 'utf8',
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 1024 * 1024,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.uid !== undefined ? { uid: options.uid } : {}),
        ...(options.gid !== undefined ? { gid: options.gid } : {}),
        ...(options.env ? { env: options.env } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ ok: true, stdout, stderr });
          return;
        }
        const failure = error as NodeJS.ErrnoException & { killed?: boolean; code?: string | number | null };
        if (failure.code === 'ENOENT') {
          resolve({ ok: false, problem: `${command} not found`, notFound: true, output: '' });
        } else if (failure.killed || failure.name === 'AbortError') {
          resolve({
            ok: false,
            problem: `no answer within ${(options.timeoutMs / 1000).toFixed(0)} s`,
            notFound: false,
            output: `${stderr}${stdout}`,
          });
        } else {
          const lastLine = `${stderr}\n${stdout}`.trim().split('\n').at(-1)?.trim() || failure.message;
          const how =
            typeof failure.code === 'number' ? `exit ${failure.code}` : String(failure.code ?? 'failed');
          resolve({
            ok: false,
            problem: `${how}: ${lastLine}`,
            notFound: false,
            output: `${stderr}${stdout}`,
          });
        }
      },
    );
  });
}

/** The first line of a command's output, trimmed: what `--version` answers. */
export function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}
