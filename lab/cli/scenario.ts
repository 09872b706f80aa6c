/**
 * `npm run scenario -- <name>`: runs one scenario on both deployments, writes the report, prints a
 * summary, and exits 0 when the hypothesis held, 1 when it did not, 2 on usage or set-up errors, 3 when
 * the run is invalid (the lab could not do what the scenario asked: a fault not observed, a dependency
 * of the lab died; the report is still written), 130 when interrupted (no report).
 *
 * `--predict` / `--predictions` record guesses before anything starts; `--live` serves the run's live
 * view; on a terminal, a progress block (progress.ts) shows where the run is. `--junit` and
 * `--summary-md` (and GITHUB_STEP_SUMMARY) give CI the verdict once every run is done (lab/ci-outputs/).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createProgress } from './progress.ts';
import { parseCliArgs, USAGE, type CliOptions } from './scenario-args.ts';
import { DEFAULTS } from '../defaults.ts';
import {
  EXIT_HYPOTHESIS_FAILED,
  EXIT_HYPOTHESIS_HELD,
  EXIT_RUN_INVALID,
  EXIT_USAGE_OR_SETUP,
  isLabError,
  LabError,
} from '../errors.ts';
import { chooseRuntime } from '../runtime/choose-runtime.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { checkReportsDirWritable, makeDirectories } from '../report/check-reports-dir.ts';
import { writeBatchIndex, writeRunReport, writeRunsIndex } from '../report/write-report.ts';
import { formatSummary } from './summary.ts';
import { validityReasons } from '../scenario/judge-validity.ts';
import { listScenarioNames, loadScenario } from '../scenario/registry.ts';
import { runScenario } from '../scenario/run-scenario.ts';
import { startLifeline } from '../runtime/local/lifeline.ts';
import { jaegerBinaryPath, locateJaeger, startJaeger } from '../tracing/jaeger.ts';
import type { Scenario } from '../scenario/define-scenario.ts';
import { fanOut, type RunWatcher } from '../live/run-events.ts';
import { startLiveServer, type LiveServer } from '../live/live-server.ts';
import { askPredictionsOnTerminal } from '../predictions/ask-predictions.ts';
import { readPredictionsFile } from '../predictions/predictions-file.ts';
import { predictionsLine, scorePredictions } from '../predictions/score-predictions.ts';
import type { Predictions, RunResults } from '../results.ts';
import type { CiRun } from '../ci-outputs/ci-run.ts';
import {
  checkCiOutputsWritable,
  writeCiOutputs,
  type CiOutputFiles,
} from '../ci-outputs/write-ci-outputs.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { summarizeRepeats } from '../repeat/summarize-repeats.ts';
import { renderRepeatPage } from '../report/render-repeat.ts';

const EXIT_INTERRUPTED = 130;

/** After a `--live` run, the live view stays up this long so its viewers can follow the report link. */
const LIVE_LINGER_MS = 30_000;

/** Log lines go to stderr; once the run's progress block exists, above it. */
let writeLogLine = (line: string): void => console.error(line);
const log = (line: string): void => writeLogLine(`splitlab: ${line}`);

/** Set while a `--live` run's view lingers after the run: Ctrl-C then leaves at once. */
let lingering: AbortController | undefined;

/** Ctrl-C (or SIGTERM) aborts the run, which then tears down everything it started. */
function abortOnSignals(controller: AbortController): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (lingering) {
        if (!lingering.signal.aborted) log(`${signal}: closing the live view and leaving now`);
        lingering.abort();
        return;
      }
      if (controller.signal.aborted) {
        log('second interrupt: exiting now; some processes may be left behind');
        process.exit(EXIT_INTERRUPTED);
      }
      log(`${signal}: stopping the run and tearing everything down ...`);
      controller.abort();
    });
  }
}

/**
 * The predictions of each scenario, before anything starts: read and checked from `--predictions`, or
 * asked on the terminal for `--predict`; none otherwise.
 */
async function gatherPredictions(
  options: CliOptions,
  scenarios: readonly Scenario[],
  scenariosDir: string,
): Promise<Map<string, Predictions>> {
  if (options.predictionsFile !== undefined)
    return await readPredictionsFile(
      options.predictionsFile,
      scenarios,
      await listScenarioNames(scenariosDir),
    );
  if (options.predict) return await askPredictionsOnTerminal(scenarios);
  return new Map();
}

/** Waits `ms`, or less when `signal` aborts. */
function lingerFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

interface ScenarioVerdict {
  name: string;
  held: boolean;
  invalid: boolean;
  runId: string;
  htmlPath: string;
  results: RunResults;
}

