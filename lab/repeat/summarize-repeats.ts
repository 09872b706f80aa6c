import type { ClaimResult, RunResults } from '../results.ts';

/** Where a figure landed over repeated runs: every value, and its min / median / max. */
export interface Spread {
  /** One per run, in run order; null where that run measured nothing. */
  values: (number | null)[];
  min: number | null;
  median: number | null;
  max: number | null;
  /** (max - min) / |median|: how far the runs disagree, relative to the typical value; null when undefined. */
  relativeSpread: number | null;
}

export interface RepeatedClaim {
  claim: Omit<ClaimResult, 'observed' | 'held'>;
  observed: Spread;
  /** Runs whose verdict counts: not invalid. */
  judged: number;
  held: number;
  /** True when the claim held in some runs and not in others: its tolerance sits inside its own noise. */
  unstable: boolean;
}

export interface RepeatedFigure {
  deployment: string;
  route: string;
  phase: string;
  successRate: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
}

export interface RepeatSummary {
  scenario: { name: string; title: string };
  runs: {
    runId: string;
    startedAt: string;
    runtime: string;
    held: boolean;
    validity: 'valid' | 'degraded' | 'invalid';
  }[];
  claims: RepeatedClaim[];
  figures: RepeatedFigure[];
}

/** Spread of `values`, nulls left out of the statistics but kept in place. */
export function spreadOf(values: readonly (number | null)[]): Spread {
  const measured = values.filter((value): value is number => value !== null && Number.isFinite(value));
  const sorted = [...measured].sort((a, b) => a - b);
  if (sorted.length === 0)
    return { values: [...values], min: null, median: null, max: null, relativeSpread: null };
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  const min = sorted[0] ?? 0;
  const max = sorted[sorted.length - 1] ?? 0;
  return {
    values: [...values],
    min,
    median,
    max,
    relativeSpread: median === 0 ? (max === min ? 0 : null) : (max - min) / Math.abs(median),
  };
}

/**
 * What N runs of one scenario say together: each claim's observed values with their spread, held in k of
 * N judged runs (an invalid run judges nothing), and every per-phase figure of every route with its
 * spread. Pure. Runs are matched by claim id and by deployment/route/phase names; what only some runs
 * have is kept with nulls for the others.
 *
 * @example summarizeRepeats([run1, run2, run3]).claims[0] // { observed: { min, median, max, ... }, held: 3, judged: 3, unstable: false }
 */
export function summarizeRepeats(runs: readonly RunResults[]): RepeatSummary {
  const [first] = runs;
  if (!first) throw new Error('summarizeRepeats needs at least one run');
  const judgedRun = runs.map((run) => run.validity?.status !== 'invalid');
  const claimIds = unique(runs.flatMap((run) => run.hypothesis.claims.map((claim) => claim.id)));
  const claims = claimIds.map((id): RepeatedClaim => {
    const perRun = runs.map((run) => run.hypothesis.claims.find((claim) => claim.id === id));
    const definition = perRun.find((claim) => claim !== undefined);
    if (!definition) throw new Error(`bug: claim ${id} in no run`);
    const claim: RepeatedClaim['claim'] = { ...definition };
    // Per run, these two live in `observed` below and in `held` of each run.
    delete (claim as Partial<ClaimResult>).observed;
    delete (claim as Partial<ClaimResult>).held;
    const verdicts = perRun.filter((entry, index) => entry !== undefined && judgedRun[index]);
    const held = verdicts.filter((entry) => entry?.held).length;
    return {
      claim,
      observed: spreadOf(perRun.map((entry) => entry?.observed ?? null)),
      judged: verdicts.length,
      held,
      unstable: held > 0 && held < verdicts.length,
    };
  });
  const places = unique(
    runs.flatMap((run) =>
      run.deployments.flatMap((deployment) =>
        deployment.routes.flatMap((route) =>
          route.phases.map((phase) => `${deployment.deployment}\u0000${route.route}\u0000${phase.phase}`),
        ),
      ),
    ),
  );
  const figures = places.map((place): RepeatedFigure => {
    const [deployment = '', route = '', phase = ''] = place.split('\u0000');
    const phases = runs.map(
      (run) =>
        run.deployments
          .find((entry) => entry.deployment === deployment)
          ?.routes.find((entry) => entry.route === route)
          ?.phases.find((entry) => entry.phase === phase) ?? null,
    );
    return {
      deployment,
      route,
      phase,
      successRate: spreadOf(phases.map((entry) => entry?.successRate ?? null)),
      p50Ms: spreadOf(phases.map((entry) => entry?.latencyMs.p50 ?? null)),
      p99Ms: spreadOf(phases.map((entry) => entry?.latencyMs.p99 ?? null)),
    };
  });
  return {
    scenario: { name: first.scenario.name, title: first.scenario.title },
    runs: runs.map((run) => ({
      runId: run.runId,
      startedAt: run.startedAt,
      runtime: run.runtime.name,
      held: run.hypothesis.held,
      validity: run.validity?.status ?? 'valid',
    })),
    claims,
    figures,
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
