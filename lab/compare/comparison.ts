/**
 * The shape of `comparison.json`, what `npm run compare` writes beside its page. Every difference is
 * "this run minus the first run" (the reference), in the unit of the figure.
 */
import type { ClaimResult, PhaseWindow, Provenance } from '../results.ts';

export const COMPARISON_VERSION = 1;

/** One run as the comparison names it. */
export interface ComparedRun {
  /** `A`, `B`, ...: the column of the page; `A` is the reference. */
  label: string;
  runId: string;
  /** The results.json it was read from. */
  source: string;
  scenario: string;
  runtime: string;
  startedAt: string;
  hypothesisHeld: boolean;
  /** `valid`, `degraded`, `invalid`, or null when the file predates the lab's validity checks. */
  validity: string | null;
  provenance: Provenance | null;
}

/** A field of the runs side by side (`scenario`, `git commit`, `versions.node`, ...). */
export interface FieldRow {
  field: string;
  /** One per run; null when the run did not record it. */
  values: (string | null)[];
  differs: boolean;
  /** Fields that differ by nature (run id, start time): shown, never highlighted. */
  identity?: boolean;
}

/** One run's result of a claim. */
export interface ClaimInRun {
  observed: number | null;
  held: boolean;
  atLeast?: number;
  atMost?: number;
  /** observed minus the first run's observed; null for the first run or when either is missing. */
  differenceFromFirst: number | null;
}

export interface ClaimRow {
  id: string;
  description: string;
  deployment: string;
  route: string;
  phase: string;
  metric: string;
  relativeTo?: ClaimResult['relativeTo'];
  unit: ClaimResult['unit'];
  /** One per run; null when the run has no claim of this id. */
  runs: (ClaimInRun | null)[];
}

/** One run's figures of a phase of a route of a deployment. */
export interface PhaseFigures {
  completed: number;
  ok: number;
  successRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  failures: Record<string, number>;
  /** False in files written before per-request latencies were kept. */
  hasHistogram: boolean;
}

/** Whether a difference is larger than the noise of the two runs. */
export type NoiseVerdict = 'within-noise' | 'beyond-noise' | 'not-assessed';

/** How a run's phase differs from the first run's. */
export interface PhaseDifference {
  successRate: {
    difference: number | null;
    low: number | null;
    high: number | null;
    pValue: number | null;
    verdict: NoiseVerdict;
    note?: string;
  };
  latencyMedian: {
    /** Median from the histograms, other minus first, ms. */
    differenceMs: number | null;
    lowMs: number | null;
    highMs: number | null;
    verdict: NoiseVerdict;
    /** Why it was not assessed. */
    note?: string;
  };
  p50Ms: number | null;
  p99Ms: number | null;
  /** Difference in the count of each failure cause either run saw. */
  failures: Record<string, number>;
}

export interface PhaseRow {
  deployment: string;
  route: string;
  phase: string;
  runs: PhaseFigures[];
  /** One per run; null for the first run. */
  versusFirst: (PhaseDifference | null)[];
}

/** Something that is in some runs and not comparable, and why. */
export interface NotCompared {
  what: string;
  why: string;
}

export interface Comparison {
  comparisonVersion: typeof COMPARISON_VERSION;
  generatedAt: string;
  runs: ComparedRun[];
  fields: FieldRow[];
  claims: ClaimRow[];
  phases: PhaseRow[];
  notCompared: NotCompared[];
  /** The phases every run shares, with the same window, as the first run has them. */
  sharedTimeline: PhaseWindow[];
  /** The deployments every run has, each with the routes every run drove in it: what the charts overlay. */
  shared: { deployment: string; routes: string[] }[];
  method: {
    latency: string;
    successRate: string;
    confidence: number;
    resamples: number;
    seed: string;
  };
}
