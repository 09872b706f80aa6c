/**
 * Builds the comparison of two or more runs from their results alone: the runs and what made them side
 * by side, each claim in each run, and every phase of every route of every deployment the runs share,
 * with its difference from the first run and whether that difference is beyond the noise. What only
 * some runs have is listed as not compared, with why.
 */
import type { PhaseSummary, PhaseWindow, RunResults } from '../results.ts';
import { ROUTE_ORDER } from '../report/charts.ts';
import { formatDuration } from '../report/format.ts';
import {
  COMPARISON_VERSION,
  type CauseDifference,
  type ClaimRow,
  type Comparison,
  type ComparedRun,
  type FieldRow,
  type LatencyDifference,
  type NotCompared,
  type PhaseDifference,
  type PhaseFigures,
  type PhaseRow,
} from './comparison.ts';
import { decodeLatencyHistogram, percentileOf, type LatencyDistribution } from './latency-histogram.ts';
import type { LoadedRun } from './load-runs.ts';
import { bootstrapPercentileDifference, CONFIDENCE, twoProportionTest } from './statistics.ts';

export const DEFAULT_RESAMPLES = 2000;
export const DEFAULT_SEED = 'splitlab-compare';

export interface ComparisonOptions {
  resamples?: number;
  seed?: string;
  /** The time written into the comparison; fixed in tests so the output is byte for byte the same. */
  now?: Date;
}

export const NO_PER_REQUEST_DATA = 'no per-request data: noise not assessed';

/**
 * The fewest requests a run's phase needs for its p99 to be tested. A p99 rests on the slowest 1 % of
 * the requests; below 100 it is the slowest request itself, and the bootstrap called 12–14 % of pairs of
 * samples of one distribution beyond the noise at 40 and 80 requests (nominal 5 %), 7 % at 100, and
 * 2–6 % from 120 to 2000 (log-normal latencies, 300–600 pairs per size; docs/comparing-runs.md).
 */
export const P99_MIN_REQUESTS = 120;

/**
 * Under this many expected failures of a cause in either run, the normal approximation of the
 * two-proportion test is rough (the textbook rule of 5), and the verdict says so.
 */
const FEW_EXPECTED = 5;

/**
 * Compares the runs with the first one.
 *
 * @example const comparison = buildComparison(await loadRuns(['reports/a', 'reports/b']));
 */
export function buildComparison(runs: readonly LoadedRun[], options: ComparisonOptions = {}): Comparison {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const seed = options.seed ?? DEFAULT_SEED;
  const labels = runs.map((_, index) => runLabel(index));
  const results = runs.map((run) => run.results);
  const notCompared: NotCompared[] = [];

  const scenarios = new Set(results.map((r) => r.scenario.name));
  if (scenarios.size > 1) {
    notCompared.push({
      what: 'scenario',
      why:
        `the runs are of different scenarios (${describeEach(labels, results, (r) => r.scenario.name)}): ` +
        'only the deployments, routes and phases they share are compared, and claims only where their ids match',
    });
  }

  const sharedTimeline = sharedPhases(labels, results, notCompared);
  const phases: PhaseRow[] = [];
  const shared: Comparison['shared'] = [];
  const deployments = sharedNames(
    labels,
    results.map((r) => r.deployments.map((d) => d.deployment)),
    (name) => `deployment ${name}`,
    notCompared,
  );
  for (const deployment of deployments) {
    const inRuns = results.map((r) => r.deployments.find((d) => d.deployment === deployment));
    const routes = sharedNames(
      labels,
      inRuns.map((d) => d?.routes.map((route) => route.route) ?? []),
      (name) => `route ${name} in ${deployment}`,
      notCompared,
    ).sort((a, b) => rank(a) - rank(b));
    shared.push({ deployment, routes });
    for (const route of routes) {
      for (const phase of sharedTimeline) {
        const summaries = inRuns.map((d) =>
          d?.routes.find((r) => r.route === route)?.phases.find((p) => p.phase === phase.name),
        );
        const missing = labels.filter((_, index) => summaries[index] === undefined);
        if (missing.length > 0) {
          notCompared.push({
            what: `${deployment} · ${route} · ${phase.name}`,
            why: `no figures for this phase in ${missing.join(', ')} (a run stopped before it)`,
          });
          continue;
        }
        phases.push(
          comparePhase(
            { deployment, route, phase: phase.name },
            summaries as PhaseSummary[],
            runs.map((run) => run.source),
            { resamples, seed, labels },
          ),
        );
      }
    }
  }

  return {
    comparisonVersion: COMPARISON_VERSION,
    generatedAt: (options.now ?? new Date()).toISOString(),
    runs: runs.map((run, index) => describeRun(run, labels[index] ?? runLabel(index))),
    fields: fieldRows(results),
    claims: claimRows(labels, results, notCompared),
    phases,
    notCompared,
    sharedTimeline,
    shared,
    method: {
      latency:
        `Bootstrap ${Math.round(CONFIDENCE * 100)} % confidence interval of the difference of medians ` +
        `(each run minus A): ${resamples} resamples of each phase's per-request latencies, read from its ` +
        `histogram; percentile interval; seed "${seed}", so the same runs give the same verdicts. ` +
        '"Within the noise" when the interval contains 0.',
      p99:
        `The same bootstrap for p99 (seed "${seed}|…|p99"), when each run's phase has at least ` +
        `${P99_MIN_REQUESTS} requests; with fewer, so few requests lie beyond the p99 that its difference ` +
        'is shown without a test. The recorded p99 (from every request) is in the table beside it.',
      successRate:
        'Two-proportion z-test of the success rates (pooled, two-sided); "within the noise" when p ≥ 0.05. ' +
        `The interval shown is the ${Math.round(CONFIDENCE * 100)} % Wald interval of the difference.`,
      failures:
        'For each failure cause either run saw, the same two-proportion z-test of its share of the ' +
        'completed requests; "within the noise" when p ≥ 0.05. With fewer than ' +
        `${FEW_EXPECTED} failures expected in a run, the test is approximate and says so.`,
      confidence: CONFIDENCE,
      resamples,
      seed,
    },
  };
}

