/**
 * The page that lists every run in a reports folder. Plain HTML and inline CSS: it has no charts, so it
 * does not carry the chart library.
 */
import type { RunResults } from '../results.ts';
import { formatDuration, formatTimestamp } from './format.ts';
import { escapeHtml, html } from './html.ts';
import { REPORT_CSS } from './styles.ts';

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
  const row = ({ dir, results }: RunIndexEntry) => {
    const held = results.hypothesis.claims.filter((claim) => claim.held).length;
    const href = `${encodeURIComponent(dir)}/index.html`;
    return html`<tr data-run-dir="${dir}">
      <td class="num">${formatTimestamp(results.startedAt)}</td>
      <td class="nowrap"><code>${results.scenario.name}</code></td>
      <td><a href="${href}">${results.scenario.title}</a></td>
      <td>${results.runtime.name}</td>
      <td class="num">${formatDuration(results.wallTimeMs)}</td>
      <td>
        ${
          results.hypothesis.held
            ? html`<span class="held-yes">✓ held</span>`
            : html`<span class="held-no">✗ did not hold</span>`
        }
        <span class="muted small">(${held}/${results.hypothesis.claims.length} claims)</span>
      </td>
      <td><a href="${href}" class="mono small">${dir}</a></td>
    </tr>`;
  };
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
        : html`<div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th class="num">Started</th>
                  <th>Scenario</th>
                  <th>Question</th>
                  <th>Runtime</th>
                  <th class="num">Wall time</th>
                  <th>Verdict</th>
                  <th>Run</th>
                </tr>
              </thead>
              <tbody>
                ${runs.map(row)}
              </tbody>
            </table>
          </div>`
    }
  </main>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>splitlab ${escapeHtml(options.heading ?? 'runs')}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${body.text}
</body>
</html>
`;
}
