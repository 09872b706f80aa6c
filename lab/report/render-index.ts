/**
 * The page that lists every run in a reports folder: trends by scenario (verdicts and claim values
 * across runs, see render-trends.ts), the list of runs, and a picker that prints the `npm run compare`
 * command for two of them. The page is static: its inline script only draws the charts and fills in
 * the command, and it carries the chart library only when it has a chart to draw.
 */
import { LAZY_CHARTS_FUNCTION } from './lazy-charts-script.ts';
import { formatDuration, formatTimestamp } from './format.ts';
import { html, inlineScript, jsonForScript, raw, type SafeHtml } from './html.ts';
import { INDEX_CSS } from './index-styles.ts';
import { heldMark, page, table, type TableColumn } from './markup.ts';
import { echartsLibrarySource } from './render-run.ts';
import { buildTrends, renderTrends } from './render-trends.ts';
import type { RunIndexEntry } from './run-index-entry.ts';

/** Id of the JSON block with the trend charts' options. */
export const TREND_CHARTS_SCRIPT_ID = 'splitlab-trend-charts';

export type { RunIndexEntry };

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
  options: {
    /** A batch page (`npm run scenario -- all`) names itself and says what it holds. */
    heading?: string;
    intro?: string;
    /** How the compare command names the reports folder; `reports` by default. */
    reportsPath?: string;
  } = {},
): string {
  const runs = sortRunsNewestFirst(entries);
  const canCompare = runs.length >= 2;
  const trends = runs.length > 0 ? renderTrends(buildTrends(runs)) : null;
  const charts = trends?.charts ?? [];
  const link = ({ dir }: RunIndexEntry) => `${encodeURIComponent(dir)}/index.html`;
  const pick = (side: 'a' | 'b'): TableColumn<RunIndexEntry> => ({
    header: side.toUpperCase(),
    title: `Run ${side.toUpperCase()} of npm run compare`,
    cellClass: 'pick',
    cell: ({ dir }) =>
      html`<input
        type="radio"
        name="compare-${side}"
        value="${dir}"
        aria-label="Compare ${dir} as run ${side.toUpperCase()}"
      />`,
  });
  const runsTable = table<RunIndexEntry>({
    columns: [
      ...(canCompare ? [pick('a'), pick('b')] : []),
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
  const reportsPath = options.reportsPath ?? 'reports';
  const compareBox = html`<div class="compare-box" id="compare">
    <span>Compare two runs: pick <b>A</b> and <b>B</b> above, then run</span>
    <code id="compare-command" data-reports="${reportsPath}"
      >npm run compare -- ${reportsPath}/&lt;a&gt; ${reportsPath}/&lt;b&gt;</code
    >
    <button type="button" id="compare-copy">Copy</button>
    <span class="compare-note" id="compare-note" role="status"></span>
  </div>`;
  const body = html`<style>
      ${raw(INDEX_CSS)}
    </style>
    <main>
      <p class="eyebrow">splitlab</p>
      <h1>${options.heading ?? 'Runs'}</h1>
      <p class="muted">
        ${options.intro ? html`${options.intro} ` : null}${runs.length} ${runs.length === 1 ? 'run' : 'runs'},
        newest first. Each run folder holds its report (<code>index.html</code>) and the data it was drawn
        from (<code>results.json</code>).
      </p>
      ${
        runs.length > 0
          ? html`<p class="small">
              <a href="#runs">All runs</a>${canCompare ? ' (pick two to compare)' : null} ·
              <a href="#trends">Trends by scenario</a>
            </p>`
          : null
      }
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
          : html`<section id="runs">
              <h2>All runs</h2>
              ${runsTable} ${canCompare ? compareBox : null}
            </section>`
      }
      ${trends?.markup}
    </main>
    ${canCompare || charts.length > 0 ? pageScripts(charts) : null}`;
  return page({
    title: `splitlab ${options.heading ?? 'runs'}`,
    body,
    scripts: canCompare || charts.length > 0,
  });
}

/** The charts' options, the chart library when there is a chart, and the index's own script. */
function pageScripts(charts: readonly unknown[]): SafeHtml {
  return html`<script type="application/json" id="${TREND_CHARTS_SCRIPT_ID}">
      ${raw(jsonForScript(charts))}
    </script>
    ${
      charts.length > 0
        ? html`<script type="text/javascript" id="splitlab-echarts">
            ${raw(echartsLibrarySource())};
          </script>`
        : null
    }
    <script type="text/javascript" id="splitlab-index-script">
      ${raw(inlineScript(INDEX_PAGE_SCRIPT))};
    </script>`;
}

/**
 * The index's browser code: fills in the compare command from the two picked runs, and draws each
 * trend chart when it comes near the viewport (all of them before printing), so a page with hundreds
 * of runs opens at once.
 */
export const INDEX_PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var root = document.documentElement;

  var command = document.getElementById('compare-command');
  var copy = document.getElementById('compare-copy');
  var note = document.getElementById('compare-note');
  function picked(name) {
    var input = document.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }
  // Folder names are usually plain; anything else is single-quoted for the shell.
  function shellWord(text) {
    return /^[A-Za-z0-9_.\/:@%+=,-]+$/.test(text) ? text : "'" + text.replace(/'/g, "'\\''") + "'";
  }
  function updateCommand() {
    if (!command) return;
    var folder = command.getAttribute('data-reports') || 'reports';
    var a = picked('compare-a');
    var b = picked('compare-b');
    command.textContent =
      'npm run compare -- ' +
      (a ? shellWord(folder + '/' + a) : folder + '/<a>') + ' ' +
      (b ? shellWord(folder + '/' + b) : folder + '/<b>');
    if (note) note.textContent = a && b && a === b ? 'A and B are the same run: pick two different runs.' : '';
    root.dataset.compare = a && b && a !== b ? 'ready' : 'incomplete';
  }
  document.addEventListener('change', function (event) {
    var name = event.target && event.target.name;
    if (name === 'compare-a' || name === 'compare-b') updateCommand();
  });
  updateCommand();
  if (copy && command) {
    copy.addEventListener('click', function () {
      function selectCommand(message) {
        var range = document.createRange();
        range.selectNodeContents(command);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        copy.textContent = message;
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(command.textContent || '').then(
          function () { copy.textContent = 'Copied'; },
          function () { selectCommand('Selected: press Ctrl+C'); }
        );
      } else {
        selectCommand('Selected: press Ctrl+C');
      }
      setTimeout(function () { copy.textContent = 'Copy'; }, 2500);
    });
  }

  ${LAZY_CHARTS_FUNCTION}

  var specsElement = document.getElementById('splitlab-trend-charts');
  var specs = specsElement ? JSON.parse(specsElement.textContent || '[]') : [];
  root.dataset.chartsTotal = String(specs.length);
  root.dataset.chartsDrawn = '0';
  if (specs.length === 0) return;
  if (typeof echarts === 'undefined') {
    specs.forEach(function (spec) {
      var element = document.getElementById(spec.id);
      if (element) {
        element.classList.add('chart-problem');
        element.textContent = "The chart library did not load; each run's report holds the same numbers.";
      }
    });
    return;
  }

  function trimZeros(text) {
    return text.indexOf('.') >= 0 ? text.replace(/\.?0+$/, '') : text;
  }
  // The report's units (lab/report/format.ts), short enough for an axis label.
  function formatValue(unit, signed, value) {
    if (value === null || value === undefined || isNaN(value)) return '—';
    var v = Number(value);
    var sign = signed && v > 0 ? '+' : '';
    switch (unit) {
      case 'ratio': return signed ? sign + trimZeros((v * 100).toFixed(1)) + ' pt' : trimZeros((v * 100).toFixed(2)) + ' %';
      case 'factor': return '×' + trimZeros(v.toFixed(2));
      case 'ms': return Math.abs(v) >= 1000 ? sign + trimZeros((v / 1000).toFixed(2)) + ' s' : sign + trimZeros(v.toFixed(1)) + ' ms';
      case 's': return sign + trimZeros(v.toFixed(2)) + ' s';
      case 'perSecond': return sign + trimZeros(v.toFixed(1)) + '/s';
      default: return sign + trimZeros(v.toFixed(3));
    }
  }

  drawChartsLazily(specs, {
    rootMargin: '300px 0px',
    counter: 'chartsDrawn',
    what: 'chart',
    prepare: function (option, spec) {
      option.yAxis.axisLabel.formatter = function (value) { return formatValue(spec.unit, spec.signed, value); };
      option.tooltip.formatter = function (params) { return (params.data && params.data.tip) || ''; };
    },
  });
})();
`;