/** `A`, `B`, ..., `Z`, `AA`, ... */
export function runLabel(index: number): string {
  const letter = String.fromCharCode(65 + (index % 26));
  return index < 26 ? letter : `${runLabel(Math.floor(index / 26) - 1)}${letter}`;
}

function describeRun(run: LoadedRun, label: string): ComparedRun {
  const r = run.results;
  return {
    label,
    runId: r.runId,
    source: run.source,
    scenario: r.scenario.name,
    runtime: r.runtime.name,
    startedAt: r.startedAt,
    hypothesisHeld: r.hypothesis.held,
    validity: r.validity?.status ?? null,
    provenance: r.provenance ?? null,
  };
}

function describeEach(labels: string[], results: RunResults[], describe: (r: RunResults) => string): string {
  return results.map((r, index) => `${labels[index]}: ${describe(r)}`).join('; ');
}

function rank(route: string): number {
  const index = (ROUTE_ORDER as readonly string[]).indexOf(route);
  return index === -1 ? ROUTE_ORDER.length : index;
}

/** Names every run has, in the order they are first met; the others are listed as not compared. */
function sharedNames(
  labels: string[],
  namesPerRun: readonly (readonly string[])[],
  describe: (name: string) => string,
  notCompared: NotCompared[],
): string[] {
  const perRun = namesPerRun.map((names) => new Set(names));
  const all: string[] = [];
  for (const names of namesPerRun) for (const name of names) if (!all.includes(name)) all.push(name);
  const shared: string[] = [];
  for (const name of all) {
    const having = labels.filter((_, index) => perRun[index]?.has(name));
    if (having.length === labels.length) shared.push(name);
    else notCompared.push({ what: describe(name), why: `only in ${having.join(', ')}` });
  }
  return shared;
}

function windowText(phase: PhaseWindow): string {
  return `${phase.startS}–${phase.endS} s`;
}

/**
 * Phases with the same name and window in every run. Per-phase figures of phases whose windows differ
 * would compare different spans of time, so they are left out, and a different timeline is said once.
 */
