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

/** A latency percentile of a phase, this run minus the first, with its bootstrap interval. */
export interface LatencyDifference {
  /** The percentile from the histograms, other minus first, ms. */
  differenceMs: number | null;
  lowMs: number | null;
  highMs: number | null;
  verdict: NoiseVerdict;
  /** Why it was not assessed. */
  note?: string;
}

/** One failure cause of a phase, this run minus the first, with the two-proportion test of its share. */
export interface CauseDifference {
  /** Failures of this cause, other minus first. */
  count: number;
  /** The cause's share of the completed requests (0..1), other minus first; null when a run has none. */
  shareDifference: number | null;
  /** 95 % Wald interval of the share's difference. */
  low: number | null;
  high: number | null;
  pValue: number | null;
  verdict: NoiseVerdict;
  /** Why it was not assessed, or why the verdict is only approximate (few failures). */
  note?: string;
}

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
  latencyMedian: LatencyDifference;
  /** The p99 from the histograms; not assessed when a run has too few requests for its p99 to be tested. */
  latencyP99: LatencyDifference;
  /** Difference of the recorded p50 (results.json's `latencyMs.p50`), ms. */
  p50Ms: number | null;
  /** Difference of the recorded p99 (results.json's `latencyMs.p99`), ms. */
  p99Ms: number | null;
  /** Difference in the count of each failure cause either run saw. */
  failures: Record<string, number>;
  /** The same causes, each with the test of its share of the completed requests. */
  failureCauses: Record<string, CauseDifference>;
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
    /** How p99 differences are judged, and when they are not. */
    p99: string;
    successRate: string;
    /** How the failure counts of each cause are judged. */
    failures: string;
    confidence: number;
    resamples: number;
    seed: string;
  };
}
