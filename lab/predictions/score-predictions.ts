import type { ClaimResult, RunResults } from '../results.ts';

/** One claim with its prediction, scored against the claim's tolerance and its verdict. */
export interface ScoredPrediction {
  claim: ClaimResult;
  /** The guess, in the claim's unit; undefined when the claim was not predicted. */
  predicted?: number;
  /** The guess satisfies the claim's atLeast/atMost: it predicted that the claim would hold. */
  withinTolerance?: boolean;
  /**
   * The guess and the measurement came to the same verdict: within the tolerance and the claim held, or
   * outside it and the claim did not hold. Undefined when not predicted or when the run is invalid (no
   * verdict to agree with).
   */
  agreesWithVerdict?: boolean;
}

export interface PredictionScore {
  rows: ScoredPrediction[];
  /** Claims that were predicted. */
  made: number;
  /** Predictions within the claim's tolerance. */
  withinTolerance: number;
  /** Predictions whose verdict agreed with the measured one; null when the run is invalid. */
  agreed: number | null;
}

/**
 * Whether a value satisfies a claim's tolerance: at least `atLeast` and at most `atMost`, where given.
 *
 * @example withinTolerance({ atLeast: 0.95 }, 0.97) // true
 * @example withinTolerance({ atLeast: 4500, atMost: 6500 }, 7000) // false
 */
export function withinTolerance(claim: Pick<ClaimResult, 'atLeast' | 'atMost'>, value: number): boolean {
  return (
    (claim.atLeast === undefined || value >= claim.atLeast) &&
    (claim.atMost === undefined || value <= claim.atMost)
  );
}

/**
 * Scores the run's predictions against its claims; undefined when nothing was predicted. Predictions of
 * claim ids the run does not have (a hand-edited results.json) are ignored.
 */
export function scorePredictions(results: RunResults): PredictionScore | undefined {
  const values = results.predictions?.values;
  if (!values) return undefined;
  const judged = results.validity?.status !== 'invalid';
  const rows = results.hypothesis.claims.map((claim): ScoredPrediction => {
    const predicted = Object.hasOwn(values, claim.id) ? values[claim.id] : undefined;
    if (predicted === undefined) return { claim };
    const within = withinTolerance(claim, predicted);
    return {
      claim,
      predicted,
      withinTolerance: within,
      ...(judged ? { agreesWithVerdict: within === claim.held } : {}),
    };
  });
  const predictedRows = rows.filter((row) => row.predicted !== undefined);
  return {
    rows,
    made: predictedRows.length,
    withinTolerance: predictedRows.filter((row) => row.withinTolerance).length,
    agreed: judged ? predictedRows.filter((row) => row.agreesWithVerdict).length : null,
  };
}

/**
 * The one line the terminal and the report say about the predictions; undefined when none were made.
 *
 * @example predictionsLine(score) // '2 of 3 predictions within the tolerance; 2 of 3 agreed with the verdict.'
 */
export function predictionsLine(score: PredictionScore | undefined): string | undefined {
  if (!score) return undefined;
  if (score.made === 0) return 'No claim was predicted.';
  const agreed =
    score.agreed === null
      ? 'no verdict to agree with (the run is invalid)'
      : `${score.agreed} of ${score.made} agreed with the verdict`;
  return `${score.withinTolerance} of ${score.made} predictions within the tolerance; ${agreed}.`;
}