function sharedPhases(labels: string[], results: RunResults[], notCompared: NotCompared[]): PhaseWindow[] {
  const timelines = results.map((r) => r.phases.map((p) => `${p.name} ${windowText(p)}`).join(', '));
  if (new Set(timelines).size > 1) {
    notCompared.push({
      what: 'timeline',
      why:
        `the runs have different timelines (${timelines.map((t, index) => `${labels[index]}: ${t}`).join('; ')}): ` +
        'phases are compared only where their name and window match, and the charts mark the phases of A',
    });
  }
  const first = results[0]?.phases ?? [];
  const names: string[] = [];
  for (const r of results) for (const p of r.phases) if (!names.includes(p.name)) names.push(p.name);
  const shared: PhaseWindow[] = [];
  for (const name of names) {
    const windows = results.map((r) => r.phases.find((p) => p.name === name));
    const having = labels.filter((_, index) => windows[index] !== undefined);
    if (having.length < labels.length) {
      notCompared.push({ what: `phase ${name}`, why: `only in ${having.join(', ')}` });
      continue;
    }
    const texts = windows.map((w) => (w ? windowText(w) : ''));
    if (new Set(texts).size > 1) {
      notCompared.push({
        what: `phase ${name}`,
        why: `its window differs (${texts.map((t, index) => `${labels[index]}: ${t}`).join('; ')})`,
      });
      continue;
    }
    const window = first.find((p) => p.name === name);
    if (window) shared.push(window);
  }
  return shared;
}

function figuresOf(summary: PhaseSummary): PhaseFigures {
  return {
    completed: summary.completed,
    ok: summary.ok,
    successRate: summary.successRate,
    p50Ms: summary.latencyMs.p50,
    p99Ms: summary.latencyMs.p99,
    failures: summary.failures,
    hasHistogram: summary.latencyHistogram !== undefined,
  };
}

function minus(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a - b;
}

function comparePhase(
  key: { deployment: string; route: string; phase: string },
  summaries: PhaseSummary[],
  sources: string[],
  options: { resamples: number; seed: string; labels: string[] },
): PhaseRow {
  const figures = summaries.map(figuresOf);
  const distributions: (LatencyDistribution | null)[] = summaries.map((summary, index) =>
    summary.latencyHistogram === undefined
      ? null
      : decodeLatencyHistogram(summary.latencyHistogram, sources[index] ?? 'results.json'),
  );
  const reference = figures[0] as PhaseFigures;
  const versusFirst = figures.map((other, index): PhaseDifference | null => {
    if (index === 0) return null;
    const label = options.labels[index] ?? runLabel(index);
    const rate = twoProportionTest(
      { ok: reference.ok, total: reference.completed },
      { ok: other.ok, total: other.completed },
    );
    const causes = [...new Set([...Object.keys(reference.failures), ...Object.keys(other.failures)])].sort();
    const failures: Record<string, number> = {};
    const failureCauses: Record<string, CauseDifference> = {};
    for (const cause of causes) {
      failures[cause] = (other.failures[cause] ?? 0) - (reference.failures[cause] ?? 0);
      failureCauses[cause] = compareCause(cause, reference, other);
    }
    const latencySeed = `${options.seed}|${key.deployment}|${key.route}|${key.phase}|${label}`;
    const latencyOptions = {
      resamples: options.resamples,
      labels: [options.labels[0] ?? 'A', label],
    } as const;
    return {
      successRate: rate
        ? {
            difference: rate.difference,
            low: rate.low,
            high: rate.high,
            pValue: rate.pValue,
            verdict: rate.withinNoise ? 'within-noise' : 'beyond-noise',
          }
        : {
            difference: null,
            low: null,
            high: null,
            pValue: null,
            verdict: 'not-assessed',
            note: 'no requests in one of the runs',
          },
      latencyMedian: compareLatency(distributions[0] ?? null, distributions[index] ?? null, {
        ...latencyOptions,
        percentile: 50,
        seed: latencySeed,
        minRequests: 1,
      }),
      latencyP99: compareLatency(distributions[0] ?? null, distributions[index] ?? null, {
        ...latencyOptions,
        percentile: 99,
        // Its own stream: the median's intervals stay what they were before p99 was tested.
        seed: `${latencySeed}|p99`,
        minRequests: P99_MIN_REQUESTS,
      }),
      p50Ms: minus(other.p50Ms, reference.p50Ms),
      p99Ms: minus(other.p99Ms, reference.p99Ms),
      failures,
      failureCauses,
    };
  });
  return { ...key, runs: figures, versusFirst };
}

