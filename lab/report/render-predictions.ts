/**
 * The predictions in the report's claims table: what was guessed before the run (`--predict`,
 * `--predictions`) next to what was measured and the claim's tolerance, whether each guess was within
 * the tolerance, whether it agreed with the measured verdict, and the one-line score under the table.
 */
import {
  predictionsLine,
  type PredictionScore,
  type ScoredPrediction,
} from '../predictions/score-predictions.ts';
import type { ClaimResult, RunResults } from '../results.ts';
import { formatClaimObserved, MISSING } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import type { TableColumn } from './markup.ts';

/** The row of `score` for a claim (every claim of the run has one). */
function rowOf(score: PredictionScore, claim: ClaimResult): ScoredPrediction {
  return score.rows.find((row) => row.claim === claim) ?? { claim };
}

/** A predicted value in the claim's unit, formatted like the measured one. */
export function formatPredicted(row: ScoredPrediction): string {
  return row.predicted === undefined
    ? MISSING
    : formatClaimObserved({ ...row.claim, observed: row.predicted });
}

/** The columns after the claim's measured value and tolerance: within the tolerance, and agreement. */
export function predictionVerdictColumns(score: PredictionScore): TableColumn<ClaimResult>[] {
  return [
    {
      header: 'Prediction',
      title: "Whether the predicted value satisfies the claim's tolerance: the guess that the claim holds",
      cell: (claim) => {
        const row = rowOf(score, claim);
        if (row.withinTolerance === undefined) return html`<span class="muted">not predicted</span>`;
        return row.withinTolerance ? 'within the tolerance' : 'outside the tolerance';
      },
    },
    {
      header: 'Agreed',
      title: 'Whether the prediction came to the same verdict as the measurement',
      cell: (claim) => {
        const row = rowOf(score, claim);
        if (row.agreesWithVerdict === undefined) return html`<span class="muted">${MISSING}</span>`;
        return row.agreesWithVerdict
          ? html`<span class="held-yes">✓ agreed</span>`
          : html`<span class="held-no">✗ did not agree</span>`;
      },
    },
  ];
}

/** The predicted value's column, to stand before the measured one. */
export function predictedColumn(score: PredictionScore): TableColumn<ClaimResult> {
  return {
    header: 'Predicted',
    numeric: true,
    title: 'What was guessed before the run, in the claim’s unit',
    cell: (claim) => formatPredicted(rowOf(score, claim)),
  };
}

/** The score under the claims table, and where the predictions came from. */
export function renderPredictionsScore(results: RunResults, score: PredictionScore): SafeHtml {
  const source =
    results.predictions?.source === 'file'
      ? html`from <code>${results.predictions.file ?? 'a file'}</code>`
      : 'typed at the terminal';
  return html`<p class="predictions-score">
    <strong>${predictionsLine(score) ?? ''}</strong>
    <span class="muted small">Predictions made before the run (${source}).</span>
  </p>`;
}
