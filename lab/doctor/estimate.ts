/**
 * How long `npm run scenario -- all` takes: each scenario runs its timeline once per variant, one
 * variant after the other, and every variant costs a start/settle overhead on top (start the
 * deployment, settle, audit, stop; the run's shared infrastructure spread over its variants). The
 * overhead is measured from the runs this machine already made: reports/<run>/results.json has the
 * run's wall time and its timeline.
 */
import type { Finding } from './check.ts';

/** What one results.json says about the time a run took. */
export interface RecordedRun {
  runtime: string;
  wallTimeMs: number;
  /** Seconds of one variant's timeline (the end of its last phase). */
  timelineS: number;
  /** Variants that ran. */
  deployments: number;
}

/** A scenario as the registry defines it. */
export interface ScenarioSize {
  name: string;
  durationS: number;
  variants: number;
}

export interface Overhead {
  perDeploymentS: number;
  /** Once per scenario run, on top (the containers runtime's longer infrastructure start). */
  perScenarioS: number;
  /** Where the figure comes from, in words. */
  source: string;
}

/**
 * The local runtime's overhead where no run was recorded yet: 3.4 s per variant, measured from 12 local
 * runs (31 variants: every scenario once, partition twice) on the lab's reference machine, 2 cores:
 * 105.8 s of wall time beyond 1,365 s of timelines. Per run it was 2.6-3.4 s per variant, except
 * starvation's 11.4 s (its settle waits for the signup backlog to drain).
 */
export const REFERENCE_LOCAL_OVERHEAD_S = 3.4;

/**
 * How much longer the containers runtime takes to start than local, from the start-to-ready times in
 * docs/benchmark.md: infrastructure 3.25 s vs 0.93 s (once per scenario), deployments 1.00/1.34 s vs
 * 0.21/0.57 s (0.8 s more per variant).
 */
export const CONTAINERS_EXTRA_START = { perScenarioS: 2.3, perDeploymentS: 0.8 } as const;

/**
 * Seconds each variant of the runs of `runtime` took beyond its timeline, in total over the runs:
 * sum(wall - timeline x variants) / sum(variants). Undefined without such a run.
 *
 * @example
 *   measureOverhead([{ runtime: 'local', wallTimeMs: 65_400, timelineS: 30, deployments: 2 }], 'local')
 *   // { perDeploymentS: 2.7, runs: 1, deployments: 2 }
 */
export function measureOverhead(
  runs: readonly RecordedRun[],
  runtime: string,
): { perDeploymentS: number; runs: number; deployments: number } | undefined {
  const mine = runs.filter((run) => run.runtime === runtime && run.deployments > 0);
  if (mine.length === 0) return undefined;
  const deployments = mine.reduce((sum, run) => sum + run.deployments, 0);
  const beyondTimelinesS = mine.reduce(
    (sum, run) => sum + run.wallTimeMs / 1000 - run.timelineS * run.deployments,
    0,
  );
  return { perDeploymentS: Math.max(0, beyondTimelinesS / deployments), runs: mine.length, deployments };
}

function runsWord(count: number, runtime: string): string {
  return `${count} ${runtime} run${count === 1 ? '' : 's'}`;
}

/**
 * The overhead to use for `runtime`: measured from this machine's reports when it has runs of that
 * runtime; else, for containers, the local figure plus containers' longer start; else the reference.
 * `reportsLabel` names the reports folder in the source sentence.
 */
export function chooseOverhead(
  runs: readonly RecordedRun[],
  runtime: 'local' | 'containers',
  reportsLabel = 'reports/',
): Overhead {
  const measuredLocal = measureOverhead(runs, 'local');
  const local: Overhead = measuredLocal
    ? {
        perDeploymentS: measuredLocal.perDeploymentS,
        perScenarioS: 0,
        source: `measured from ${runsWord(measuredLocal.runs, 'local')} in ${reportsLabel}`,
      }
    : {
        perDeploymentS: REFERENCE_LOCAL_OVERHEAD_S,
        perScenarioS: 0,
        source: `no local run in ${reportsLabel} yet: the figure of the lab's 2-core reference machine`,
      };
  if (runtime === 'local') return local;
  const measured = measureOverhead(runs, 'containers');
  if (measured) {
    return {
      perDeploymentS: measured.perDeploymentS,
      perScenarioS: 0,
      source: `measured from ${runsWord(measured.runs, 'containers')} in ${reportsLabel}`,
    };
  }
  return {
    perDeploymentS: local.perDeploymentS + CONTAINERS_EXTRA_START.perDeploymentS,
    perScenarioS: CONTAINERS_EXTRA_START.perScenarioS,
    source:
      `no containers run in ${reportsLabel} yet: local's ${local.perDeploymentS.toFixed(1)} s + the slower ` +
      'start measured in docs/benchmark.md',
  };
}

