import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../lab/project-root.ts';

/** A CLI of the lab running as a child process: its output so far and how it ended. */
export interface RunningCli {
  cli: ChildProcessWithoutNullStreams;
  exited: Promise<number | null>;
  output(): string;
  /** Resolves once the output (stdout and stderr) contains `text`; rejects when the process exits first. */
  sawOutput(text: string): Promise<void>;
}

/**
 * Starts `node <script> <args>` with the project's Node 24, from the project root, with the cheap scrypt
 * cost the integration tests use, collecting stdout and stderr together as a person sees them.
 *
 * @example const up = startCli('lab/cli/lab.ts', ['up', '--load']); await up.sawOutput('ready:');
 */
export function startCli(script: string, args: readonly string[]): RunningCli {
  const cli = spawn(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node'), [script, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, SCRYPT_N: '1024' },
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  cli.stdout.on('data', onData);
  cli.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
  return {
    cli,
    exited,
    output: () => output,
    sawOutput: (text) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (output.includes(text)) resolve();
        };
        listeners.add(check);
        check();
        void exited.then((code) =>
          reject(new Error(`${script} exited (${code}) before printing "${text}":\n${output}`)),
        );
      }),
  };
}