function compareLatency(
  reference: LatencyDistribution | null,
  other: LatencyDistribution | null,
  options: {
    percentile: number;
    resamples: number;
    seed: string;
    labels: readonly [string, string];
    minRequests: number;
  },
): LatencyDifference {
  const notAssessed = (note: string): LatencyDifference => ({
    differenceMs: null,
    lowMs: null,
    highMs: null,
    verdict: 'not-assessed',
    note,
  });
  if (reference === null || other === null) {
    const without = options.labels.filter((_, index) => [reference, other][index] === null);
    return notAssessed(
      `${NO_PER_REQUEST_DATA} (${without.join(' and ')} ${without.length > 1 ? 'predate' : 'predates'} it)`,
    );
  }
  const totals = [reference.total, other.total];
  const referenceValue = percentileOf(reference, options.percentile);
  const otherValue = percentileOf(other, options.percentile);
  if (referenceValue === null || otherValue === null) {
    return notAssessed('no completed requests in one of the runs: noise not assessed');
  }
  const short = options.labels.filter((_, index) => (totals[index] ?? 0) < options.minRequests);
  if (short.length > 0) {
    // The difference is still worth reading; only its noise cannot be told.
    return {
      differenceMs: round(otherValue - referenceValue),
      lowMs: null,
      highMs: null,
      verdict: 'not-assessed',
      note: `fewer than ${options.minRequests} requests in ${short.join(' and ')}: p${options.percentile} noise not assessed`,
    };
  }
  const found = bootstrapPercentileDifference(reference, other, options);
  if (found === null) return notAssessed('no completed requests in one of the runs: noise not assessed');
  return {
    differenceMs: round(found.differenceMs),
    lowMs: round(found.lowMs),
    highMs: round(found.highMs),
    verdict: found.withinNoise ? 'within-noise' : 'beyond-noise',
  };
}

