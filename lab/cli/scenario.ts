/**
 * `npm run scenario -- <name>`: runs one scenario on both deployments, writes the report, prints a
 * summary, and exits 0 when the hypothesis held, 1 when it did not, 2 on usage or set-up errors, 3 when
 * the run is invalid (the lab could not do what the scenario asked: a fault not observed, a dependency
 * of the lab died; the report is still written), 130 when interrupted (no report).
 */
import path from 'node:path';
import { parseCliArgs, USAGE } from './scenario-args.ts';
import { DEFAULTS } from '../defaults.ts';
import {
  EXIT_HYPOTHESIS_FAILED,
  EXIT_HYPOTHESIS_HELD,
  EXIT_RUN_INVALID,
  EXIT_USAGE_OR_SETUP,
  isLabError,
} from '../errors.ts';
import { chooseRuntime } from '../runtime/choose-runtime.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { checkReportsDirWritable } from '../report/check-reports-dir.ts';
import { writeBatchIndex, writeRunReport, writeRunsIndex } from '../report/write-report.ts';
import { formatSummary } from './summary.ts';
import { validityReasons } from '../scenario/judge-validity.ts';
import { listScenarioNames, loadScenario } from '../scenario/registry.ts';
import { runScenario } from '../scenario/run-scenario.ts';

const EXIT_INTERRUPTED = 130;

const log = (line: string): void => console.error(`splitlab: ${line}`);

/** Ctrl-C (or SIGTERM) aborts the run, which then tears down everything it started. */
function abortOnSignals(controller: AbortController): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (controller.signal.aborted) {
        log('second interrupt: exiting now; some processes may be left behind');
        process.exit(EXIT_INTERRUPTED);
      }
      log(`${signal}: stopping the run and tearing everything down ...`);
      controller.abort();
    });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseCliArgs(argv);
  if (options.command === 'help') {
    console.log(USAGE);
    return EXIT_HYPOTHESIS_HELD;
  }
  const scenariosDir = path.resolve(options.scenariosDir ?? path.join(PROJECT_ROOT, 'scenarios'));
  if (options.command === 'list') {
    for (const name of await listScenarioNames(scenariosDir)) {
      const scenario = await loadScenario(scenariosDir, name);
      console.log(`${name.padEnd(22)} ${scenario.title}`);
    }
    return EXIT_HYPOTHESIS_HELD;
  }
  const names = options.command === 'all' ? await listScenarioNames(scenariosDir) : [options.scenario ?? ''];
  // Load (and so validate) every scenario before anything starts.
  const scenarios = [];
  for (const name of names) scenarios.push(await loadScenario(scenariosDir, name));
  // Before anything starts: a report that cannot be written would lose the whole run at its end.
  const reportsDir = path.resolve(options.reportsDir ?? path.join(PROJECT_ROOT, DEFAULTS.reportsDir));
  await checkReportsDirWritable(reportsDir);
  const controller = new AbortController();
  runInProgress = controller;
  abortOnSignals(controller);
  const runtime = await chooseRuntime(options.runtime, { log });
  const verdicts: {
    name: string;
    held: boolean;
    invalid: boolean;
    runId: string;
    htmlPath: string;
  }[] = [];
  for (const scenario of scenarios) {
    log(`scenario ${scenario.name}: ${scenario.title}`);
    log(
      `timeline ${scenario.durationS} s per deployment, run one after the other: ${scenario.variants.map((variant) => variant.name).join(', ')}`,
    );
    const results = await runScenario(scenario, { runtime, log, signal: controller.signal });
    const { htmlPath } = await writeRunReport(path.join(reportsDir, results.runId), results);
    await writeRunsIndex(reportsDir);
    console.log(formatSummary(results));
    console.log(`\nReport: ${htmlPath}`);
    const invalid = results.validity?.status === 'invalid';
    if (invalid) {
      const { shown } = validityReasons(results.validity ?? { status: 'invalid', problems: [] }, 3);
      log(`the run is INVALID (exit code ${EXIT_RUN_INVALID}): ${shown.join('; ')}`);
    }
    verdicts.push({
      name: scenario.name,
      held: results.hypothesis.held,
      invalid,
      runId: results.runId,
      htmlPath,
    });
  }
  if (options.command === 'all') {
    const batchName = `all-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
    const page = await writeBatchIndex(
      reportsDir,
      batchName,
      verdicts.map((verdict) => verdict.runId),
      'All scenarios',
    );
    console.log('\nAll scenarios:');
    for (const verdict of verdicts) {
      const word = verdict.invalid ? 'INVALID' : verdict.held ? 'HELD' : 'FAILED';
      console.log(`  ${word.padEnd(7)} ${verdict.name.padEnd(22)} ${verdict.htmlPath}`);
    }
    console.log(`\nIndex: ${page}`);
  }
  if (verdicts.some((verdict) => verdict.invalid)) return EXIT_RUN_INVALID;
  return verdicts.every((verdict) => verdict.held) ? EXIT_HYPOTHESIS_HELD : EXIT_HYPOTHESIS_FAILED;
}

/** Set once a run starts: what a closed output pipe must abort, so the teardown still runs. */
let runInProgress: AbortController | undefined;

// `npm run scenario -- --list | head` closes our output early; that is not an error worth a stack trace.
// During a run (`... partition | head`) it must not kill the process either: that would leave PostgreSQL,
// Toxiproxy and the services (or containers) running. The run is aborted as by Ctrl-C and tears down.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    if (!runInProgress) process.exit(process.exitCode ?? 0);
    if (!runInProgress.signal.aborted) runInProgress.abort();
  });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (isLabError(error)) {
    console.error(`splitlab: ${error.message} [${error.code}]`);
    process.exitCode = error.code === 'INTERRUPTED' ? EXIT_INTERRUPTED : EXIT_USAGE_OR_SETUP;
  } else {
    console.error('splitlab: unexpected error:', error);
    process.exitCode = EXIT_USAGE_OR_SETUP;
  }
}
