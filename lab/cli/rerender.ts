/**
 * Re-renders the report of an old run from its results.json, and refreshes the runs index beside it.
 *
 *   npm run rerender -- reports/<run>            # or reports/<run>/results.json
 */
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isReportError } from '../report/read-results.ts';
import { renderRunReportFromFile, writeRunsIndex } from '../report/write-report.ts';

const target = process.argv[2];
if (target === undefined || target === '--help' || target === '-h') {
  console.error('usage: npm run rerender -- <run folder | results.json>');
  process.exitCode = 2;
} else {
  const jsonPath = basename(target) === 'results.json' ? target : join(target, 'results.json');
  const runDir = dirname(jsonPath);
  try {
    const htmlPath = join(runDir, 'index.html');
    await writeFile(htmlPath, await renderRunReportFromFile(jsonPath), 'utf8');
    const indexPath = await writeRunsIndex(dirname(runDir));
    console.log(`report: ${htmlPath}\nruns index: ${indexPath}`);
  } catch (error) {
    if (!isReportError(error)) throw error;
    console.error(`${error.code}: ${error.message}`);
    process.exitCode = 1;
  }
}
