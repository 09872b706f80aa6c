/**
 * Writing reports to disk: one folder per run (`index.html` + `results.json`) and an index of all runs.
 */
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResults } from '../results.ts';
import { readRunResults } from './read-results.ts';
import { renderRunsIndex, type RunIndexEntry, type RunIndexProblem } from './render-index.ts';
import { renderRunReport } from './render-run.ts';

/**
 * Writes `results.json` (pretty-printed) and `index.html` into `runDir`, creating it if needed.
 *
 * @example
 * const { htmlPath } = await writeRunReport('reports/2026-11-25T12-05-03-partition', results);
 */
export async function writeRunReport(
  runDir: string,
  results: RunResults,
): Promise<{ htmlPath: string; jsonPath: string }> {
  await mkdir(runDir, { recursive: true });
  const jsonPath = join(runDir, 'results.json');
  const htmlPath = join(runDir, 'index.html');
  // Data first: if rendering throws, the run's numbers are still on disk and can be re-rendered.
  await writeFileAtomic(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  await writeFileAtomic(htmlPath, renderRunReport(results));
  return { htmlPath, jsonPath };
}

/**
 * Renders the report page of an old run from its results.json.
 *
 * @example const page = await renderRunReportFromFile('reports/old-run/results.json');
 */
export async function renderRunReportFromFile(resultsJsonPath: string): Promise<string> {
  return renderRunReport(await readRunResults(resultsJsonPath));
}

/**
 * Scans `reportsDir/<run>/results.json` and writes `reportsDir/index.html`, newest run first. Folders
 * without results.json are ignored (a run still in progress); a results.json that cannot be read or
 * parsed is listed as skipped on the page instead of failing the whole index.
 *
 * @example const indexPath = await writeRunsIndex('reports');
 */
export async function writeRunsIndex(reportsDir: string): Promise<string> {
  const { runs, problems } = await collectRuns(reportsDir);
  await mkdir(reportsDir, { recursive: true });
  const indexPath = join(reportsDir, 'index.html');
  await writeFileAtomic(indexPath, renderRunsIndex(runs, problems));
  return indexPath;
}

/**
 * Writes a page for one batch of runs (`npm run scenario -- all`) beside the run folders, so its links
 * are the same relative links as the runs index's.
 *
 * @example await writeBatchIndex('reports', 'all-2026-11-25', runIds, 'All scenarios')
 */
export async function writeBatchIndex(
  reportsDir: string,
  name: string,
  runIds: readonly string[],
  heading: string,
): Promise<string> {
  const { runs } = await collectRuns(reportsDir);
  const batch = runs.filter((run) => runIds.includes(run.dir));
  const held = batch.filter((run) => run.results.hypothesis.held).length;
  const pagePath = join(reportsDir, `${name}.html`);
  await writeFileAtomic(
    pagePath,
    renderRunsIndex(batch, [], { heading, intro: `${held} of ${batch.length} hypotheses held.` }),
  );
  return pagePath;
}

/**
 * Reads every run's results in a reports folder, never throwing on one bad run.
 *
 * @example const { runs, problems } = await collectRuns('reports');
 */
export async function collectRuns(
  reportsDir: string,
): Promise<{ runs: RunIndexEntry[]; problems: RunIndexProblem[] }> {
  const runs: RunIndexEntry[] = [];
  const problems: RunIndexProblem[] = [];
  let dirs: string[];
  try {
    const entries = await readdir(reportsDir, { withFileTypes: true });
    dirs = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { runs, problems };
    throw error;
  }
  for (const dir of dirs.sort()) {
    const path = join(reportsDir, dir, 'results.json');
    if (!(await exists(path))) continue;
    try {
      runs.push({ dir, results: await readRunResults(path) });
    } catch (error) {
      problems.push({ dir, message: (error as Error).message.replaceAll(path, 'results.json') });
    }
  }
  return { runs, problems };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

// A reader (a browser tab, the runs index) never sees half a file.
async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content, 'utf8');
  await rename(temporary, path);
}
