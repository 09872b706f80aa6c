/**
 * Finding and reading the runs `npm run compare` is given: a report folder or its results.json. Every
 * mistake becomes a {@link LabError} that names the argument and the fix.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { LabError } from '../errors.ts';
import { readRunResults } from '../report/read-results.ts';
import type { RunResults } from '../results.ts';

/** One run to compare, and the results.json it came from. */
export interface LoadedRun {
  source: string;
  results: RunResults;
}

const FIX = 'give a report folder (reports/<run>) or the results.json in it';

/**
 * The results.json an argument names: the argument itself when it is a file, `<folder>/results.json`
 * when it is a folder.
 *
 * @example await resultsPathOf('reports/2026-11-30_17-41-35_latency_5df7') // '.../results.json'
 */
export async function resultsPathOf(argument: string): Promise<string> {
  const given = path.resolve(argument);
  const kind = await stat(given).then(
    (found) => (found.isDirectory() ? 'folder' : 'file'),
    () => 'missing' as const,
  );
  if (kind === 'missing') {
    throw new LabError('USAGE', `${argument} does not exist: ${FIX} (see npm run compare -- --help)`);
  }
  if (kind === 'file') return given;
  const inside = path.join(given, 'results.json');
  if (
    !(await stat(inside).then(
      (found) => found.isFile(),
      () => false,
    ))
  ) {
    throw new LabError(
      'USAGE',
      `${argument} is a folder without a results.json, so it is not a run's report: ${FIX}. ` +
        'A run still in progress writes its results.json when it ends.',
    );
  }
  return inside;
}

/**
 * Reads each run. A file that is not a results.json is a USAGE error; a results.json of a schema
 * version this release cannot read keeps its `REPORT_SCHEMA_UNSUPPORTED` code, with the fix added.
 *
 * @example const runs = await loadRuns(['reports/a', 'reports/b/results.json']);
 */
export async function loadRuns(argumentsGiven: readonly string[]): Promise<LoadedRun[]> {
  if (argumentsGiven.length < 2) {
    throw new LabError(
      'USAGE',
      `compare needs at least two runs, got ${argumentsGiven.length}: ` +
        'npm run compare -- reports/<run A> reports/<run B> (the runs are listed in reports/index.html)',
    );
  }
  const runs: LoadedRun[] = [];
  for (const argument of argumentsGiven) {
    const source = await resultsPathOf(argument);
    try {
      runs.push({ source, results: await readRunResults(source) });
    } catch (error) {
      if (!(error instanceof LabError)) throw error;
      if (error.code === 'REPORT_SCHEMA_UNSUPPORTED') {
        throw new LabError(
          error.code,
          `${error.message}. Compare it with the splitlab release that wrote it, or re-run its scenario ` +
            'with this one.',
          { cause: error },
        );
      }
      if (error.code === 'REPORT_RESULTS_NOT_JSON' || error.code === 'REPORT_RESULTS_INVALID') {
        throw new LabError('USAGE', `${argument} is not a splitlab results.json (${error.message}): ${FIX}`, {
          cause: error,
        });
      }
      throw error;
    }
  }
  return runs;
}
