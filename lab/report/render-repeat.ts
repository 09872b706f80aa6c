import type { RepeatSummary, Spread } from '../repeat/summarize-repeats.ts';
import type { ClaimUnit } from '../vocabulary/claim-metrics.ts';
import {
  describeClaimMetric,
  formatClaimExpected,
  formatTimestamp,
  formatUnitValue,
  MISSING,
} from './format.ts';
import { html } from './html.ts';
import { heldMark, page, section, table } from './markup.ts';

/** `min / median / max` in a unit; one value when the runs agree exactly. */
function formatSpread(spread: Spread, unit: ClaimUnit, signed = false): string {
  if (spread.median === null) return MISSING;
  const at = (value: number | null): string => formatUnitValue(unit, value, signed);
  if (spread.min === spread.max) return at(spread.median);
  return `${at(spread.min)} / ${at(spread.median)} / ${at(spread.max)}`;
}

function formatRelative(spread: Spread): string {
  if (spread.relativeSpread === null) return MISSING;
  return `${(spread.relativeSpread * 100).toFixed(spread.relativeSpread < 0.1 ? 1 : 0)} %`;
}

/**
 * The page of `--repeat N`: the runs, each claim with its values over the runs (min / median / max),
 * held in k of N and marked unstable when its verdict flips, and each per-phase figure with its spread.
 * Links go to each run's own report, beside this page's folder.
 */
export function renderRepeatPage(summary: RepeatSummary, runLinks: readonly string[]): string {
  const n = summary.runs.length;
  const stable = summary.claims.filter((claim) => !claim.unstable).length;
  const allHeld = summary.runs.every((run) => run.held && run.validity !== 'invalid');
  const body = html`<main>
    <header class="run">
      <div>
        <p class="eyebrow">splitlab · ${summary.scenario.name} · repeated ${n} times</p>
        <h1>${summary.scenario.title}</h1>
        <p>
          ${summary.runs.filter((run) => run.held && run.validity !== 'invalid').length} of ${n} runs held
          their hypothesis; ${stable} of ${summary.claims.length} claims gave the same verdict in every run.
          ${allHeld ? '' : 'A claim marked unstable held in some runs and not in others: its tolerance sits inside its own noise.'}
        </p>
      </div>
    </header>
    ${section(
      'runs',
      'Runs',
      table({
        columns: [
          { header: '#', numeric: true, cell: (row: { index: number }) => row.index + 1 },
          {
            header: 'Run',
            cell: (row) =>
              html`<a href="${runLinks[row.index] ?? '#'}">${summary.runs[row.index]?.runId}</a>`,
          },
          { header: 'Started', cell: (row) => formatTimestamp(summary.runs[row.index]?.startedAt ?? '') },
          { header: 'Runtime', cell: (row) => summary.runs[row.index]?.runtime },
          {
            header: 'Verdict',
            cell: (row) => {
              const run = summary.runs[row.index];
              if (!run) return MISSING;
              return run.validity === 'invalid'
                ? 'invalid: no verdict'
                : html`${heldMark(run.held)}${run.validity === 'degraded' ? ' (measurement degraded)' : ''}`;
            },
          },
        ],
        rows: summary.runs.map((_, index) => ({ index })),
      }),
    )}
    ${section(
      'claims',
      'Claims over the runs',
      html`<p>Observed: min / median / max over the runs. Spread: (max − min) / median.</p>`,
      table({
        columns: [
          {
            header: 'Claim',
            cell: (row: RepeatSummary['claims'][number]) =>
              html`${row.claim.description}<br /><code>${row.claim.id}</code>`,
          },
          { header: 'Metric', cell: (row) => html`<code>${describeClaimMetric(row.claim)}</code>` },
          {
            header: 'Observed',
            numeric: true,
            cell: (row) =>
              formatSpread(row.observed, row.claim.unit, row.claim.relativeTo?.by === 'difference'),
          },
          { header: 'Spread', numeric: true, cell: (row) => formatRelative(row.observed) },
          {
            header: 'Tolerance',
            numeric: true,
            cell: (row) => formatClaimExpected({ ...row.claim, observed: row.observed.median }),
          },
          { header: 'Held', numeric: true, cell: (row) => `${row.held} of ${row.judged}` },
          {
            header: 'Verdict',
            cell: (row) =>
              row.unstable
                ? html`<span class="held-no">unstable</span>`
                : row.judged === 0
                  ? 'no verdict'
                  : heldMark(row.held === row.judged),
          },
        ],
        rows: summary.claims,
        rowAttributes: (row) => ({
          'data-claim': row.claim.id,
          ...(row.unstable ? { class: 'unstable' } : {}),
        }),
      }),
    )}
    ${section(
      'figures',
      'Every phase over the runs',
      html`<p>Per deployment, route and phase: min / median / max over the runs.</p>`,
      table({
        compact: true,
        columns: [
          { header: 'Deployment', cell: (row: RepeatSummary['figures'][number]) => row.deployment },
          { header: 'Route', cell: (row) => row.route },
          { header: 'Phase', cell: (row) => row.phase },
          { header: 'Success rate', numeric: true, cell: (row) => formatSpread(row.successRate, 'ratio') },
          { header: 'p50', numeric: true, cell: (row) => formatSpread(row.p50Ms, 'ms') },
          { header: 'p50 spread', numeric: true, cell: (row) => formatRelative(row.p50Ms) },
          { header: 'p99', numeric: true, cell: (row) => formatSpread(row.p99Ms, 'ms') },
          { header: 'p99 spread', numeric: true, cell: (row) => formatRelative(row.p99Ms) },
        ],
        rows: summary.figures,
      }),
    )}
  </main>`;
  return page({ title: `splitlab: ${summary.scenario.name} repeated ${n} times`, body });
}
