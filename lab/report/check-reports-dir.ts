/**
 * The reports folder is checked before a run starts: a run that cannot write its report at the end
 * has been lost (measured before this check: `--reports-dir /proc/nope` ran a whole scenario first).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LabError } from '../errors.ts';

/**
 * Creates `reportsDir` if needed, then writes and removes a probe file in it. Throws a USAGE error
 * (exit code 2) naming the folder and the fix when it cannot.
 *
 * @example await checkReportsDirWritable('/home/me/splitlab/reports');
 */
export async function checkReportsDirWritable(reportsDir: string): Promise<void> {
  const probe = path.join(
    reportsDir,
    `.splitlab-write-probe-${process.pid}-${randomBytes(3).toString('hex')}`,
  );
  try {
    await makeDirectories(reportsDir);
    await writeFile(probe, 'splitlab checks that it can write its report here\n');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new LabError(
      'USAGE',
      `--reports-dir ${reportsDir} is not writable (${reason}), so the report would be lost at the end ` +
        'of the run; nothing was started. Give a folder you can write to (e.g. --reports-dir ./reports) ' +
        'or fix its permissions.',
      { cause: error },
    );
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}

/**
 * `mkdir -p`, one level at a time. Not `mkdir(dir, { recursive: true })`: on Node 24.21 that spins
 * forever at 70 % of a core for a path whose parent exists but refuses the new folder (measured:
 * `/proc/nope` never returned in 3 s, and a CLI run spun for minutes), where a plain mkdir fails at
 * once with ENOENT.
 */
export async function makeDirectories(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = path.dirname(dir);
    const parentExists = await stat(parent).then(
      () => true,
      () => false,
    );
    if (code !== 'ENOENT' || parent === dir || parentExists) throw error;
    await makeDirectories(parent);
    await mkdir(dir).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}
