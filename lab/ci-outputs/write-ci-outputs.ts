/**
 * Writing the CI outputs: `--junit <file>`, `--summary-md <file>`, and GitHub's job summary when
 * GITHUB_STEP_SUMMARY names a file. The files the user asked for are checked before anything starts,
 * like the reports folder: a run whose JUnit file cannot be written would be lost to CI at its end.
 */
import { appendFile, open, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeDirectories } from '../report/check-reports-dir.ts';
import { LabError } from '../errors.ts';
import type { LabLog } from '../runtime/runtime.ts';
import type { CiRun } from './ci-run.ts';
import { renderJUnit } from './junit.ts';
import { renderSummaryMarkdown } from './summary-markdown.ts';

export interface CiOutputFiles {
  /** `--junit <file>`: written (replaced) with the JUnit XML. */
  junitFile?: string;
  /** `--summary-md <file>`: written (replaced) with the Markdown summary. */
  summaryMarkdownFile?: string;
  /** GITHUB_STEP_SUMMARY: the same Markdown, appended (other steps write there too). */
  stepSummaryFile?: string;
}

/** The files asked for on the command line, each with the flag that named it (for its error). */
function requestedFiles(files: CiOutputFiles): { flag: string; file: string }[] {
  return [
    ...(files.junitFile !== undefined ? [{ flag: '--junit', file: files.junitFile }] : []),
    ...(files.summaryMarkdownFile !== undefined
      ? [{ flag: '--summary-md', file: files.summaryMarkdownFile }]
      : []),
  ];
}

/**
 * Checks, before anything starts, that each file asked for can be written: its folder is created when
 * missing (`--junit test-results/splitlab.xml`), and the file is opened for appending, then left as it
 * was. Throws a USAGE error (exit code 2) naming the flag, the file and the fix.
 *
 * @example await checkCiOutputsWritable({ junitFile: 'test-results/splitlab.xml' });
 */
export async function checkCiOutputsWritable(files: CiOutputFiles): Promise<void> {
  for (const { flag, file } of requestedFiles(files)) {
    const existed = await stat(file).then(
      (found) => (found.isDirectory() ? 'directory' : 'file'),
      () => 'none' as const,
    );
    if (existed === 'directory')
      throw new LabError(
        'USAGE',
        `${flag} ${file} is a folder; give a file name, e.g. ${flag} ${path.join(file, flag === '--junit' ? 'splitlab.xml' : 'splitlab.md')}`,
      );
    try {
      await makeDirectories(path.dirname(path.resolve(file)));
      await (await open(file, 'a')).close();
      if (existed === 'none') await rm(file, { force: true });
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new LabError(
        'USAGE',
        `${flag} ${file} cannot be written (${reason}), so CI would get nothing at the end of the run; ` +
          'nothing was started. Give a path in a folder you can write to, or fix its permissions.',
        { cause: error },
      );
    }
  }
}

/**
 * Writes the JUnit file, the Markdown summary and appends to GitHub's job summary, as asked. A file
 * the user asked for that cannot be written is a USAGE error; GitHub's summary is best effort (a line
 * in the log), since the runner, not the user, provides it.
 */
export async function writeCiOutputs(
  files: CiOutputFiles,
  runs: readonly CiRun[],
  log: LabLog,
): Promise<void> {
  if (runs.length === 0) return;
  const outputs: { flag: string; file: string; text: () => string }[] = [];
  if (files.junitFile !== undefined)
    outputs.push({
      flag: '--junit',
      file: files.junitFile,
      text: () => renderJUnit(runs, { hostname: os.hostname() }),
    });
  if (files.summaryMarkdownFile !== undefined)
    outputs.push({
      flag: '--summary-md',
      file: files.summaryMarkdownFile,
      text: () => renderSummaryMarkdown(runs),
    });
  for (const output of outputs) {
    try {
      await writeFile(output.file, output.text());
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new LabError(
        'USAGE',
        `${output.flag} ${output.file} could not be written at the end of the run (${reason}); the reports ` +
          'are written. Free the disk or fix the permissions, and run again.',
        { cause: error },
      );
    }
    log(`wrote ${output.flag === '--junit' ? 'JUnit XML' : 'the Markdown summary'} to ${output.file}`);
  }
  if (files.stepSummaryFile) {
    try {
      await appendFile(files.stepSummaryFile, `${renderSummaryMarkdown(runs)}\n`);
    } catch (error) {
      log(
        `GITHUB_STEP_SUMMARY ${files.stepSummaryFile} could not be appended to (${(error as Error).message}); the job summary stays without splitlab's verdict`,
      );
    }
  }
}