/** The CI outputs asked for: the flags, and GitHub's job summary when the runner names one. */
function ciOutputFiles(options: CliOptions): CiOutputFiles {
  const stepSummary = process.env.GITHUB_STEP_SUMMARY;
  return {
    ...(options.junitFile !== undefined ? { junitFile: options.junitFile } : {}),
    ...(options.summaryMarkdownFile !== undefined
      ? { summaryMarkdownFile: options.summaryMarkdownFile }
      : {}),
    ...(stepSummary ? { stepSummaryFile: stepSummary } : {}),
  };
}

/** A report's path as CI shows it: relative to where the command ran (the job's checkout), when inside it. */
function ciRun(verdict: ScenarioVerdict): CiRun {
  const relative = path.relative(process.cwd(), verdict.htmlPath);
  const inside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return { results: verdict.results, reportPath: inside ? relative : verdict.htmlPath };
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
  const scenarios: Scenario[] = [];
  for (const name of names) scenarios.push(await loadScenario(scenariosDir, name));
  // Before anything starts: a report that cannot be written would lose the whole run at its end.
  const reportsDir = path.resolve(options.reportsDir ?? path.join(PROJECT_ROOT, DEFAULTS.reportsDir));
  await checkReportsDirWritable(reportsDir);
  const ciFiles = ciOutputFiles(options);
  await checkCiOutputsWritable(ciFiles);
  // Predict, then run: the guesses are made (or read and checked) before anything starts.
  const predictions = await gatherPredictions(options, scenarios, scenariosDir);
  // --repeat n: each scenario n times in a row (with `all`, each scenario's n runs before the next's).
  const repeat = options.repeat ?? 1;
  const runs = scenarios.flatMap((scenario) => Array.from({ length: repeat }, () => scenario));
  const batch = runs.length > 1;
  const progress = createProgress(process.stderr, {
    ...(batch ? { deploymentsPerScenario: runs.map((scenario) => scenario.variants.length) } : {}),
  });
  writeLogLine = (line) => progress.log(line);
  let live: LiveServer | undefined;
  // Before anything starts: --jaeger without the binary is a set-up error with its fix.
  if (options.jaeger && !(await locateJaeger()))
    throw new LabError(
      'TOOL_MISSING',
      `--jaeger needs Jaeger, which is not installed (${jaegerBinaryPath()}); install it once with npm run setup -- --jaeger`,
    );
  await using traceBackends = new AsyncDisposableStack();
  try {
    const traceForwarding = await startTraceBackends(options, traceBackends);
    if (options.live) {
      live = await startLiveServer({ ...options.live, log });
      console.log(`Live view: ${live.url}`);
    }
    const watcher = fanOut([progress.watcher, live?.watcher]);
    const controller = new AbortController();
    runInProgress = controller;
    abortOnSignals(controller);
    let verdicts: ScenarioVerdict[];
    try {
      verdicts = await runScenarios(runs, {
        runtime: await chooseRuntime(options.runtime, {
          log,
          ...(options.generator ? { containers: { generator: options.generator } } : {}),
        }),
        traceForwarding,
        reportsDir,
        predictions,
        watcher,
        signal: controller.signal,
        batch,
      });
    } catch (error) {
      // The live view's viewers learn why there is no report (Ctrl-C, a set-up error): its close()
      // sends what is pending before it ends their streams.
      watcher.emit({ type: 'run-finished', verdict: null, error: errorMessage(error) });
      throw error;
    }
    if (options.command === 'all') await writeBatchPage(reportsDir, verdicts);
    if (repeat > 1) await writeRepeatPages(reportsDir, verdicts);
    await writeCiOutputs(ciFiles, verdicts.map(ciRun), log);
    if (live && verdicts.length > 0) {
      progress.stop();
      log(
        `the live view stays up ${LIVE_LINGER_MS / 1000} s so its viewers can open the report (${live.url}); Ctrl-C leaves now`,
      );
      lingering = new AbortController();
      await lingerFor(LIVE_LINGER_MS, lingering.signal);
    }
    if (verdicts.some((verdict) => verdict.invalid)) return EXIT_RUN_INVALID;
    return verdicts.every((verdict) => verdict.held) ? EXIT_HYPOTHESIS_HELD : EXIT_HYPOTHESIS_FAILED;
  } finally {
    progress.stop();
    writeLogLine = (line) => console.error(line);
    await live?.close();
  }
}

type TraceForwarding = { name: string; endpoint: string };

/**
 * Where the services' spans go besides the lab's own collector: a Jaeger started for this run
 * (`--jaeger`, stopped with `stack`) and any backend the standard OTEL_EXPORTER_OTLP_ENDPOINT names.
 */
