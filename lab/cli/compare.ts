/**
 * `npm run compare -- <run A> <run B> [...]`: two or more runs side by side, in one page and one JSON
 * file. See docs/comparing-runs.md.
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildComparison, DEFAULT_RESAMPLES, DEFAULT_SEED } from '../compare/build-comparison.ts';
import { loadRuns } from '../compare/load-runs.ts';
import { DEFAULTS } from '../defaults.ts';
import { EXIT_USAGE_OR_SETUP, isLabError, LabError } from '../errors.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { checkReportsDirWritable } from '../report/check-reports-dir.ts';
import { renderComparisonPage } from '../report/render-comparison.ts';
import { formatFlags, toUsageError, type CliFlag } from './scenario-args.ts';

const COMPARE_FLAGS = {
  help: { type: 'boolean', short: 'h', usage: '--help', description: ['this text'] },
  out: {
    type: 'string',
    usage: '--out <dir>',
    description: ['where to write index.html and comparison.json (default: reports/compare-<time>/)'],
  },
  seed: {
    type: 'string',
    usage: '--seed <text>',
    description: [
      `the seed of the bootstrap's resampling (default: ${DEFAULT_SEED}); the same seed and`,
      'runs give the same verdicts',
    ],
  },
  resamples: {
    type: 'string',
    usage: '--resamples <n>',
    description: [`bootstrap resamples per phase (default: ${DEFAULT_RESAMPLES})`],
  },
} as const satisfies Record<string, CliFlag>;

const COMPARE_USAGE = `compare: two or more runs side by side, and which differences are beyond the noise.

Usage: npm run compare -- <run A> <run B> [<run C> ...] [options]

Each run is a report folder (reports/<run>) or the results.json in it; differences are against A.

Options:
${formatFlags(COMPARE_FLAGS)}

Exit codes: 0 written, 2 usage error (fewer than two runs, a missing folder, a file that is not a
results.json) or a results.json of an unsupported schema version.`;

/** The default output folder: reports/compare-<YYYY-MM-DD_HH-MM-SS>/, in UTC like the run folders. */
function defaultOutDir(now: Date): string {
  const stamp = now.toISOString().slice(0, 19).replace('T', '_').replaceAll(':', '-');
  return path.join(PROJECT_ROOT, DEFAULTS.reportsDir, `compare-${stamp}`);
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: COMPARE_FLAGS, strict: true, allowPositionals: true });
  } catch (error) {
    throw toUsageError(error, 'npm run compare');
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(COMPARE_USAGE);
    return 0;
  }
  const resamples = values.resamples === undefined ? DEFAULT_RESAMPLES : Number(values.resamples);
  if (!Number.isInteger(resamples) || resamples < 100 || resamples > 100_000) {
    throw new LabError(
      'USAGE',
      `--resamples ${values.resamples} should be a whole number from 100 to 100000, e.g. --resamples 2000`,
    );
  }
  const runs = await loadRuns(positionals);
  const now = new Date();
  const comparison = buildComparison(runs, { resamples, seed: values.seed ?? DEFAULT_SEED, now });
  const outDir = path.resolve(values.out ?? defaultOutDir(now));
  try {
    // Creates it one level at a time and writes a probe: mkdir -p can spin on a refused path.
    await checkReportsDirWritable(outDir);
  } catch (error) {
    const reason = (error as Error).cause ?? error;
    throw new LabError(
      'USAGE',
      `--out ${outDir} is not writable (${(reason as NodeJS.ErrnoException).code ?? (reason as Error).message}): ` +
        'give a folder you can write to, e.g. --out ./comparison',
      { cause: error },
    );
  }
  const jsonPath = path.join(outDir, 'comparison.json');
  const htmlPath = path.join(outDir, 'index.html');
  await writeAtomic(jsonPath, `${JSON.stringify(comparison, null, 2)}\n`);
  await writeAtomic(
    htmlPath,
    renderComparisonPage(
      comparison,
      runs.map((run) => run.results),
    ),
  );
  console.log(`comparison: ${htmlPath}\ndata: ${jsonPath}`);
  return 0;
}

// A browser tab that reloads never sees half a page.
async function writeAtomic(file: string, content: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content, 'utf8');
  await rename(temporary, file);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!isLabError(error)) throw error;
  console.error(`splitlab compare: ${error.code}: ${error.message}`);
  process.exitCode = EXIT_USAGE_OR_SETUP;
}
