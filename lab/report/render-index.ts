/**
 * The page that lists every run in a reports folder. Plain HTML and inline CSS: it has no charts, so it
 * does not carry the chart library.
 */
import type { RunResults } from '../results.ts';
import { formatDuration, formatTimestamp } from './format.ts';
import { html } from './html.ts';
import { heldMark, page, table } from './markup.ts';

export interface RunIndexEntry {
  /** Folder name of the run inside the reports folder. */
  dir: string;
  results: RunResults;
}

export interface RunIndexProblem {
  dir: string;
  message: string;
}

/**
 * Newest first by start time; runs whose start time does not parse go last, ordered by folder name.
 *
 * @example sortRunsNewestFirst(entries)[0] // the most recent run
 */
export function sortRunsNewestFirst(entries: readonly RunIndexEntry[]): RunIndexEntry[] {
  const time = (entry: RunIndexEntry) => {
    const parsed = Date.parse(entry.results.startedAt);
    return Number.isNaN(parsed) ? -Infinity : parsed;
  };
  return [...entries].sort((a, b) => time(b) - time(a) || b.dir.localeCompare(a.dir));
}

/**
 * Renders the runs index.
 *
 * @example renderRunsIndex([{ dir: '2026-11-25-partition', results }], [])
 */
export function renderRunsIndex(
  entries: readonly RunIndexEntry[],
  problems: readonly RunIndexProblem[],
  /** A batch page (`npm run scenario -- all`) names itself and says what it holds. */
  options: { heading?: string; intro?: string } = {},
): string {
  const runs = sortRunsNewestFirst(entries);
  const link = ({ dir }: RunIndexEntry) => `${encodeURIComponent(dir)}/index.html`;
  const runsTable = table<RunIndexEntry>({
    columns: [
      { header: 'Started', numeric: true, cell: ({ results }) => formatTimestamp(results.startedAt) },
      {
        header: 'Scenario',
        cellClass: 'nowrap',
        cell: ({ results }) => html`<code>${results.scenario.name}</code>`,
      },
      { header: 'Question', cell: (run) => html`<a href="${link(run)}">${run.results.scenario.title}</a>` },
      { header: 'Runtime', cell: ({ results }) => results.runtime.name },
      { header: 'Wall time', numeric: true, cell: ({ results }) => formatDuration(results.wallTimeMs) },
      {
        header: 'Verdict',
        cell: ({ results: { hypothesis, validity } }) => {
          // An invalid run has no verdict; a degraded one keeps it, with a warning beside it.
          if (validity?.status === 'invalid') return html`<span class="held-no">invalid: no verdict</span>`;
          const held = hypothesis.claims.filter((claim) => claim.held).length;
          const count = `(${held}/${hypothesis.claims.length} claims)`;
          const degraded =
            validity?.status === 'degraded'
              ? html` <span class="degraded-mark">measurement degraded</span>`
              : null;
          return html`${heldMark(hypothesis.held)} <span class="muted small">${count}</span>${degraded}`;
        },
      },
      { header: 'Run', cell: (run) => html`<a href="${link(run)}" class="mono small">${run.dir}</a>` },
    ],
    rows: runs,
    rowAttributes: ({ dir }) => ({ 'data-run-dir': dir }),
  });
  const body = html`<main>
    <p class="eyebrow">splitlab</p>
    <h1>${options.heading ?? 'Runs'}</h1>
    <p class="muted">
      ${options.intro ? html`${options.intro} ` : null}${runs.length} ${runs.length === 1 ? 'run' : 'runs'},
      newest first. Each run folder holds its report (<code>index.html</code>) and the data it was drawn from
      (<code>results.json</code>).
    </p>
    ${
      problems.length > 0
        ? html`<div class="notes" id="unreadable-runs">
            <strong>Skipped ${problems.length} ${problems.length === 1 ? 'folder' : 'folders'}:</strong>
            <ul>
              ${problems.map((p) => html`<li><code>${p.dir}</code>: ${p.message}</li>`)}
            </ul>
          </div>`
        : null
    }
    ${
      runs.length === 0
        ? html`<p>No runs yet. Run a scenario with <code>npm run scenario -- &lt;name&gt;</code>.</p>`
        : runsTable
    }
  </main>`;
  return page({ title: `splitlab ${options.heading ?? 'runs'}`, body });
}