async function startTraceBackends(
  options: CliOptions,
  stack: AsyncDisposableStack,
): Promise<TraceForwarding[]> {
  const forwarding: TraceForwarding[] = [];
  const endpoint = process.env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  if (endpoint) {
    forwarding.push({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', endpoint });
    log(`spans also go to OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint}`);
  }
  if (options.jaeger) {
    // Jaeger dies with the lab even on kill -9: the lifeline holds its process group.
    const lifeline = stack.use(await startLifeline());
    const jaeger = stack.use(await startJaeger({ log, lifeline }));
    forwarding.push({ name: 'Jaeger', endpoint: jaeger.otlpEndpoint });
    console.log(`Jaeger: ${jaeger.queryUrl} (traces of this run; it stops when the run ends)`);
  }
  return forwarding;
}

/**
 * Runs each scenario in turn: the run, its report (with its predictions), the summary and, for the live
 * view, `run-finished` once the report is written.
 */
async function runScenarios(
  scenarios: readonly Scenario[],
  context: {
    runtime: Runtime;
    reportsDir: string;
    predictions: ReadonlyMap<string, Predictions>;
    watcher: RunWatcher;
    signal: AbortSignal;
    batch: boolean;
    traceForwarding: TraceForwarding[];
  },
): Promise<ScenarioVerdict[]> {
  const verdicts: ScenarioVerdict[] = [];
  for (const [index, scenario] of scenarios.entries()) {
    log(`scenario ${scenario.name}: ${scenario.title}`);
    log(
      `timeline ${scenario.durationS} s per deployment, run one after the other: ${scenario.variants.map((variant) => variant.name).join(', ')}`,
    );
    const later = scenarios.slice(index + 1);
    let results = await runScenario(scenario, {
      runtime: context.runtime,
      log,
      signal: context.signal,
      watcher: context.watcher,
      command: process.argv,
      traceForwarding: context.traceForwarding,
      ...(context.batch
        ? {
            batch: {
              // 0-based, as the live page reads it.
              index,
              count: scenarios.length,
              remainingTimelineS: later.reduce((sum, next) => sum + next.durationS * next.variants.length, 0),
            },
          }
        : {}),
    });
    const predicted = context.predictions.get(scenario.name);
    if (predicted) results = { ...results, predictions: predicted };
    const { htmlPath } = await writeRunReport(path.join(context.reportsDir, results.runId), results);
    await writeRunsIndex(context.reportsDir);
    const invalid = results.validity?.status === 'invalid';
    context.watcher.emit({
      type: 'run-finished',
      verdict: invalid ? 'invalid' : results.hypothesis.held ? 'held' : 'failed',
      reportPath: htmlPath,
    });
    console.log(formatSummary(results));
    const predictionsSaid = predictionsLine(scorePredictions(results));
    if (predictionsSaid) console.log(`Predictions: ${predictionsSaid}`);
    console.log(`\nReport: ${htmlPath}`);
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
      results,
    });
  }
  return verdicts;
}

/** `all`: the page linking every report with its verdict, and the same list on the terminal. */
async function writeBatchPage(reportsDir: string, verdicts: readonly ScenarioVerdict[]): Promise<void> {
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

/** `--repeat`: one page per scenario of its runs together, beside the runs' own folders. */
async function writeRepeatPages(reportsDir: string, verdicts: readonly ScenarioVerdict[]): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  for (const name of new Set(verdicts.map((verdict) => verdict.name))) {
    const mine = verdicts.filter((verdict) => verdict.name === name);
    const summary = summarizeRepeats(mine.map((verdict) => verdict.results));
    const dir = path.join(reportsDir, `repeat-${name}-${stamp}`);
    await makeDirectories(dir);
    await writeFile(path.join(dir, 'repeat.json'), `${JSON.stringify(summary, null, 2)}\n`);
    const htmlPath = path.join(dir, 'index.html');
    await writeFile(
      htmlPath,
      renderRepeatPage(
        summary,
        mine.map((verdict) => `../${verdict.runId}/index.html`),
      ),
    );
    const unstable = summary.claims.filter((claim) => claim.unstable).map((claim) => claim.claim.id);
    console.log(
      `\n${name} ${mine.length} times: ${summary.runs.filter((run) => run.held).length} of ${mine.length} held` +
        `${unstable.length > 0 ? `; unstable claims: ${unstable.join(', ')}` : '; every claim gave the same verdict each time'}` +
        `\nRepeat page: ${htmlPath}`,
    );
  }
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