/** The two-proportion test of one failure cause's share of the completed requests, other minus first. */
function compareCause(cause: string, reference: PhaseFigures, other: PhaseFigures): CauseDifference {
  const inReference = reference.failures[cause] ?? 0;
  const inOther = other.failures[cause] ?? 0;
  const count = inOther - inReference;
  const test = twoProportionTest(
    { ok: inReference, total: reference.completed },
    { ok: inOther, total: other.completed },
  );
  if (test === null) {
    return {
      count,
      shareDifference: null,
      low: null,
      high: null,
      pValue: null,
      verdict: 'not-assessed',
      note: 'no requests in one of the runs',
    };
  }
  const pooled = (inReference + inOther) / (reference.completed + other.completed);
  const fewest = Math.min(pooled, 1 - pooled) * Math.min(reference.completed, other.completed);
  const rough = pooled > 0 && pooled < 1 && fewest < FEW_EXPECTED;
  return {
    count,
    shareDifference: test.difference,
    low: test.low,
    high: test.high,
    pValue: test.pValue,
    verdict: test.withinNoise ? 'within-noise' : 'beyond-noise',
    ...(rough
      ? { note: `few ${cause} failures (under ${FEW_EXPECTED} expected in a run): the test is approximate` }
      : {}),
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function claimRows(labels: string[], results: RunResults[], notCompared: NotCompared[]): ClaimRow[] {
  const ids: string[] = [];
  for (const r of results)
    for (const claim of r.hypothesis.claims) if (!ids.includes(claim.id)) ids.push(claim.id);
  return ids.map((id): ClaimRow => {
    const perRun = results.map((r) => r.hypothesis.claims.find((claim) => claim.id === id));
    const having = labels.filter((_, index) => perRun[index] !== undefined);
    if (having.length < labels.length) {
      notCompared.push({ what: `claim ${id}`, why: `only in ${having.join(', ')}` });
    }
    const first = perRun.find((claim) => claim !== undefined);
    const referenceObserved = perRun[0]?.observed ?? null;
    return {
      id,
      description: first?.description ?? '',
      deployment: first?.deployment ?? '',
      route: first?.route ?? '',
      phase: first?.phase ?? '',
      metric: first?.metric ?? '',
      ...(first?.relativeTo ? { relativeTo: first.relativeTo } : {}),
      unit: first?.unit ?? 'count',
      runs: perRun.map((claim, index) =>
        claim === undefined
          ? null
          : {
              observed: claim.observed,
              held: claim.held,
              ...(claim.atLeast !== undefined ? { atLeast: claim.atLeast } : {}),
              ...(claim.atMost !== undefined ? { atMost: claim.atMost } : {}),
              differenceFromFirst: index === 0 ? null : minus(claim.observed, referenceObserved),
            },
      ),
    };
  });
}

// Ports are picked afresh by every run: a field that differs only by them is not a difference.
function withoutPorts(value: string): string {
  return value.replace(/:\d{2,5}\b/g, ':<port>');
}

function fieldRows(results: RunResults[]): FieldRow[] {
  const rows: FieldRow[] = [];
  const add = (field: string, value: (r: RunResults) => string | null | undefined, identity = false) => {
    const values = results.map((r) => value(r) ?? null);
    const differs = new Set(values).size > 1;
    rows.push({ field, values, differs, ...(identity ? { identity: true } : {}) });
  };
  const keysOf = (records: (Record<string, string> | undefined)[]) => {
    const keys: string[] = [];
    for (const record of records)
      for (const key of Object.keys(record ?? {})) if (!keys.includes(key)) keys.push(key);
    return keys;
  };

  add('run', (r) => r.runId, true);
  add('started', (r) => r.startedAt, true);
  add('wall time', (r) => formatDuration(r.wallTimeMs), true);
  add('scenario', (r) => r.scenario.name);
  add('hypothesis', (r) => (r.hypothesis.held ? 'held' : 'did not hold'));
  add('validity', (r) => r.validity?.status ?? 'not checked (older file)');
  add('runtime', (r) => r.runtime.name);
  for (const key of keysOf(results.map((r) => r.runtime.details))) {
    add(`runtime · ${key}`, (r) => {
      const value = r.runtime.details[key];
      return value === undefined ? null : withoutPorts(value);
    });
  }
  add('load', (r) =>
    r.load
      .map((l) =>
        l.model === 'closed'
          ? `${l.route} ${l.connections ?? 0} connections (closed)`
          : `${l.route} ${l.ratePerSecond}/s (≤ ${l.maxInFlight} in flight)`,
      )
      .join(', '),
  );
  add('timeline', (r) => r.phases.map((p) => `${p.name} ${windowText(p)}`).join(', '));
  add('faults', (r) =>
    r.faults.length === 0
      ? 'none'
      : r.faults.map((f) => `${f.fault} on ${f.link} ${f.startS}–${f.endS} s`).join(', '),
  );
  add('deployments', (r) =>
    r.deployments
      .map((d) => {
        const settings = Object.entries(d.settings).map(([key, value]) => `${key}=${value}`);
        return settings.length === 0 ? d.deployment : `${d.deployment} (${settings.join(', ')})`;
      })
      .join(', '),
  );

  if (results.every((r) => r.provenance === undefined)) {
    add('provenance', () => 'not recorded (older file)');
    return rows;
  }
  const missing = 'not recorded';
  add('git commit', (r) => {
    const git = r.provenance?.git;
    if (r.provenance === undefined) return missing;
    return git ? `${git.commit}${git.dirty ? ' (with uncommitted changes)' : ''}` : 'not a git checkout';
  });
  add('command', (r) => r.provenance?.command.join(' ') ?? missing);
  for (const key of keysOf(results.map((r) => r.provenance?.versions))) {
    add(`version · ${key}`, (r) => (r.provenance ? (r.provenance.versions[key] ?? null) : missing));
  }
  add('machine · CPU', (r) =>
    r.provenance ? `${r.provenance.machine.cpuModel} × ${r.provenance.machine.cpus}` : missing,
  );
  add('machine · memory', (r) =>
    r.provenance ? `${(r.provenance.machine.memoryBytes / 2 ** 30).toFixed(1)} GiB` : missing,
  );
  add('machine · OS', (r) => r.provenance?.machine.os ?? missing);
  add('runtime settings', (r) =>
    r.provenance
      ? Object.entries(r.provenance.runtime.settings)
          .map(([key, value]) => `${key}=${withoutPorts(value)}`)
          .join(', ') || 'none'
      : missing,
  );
  add('seed', (r) => (r.provenance ? (r.provenance.seed ?? 'none') : missing));
  return rows;
}