export interface AllEstimate {
  totalS: number;
  scenarios: number;
  deployments: number;
  /** Sum over scenarios of timeline x variants. */
  timelineS: number;
  overheadS: number;
  overhead: Overhead;
}

/**
 * timeline x variants of every scenario, plus the overhead per variant (and per scenario).
 *
 * @example
 *   estimateAll([{ name: 'a', durationS: 30, variants: 2 }], { perDeploymentS: 3, perScenarioS: 0, source: '' }).totalS // 66
 */
export function estimateAll(scenarios: readonly ScenarioSize[], overhead: Overhead): AllEstimate {
  const deployments = scenarios.reduce((sum, scenario) => sum + scenario.variants, 0);
  const timelineS = scenarios.reduce((sum, scenario) => sum + scenario.durationS * scenario.variants, 0);
  const overheadS = deployments * overhead.perDeploymentS + scenarios.length * overhead.perScenarioS;
  return {
    totalS: timelineS + overheadS,
    scenarios: scenarios.length,
    deployments,
    timelineS,
    overheadS,
    overhead,
  };
}

/**
 * A duration as people plan with it: seconds under two minutes, then minutes, then hours and minutes.
 *
 * @example formatMinutes(1346) // '22 min'
 */
export function formatMinutes(totalS: number): string {
  if (totalS < 120) return `${Math.round(totalS)} s`;
  const minutes = Math.round(totalS / 60);
  if (minutes < 90) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * The detail line of an estimate.
 *
 * @example
 *   // 'about 22 min: 1,245 s of timelines (11 scenarios, 28 variants) + 28 x 3.4 s start/settle per variant, measured from ...'
 */
export function describeEstimate(estimate: AllEstimate): string {
  const perScenario =
    estimate.overhead.perScenarioS > 0
      ? ` + ${estimate.scenarios} x ${estimate.overhead.perScenarioS.toFixed(1)} s per scenario`
      : '';
  return (
    `about ${formatMinutes(estimate.totalS)}: ${Math.round(estimate.timelineS).toLocaleString('en-US')} s of ` +
    `timelines (${estimate.scenarios} scenarios, ${estimate.deployments} variants) + ${estimate.deployments} x ` +
    `${estimate.overhead.perDeploymentS.toFixed(1)} s start/settle per variant${perScenario}; ` +
    estimate.overhead.source
  );
}

/** `1 scenario does`, `3 scenarios do`. */
function scenariosThat(count: number): string {
  return count === 1 ? '1 scenario that does' : `${count} scenarios that do`;
}

/**
 * The estimate as a checklist line for `runtime`: information, or a caveat when scenarios do not load
 * (then `all` would stop before it starts).
 */
export function judgeEstimate(
  scenarios: { sizes: readonly ScenarioSize[]; problems: readonly string[] },
  runs: readonly RecordedRun[],
  runtime: 'local' | 'containers',
  reportsLabel = 'reports/',
): Finding {
  const problems = scenarios.problems;
  const fix = problems.some((problem) => /Cannot find package/.test(problem))
    ? 'npm ci'
    : 'npm run scenario -- <name> says what is wrong with the scenario file';
  if (scenarios.sizes.length === 0) {
    return {
      status: 'caveat',
      detail:
        problems.length === 0
          ? 'no estimate: no scenario files found'
          : `no estimate: ${scenariosThat(problems.length)} not load (first: ${problems[0]})`,
      fix,
    };
  }
  const estimate = estimateAll(scenarios.sizes, chooseOverhead(runs, runtime, reportsLabel));
  const data = { seconds: Math.round(estimate.totalS), ...estimate };
  if (problems.length > 0) {
    return {
      status: 'caveat',
      detail:
        `${describeEstimate(estimate)}; left out ${scenariosThat(problems.length)} not load ` +
        `(first: ${problems[0]})`,
      fix,
      data,
    };
  }
  return { status: 'info', detail: describeEstimate(estimate), data };
}
