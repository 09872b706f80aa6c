/**
 * The page of `npm run compare`: two or more runs side by side, in the look of the run report (its
 * styles, tables, ECharts inline and page script), self-contained like it and making no network request.
 */
import {
  buildComparisonCharts,
  runColour,
  type ComparisonChartGroup,
  type FaultBand,
} from '../compare/comparison-charts.ts';
import type {
  CauseDifference,
  ClaimRow,
  Comparison,
  FieldRow,
  LatencyDifference,
  NoiseVerdict,
  PhaseDifference,
  PhaseRow,
} from '../compare/comparison.ts';
import type { RunResults } from '../results.ts';
import type { ClaimUnit } from '../vocabulary/claim-metrics.ts';
import type { ChartSpec } from './charts.ts';
import {
  describeClaimMetric,
  formatClaimExpected,
  formatClaimObserved,
  formatCount,
  formatFailures,
  formatMs,
  formatRate,
  formatTimestamp,
  formatUnitValue,
  MISSING,
} from './format.ts';
import { html, raw, type HtmlValue, type SafeHtml } from './html.ts';
import { heldMark, page, section, table, type TableColumn } from './markup.ts';
import { chartPageScripts } from './render-run.ts';

/** Id of the JSON block holding the comparison (the same object as comparison.json). */
export const COMPARISON_SCRIPT_ID = 'splitlab-comparison';

const COMPARE_CSS = `
tr.differs td { background: #fff8e6 !important; }
tr.differs td:first-child { font-weight: 600; }
tr.differs td:first-child::after { content: " ≠"; color: #7a5200; }
.run-tag { display: inline-block; min-width: 1.7em; padding: 0 5px; border-radius: 4px; color: #fff; font-weight: 700; text-align: center; }
.noise { display: block; font-size: 0.8rem; white-space: normal; }
.noise.within-noise { color: var(--muted); }
.noise.beyond-noise { color: var(--bad); font-weight: 600; }
.noise.not-assessed { color: #7a5200; font-style: italic; }
td.reference { color: var(--muted); font-style: italic; }
tr.first-of-phase td { border-top: 2px solid #c9d0da; }
ul.runs li { margin: 0.25em 0; }
ul.not-compared li { margin: 0.2em 0; }
.tally { font-size: 1.02rem; }
.cause { display: block; }
.cause + .cause { margin-top: 0.3em; }
p.fault-note { margin: 0.2em 0 0.6em; min-height: 2.8em; } /* two lines: charts side by side stay level */
`;

/**
 * Renders the comparison page. `results` are the compared runs in the comparison's order (the charts
 * are drawn from their per-second figures).
 *
 * @example await writeFile('index.html', renderComparisonPage(comparison, runs.map((run) => run.results)));
 */
export function renderComparisonPage(comparison: Comparison, results: readonly RunResults[]): string {
  const charts = buildComparisonCharts(comparison, results);
  const body = html`
    <style>
      ${raw(COMPARE_CSS)}
    </style>
    <main>
      ${renderHeader(comparison, results)} ${renderRuns(comparison)} ${renderClaims(comparison)}
      ${renderPhases(comparison)} ${renderCharts(charts.groups)} ${renderNotCompared(comparison)}
      ${renderMethod(comparison)} ${renderFooter(comparison)}
    </main>
    ${chartPageScripts(COMPARISON_SCRIPT_ID, comparison, charts.all)}
  `;
  return page({
    title: `${pageHeading(comparison, results)} — splitlab comparison`,
    body,
    scripts: true,
    generator: `splitlab comparison, version ${comparison.comparisonVersion}`,
  });
}

function pageHeading(comparison: Comparison, results: readonly RunResults[]): string {
  const scenarios = [...new Set(comparison.runs.map((run) => run.scenario))];
  return scenarios.length === 1
    ? (results[0]?.scenario.title ?? scenarios[0] ?? '')
    : `${scenarios.join(' vs ')}: what the runs share`;
}

function runTag(comparison: Comparison, index: number): SafeHtml {
  const label = comparison.runs[index]?.label ?? '?';
  return html`<span class="run-tag" style="background: ${runColour(index)}">${label}</span>`;
}

type Tally = Record<NoiseVerdict, number>;

/** How many differences from A got each verdict, per kind of figure. */
function verdictCounts(comparison: Comparison): {
  median: Tally;
  p99: Tally;
  successRate: Tally;
  failures: Tally;
} {
  const empty = (): Tally => ({ 'within-noise': 0, 'beyond-noise': 0, 'not-assessed': 0 });
  const counts = { median: empty(), p99: empty(), successRate: empty(), failures: empty() };
  for (const row of comparison.phases) {
    for (const difference of row.versusFirst) {
      if (!difference) continue;
      counts.median[difference.latencyMedian.verdict] += 1;
      counts.p99[difference.latencyP99.verdict] += 1;
      counts.successRate[difference.successRate.verdict] += 1;
      for (const cause of Object.values(difference.failureCauses)) counts.failures[cause.verdict] += 1;
    }
  }
  return counts;
}

function beyondText(count: number): HtmlValue {
  return count > 0 ? html`<strong class="bad">${count} beyond the noise</strong>` : '0 beyond the noise';
}

function renderHeader(comparison: Comparison, results: readonly RunResults[]): SafeHtml {
  const counts = verdictCounts(comparison);
  const scenarios = [...new Set(comparison.runs.map((run) => run.scenario))];
  const notCompared = comparison.notCompared.length;
  const whyLink = html`<a href="#not-compared">why</a>`;
  const failureTests =
    counts.failures['beyond-noise'] + counts.failures['within-noise'] + counts.failures['not-assessed'];
  return html`<header>
    <p class="eyebrow">
      splitlab comparison of ${comparison.runs.length} runs
      ${scenarios.length === 1 ? html`of scenario <code>${scenarios[0]}</code>` : null}
    </p>
    <h1>${pageHeading(comparison, results)}</h1>
    <ul class="runs">
      ${comparison.runs.map(
        (run, index) =>
          html`<li>
            ${runTag(comparison, index)} <code>${run.runId}</code> · scenario <code>${run.scenario}</code> ·
            ${run.runtime} · started ${formatTimestamp(run.startedAt)} · hypothesis
            ${heldMark(run.hypothesisHeld)}
            ${index === 0 ? html`<span class="tag">reference</span>` : null}<br /><span
              class="muted small mono"
              >${run.source}</span
            >
          </li>`,
      )}
    </ul>
    <p class="tally">
      ${comparison.phases.length} shared phase figures. Median latency against A:
      ${beyondText(counts.median['beyond-noise'])}, ${counts.median['within-noise']} within the noise,
      ${counts.median['not-assessed']} not assessed. p99: ${beyondText(counts.p99['beyond-noise'])},
      ${counts.p99['within-noise']} within the noise, ${counts.p99['not-assessed']} not assessed. Success
      rate: ${beyondText(counts.successRate['beyond-noise'])}. Failure causes:
      ${failureTests === 0 ? 'none in any run' : beyondText(counts.failures['beyond-noise'])}.
      ${
        notCompared === 0
          ? 'Everything the runs have was compared.'
          : html`${notCompared} ${notCompared === 1 ? 'thing' : 'things'} not compared (${whyLink}).`
      }
    </p>
  </header>`;
}

function renderRuns(comparison: Comparison): SafeHtml {
  const columns: TableColumn<FieldRow>[] = [
    { header: 'Field', cellClass: 'nowrap', cell: (row) => row.field },
    ...comparison.runs.map((run, index): TableColumn<FieldRow> => ({
      header: html`${runTag(comparison, index)} <span class="small mono">${run.runId}</span>`,
      cellClass: 'small',
      cell: (row) => row.values[index] ?? MISSING,
    })),
  ];
  const differing = comparison.fields.filter((row) => row.differs && !row.identity).length;
  return section(
    'runs',
    'Runs and what made them',
    html`<p class="muted small">
        ${
          differing === 0
            ? 'Apart from their ids and times, the runs were made the same way.'
            : `${differing} ${differing === 1 ? 'field differs' : 'fields differ'} (highlighted, ≠). Ports are left out: every run picks its own.`
        }
      </p>
      ${table({
        columns,
        rows: comparison.fields,
        compact: true,
        rowAttributes: (row): Record<string, string> =>
          row.differs && !row.identity ? { class: 'differs' } : {},
      })}`,
  );
}

function formatDifference(unit: ClaimUnit, value: number | null): string {
  if (value === null || !Number.isFinite(value)) return MISSING;
  if (unit === 'factor') return `${value > 0 ? '+' : ''}${Number(value.toFixed(2))}`;
  return formatUnitValue(unit, value, true);
}

function renderClaims(comparison: Comparison): SafeHtml {
  const columns: TableColumn<ClaimRow>[] = [
    {
      header: 'Claim',
      cell: (claim) => html`${claim.description}<br /><span class="muted small mono">${claim.id}</span>`,
    },
    {
      header: 'Where',
      cellClass: 'small',
      cell: (claim) => `${claim.deployment} · ${claim.route} · ${claim.phase}`,
    },
    { header: 'Metric', cell: (claim) => html`<code>${describeClaimMetric(claim)}</code>` },
    ...comparison.runs.map((_, index): TableColumn<ClaimRow> => ({
      header: runTag(comparison, index),
      numeric: true,
      cell: (claim) => {
        const inRun = claim.runs[index];
        if (!inRun) return html`<span class="muted">not in this run</span>`;
        const expected = formatClaimExpected({ ...inRun, unit: claim.unit, relativeTo: claim.relativeTo });
        return html`${formatClaimObserved({ ...inRun, unit: claim.unit, relativeTo: claim.relativeTo })}
          ${heldMark(inRun.held)}<br /><span class="muted small">expected ${expected}</span>`;
      },
    })),
    ...comparison.runs.slice(1).map((_, offset): TableColumn<ClaimRow> => ({
      header: html`${runTag(comparison, offset + 1)} − ${runTag(comparison, 0)}`,
      numeric: true,
      cell: (claim) => {
        const inRun = claim.runs[offset + 1];
        const first = claim.runs[0];
        if (!inRun || !first) return MISSING;
        const heldChanged = inRun.held !== first.held;
        return html`${formatDifference(claim.unit, inRun.differenceFromFirst)}${
          heldChanged ? html`<br /><span class="bad small">verdict changed</span>` : null
        }`;
      },
    })),
  ];
  return section(
    'claims',
    'Claims side by side',
    comparison.claims.length === 0
      ? html`<p class="muted">None of the runs states a claim.</p>`
      : html`<p class="muted small">
            Each claim by its id, as each run measured it, and its difference from A. A claim only some runs
            state is shown where it exists and listed under <a href="#not-compared">not compared</a>.
          </p>
          ${table({ columns, rows: comparison.claims, rowAttributes: (claim) => ({ 'data-claim-id': claim.id }) })}`,
  );
}

function verdictText(verdict: NoiseVerdict, note?: string): string {
  if (verdict === 'within-noise') return 'within the noise';
  if (verdict === 'beyond-noise') return 'beyond the noise';
  return note ?? 'noise not assessed';
}

function noiseLabel(verdict: NoiseVerdict, note?: string): SafeHtml {
  return html`<span class="noise ${verdict}" data-verdict="${verdict}">${verdictText(verdict, note)}</span>`;
}

interface PhaseRunRow {
  row: PhaseRow;
  index: number;
}

function rateCell(difference: PhaseDifference['successRate']): HtmlValue {
  if (difference.difference === null) return noiseLabel(difference.verdict, difference.note);
  return html`${formatUnitValue('ratio', difference.difference, true)}${noiseLabel(difference.verdict)}<span
      class="muted small"
      >${pText(difference.pValue)}</span
    >`;
}

function latencyCell(difference: LatencyDifference): HtmlValue {
  if (difference.differenceMs === null) return noiseLabel(difference.verdict, difference.note);
  const interval =
    difference.lowMs === null || difference.highMs === null
      ? null
      : html`<span class="muted small"
          >[${formatMs(difference.lowMs)}, ${formatMs(difference.highMs)}]</span
        >`;
  return html`${formatUnitValue('ms', difference.differenceMs, true)}
  ${interval}${noiseLabel(difference.verdict, difference.note)}`;
}

function pText(pValue: number | null): string {
  if (pValue === null) return '';
  return ` (p ${pValue < 0.001 ? '< 0.001' : `= ${pValue.toFixed(3)}`})`;
}

/** Each cause whose count changed or whose share differs beyond the noise, with its verdict. */
function failuresCell(failureCauses: Record<string, CauseDifference>): HtmlValue {
  const shown = Object.entries(failureCauses).filter(
    ([, cause]) => cause.count !== 0 || cause.verdict === 'beyond-noise',
  );
  if (shown.length === 0) return 'same';
  return shown.map(
    ([name, cause]) =>
      html`<span class="cause" data-cause="${name}"
        >${name} ${formatUnitValue('count', cause.count, true)}<span class="muted small"
          >${pText(cause.pValue)}</span
        >${noiseLabel(cause.verdict, cause.verdict === 'not-assessed' ? cause.note : undefined)}${
          cause.note && cause.verdict !== 'not-assessed'
            ? html`<span class="muted small">${cause.note}</span>`
            : null
        }</span
      >`,
  );
}

function renderPhases(comparison: Comparison): SafeHtml {
  const columns: TableColumn<PhaseRunRow>[] = [
    { header: 'Phase', cell: ({ row, index }) => (index === 0 ? html`<strong>${row.phase}</strong>` : '') },
    { header: 'Run', cell: ({ index }) => runTag(comparison, index) },
    { header: 'Requests', numeric: true, cell: ({ row, index }) => formatCount(row.runs[index]?.completed) },
    { header: 'Success', numeric: true, cell: ({ row, index }) => formatRate(row.runs[index]?.successRate) },
    { header: 'p50', numeric: true, cell: ({ row, index }) => formatMs(row.runs[index]?.p50Ms) },
    { header: 'p99', numeric: true, cell: ({ row, index }) => formatMs(row.runs[index]?.p99Ms) },
    {
      header: 'Failures',
      cellClass: 'failures small',
      cell: ({ row, index }) => formatFailures(row.runs[index]?.failures ?? {}),
    },
    {
      header: 'Success rate vs A',
      title: 'Difference of success rates, with the two-proportion test',
      numeric: true,
      cellClass: ({ index }) => index === 0 && 'reference',
      cell: ({ row, index }) => {
        const difference = row.versusFirst[index];
        return index === 0 ? 'reference' : difference ? rateCell(difference.successRate) : MISSING;
      },
    },
    {
      header: 'Median vs A [95 % CI]',
      title: 'Difference of medians with its bootstrap 95 % confidence interval',
      numeric: true,
      cellClass: ({ index }) => index === 0 && 'reference',
      cell: ({ row, index }) => {
        const difference = row.versusFirst[index];
        return index === 0 ? 'reference' : difference ? latencyCell(difference.latencyMedian) : MISSING;
      },
    },
    {
      header: 'p99 vs A [95 % CI]',
      title:
        'Difference of p99 with its bootstrap 95 % confidence interval, when each run has enough requests',
      numeric: true,
      cellClass: ({ index }) => index === 0 && 'reference',
      cell: ({ row, index }) => {
        const difference = row.versusFirst[index];
        return index === 0 ? 'reference' : difference ? latencyCell(difference.latencyP99) : MISSING;
      },
    },
    {
      header: 'Failures vs A',
      title: "Difference in each cause's count, with the two-proportion test of its share of the requests",
      cellClass: ({ index }) => (index === 0 ? 'reference small' : 'small'),
      cell: ({ row, index }) => {
        if (index === 0) return 'reference';
        const difference = row.versusFirst[index];
        return difference ? failuresCell(difference.failureCauses) : MISSING;
      },
    },
  ];
  const groups: { deployment: string; route: string; rows: PhaseRow[] }[] = [];
  for (const row of comparison.phases) {
    const group = groups.find((g) => g.deployment === row.deployment && g.route === row.route);
    if (group) group.rows.push(row);
    else groups.push({ deployment: row.deployment, route: row.route, rows: [row] });
  }
  return section(
    'phases',
    'Per phase',
    html`<p class="muted small">
      Every phase of every route and deployment the runs share. Each difference is the run minus A; the
      median's interval and the noise labels are explained under
      <a href="#method">how differences are judged</a>.
    </p>`,
    groups.length === 0
      ? html`<p class="muted">
          The runs share no phase of any route: see <a href="#not-compared">not compared</a>.
        </p>`
      : groups.map(
          (group) =>
            html`<h3>${group.deployment} · <code>${group.route}</code></h3>
              ${table<PhaseRunRow>({
                columns,
                compact: true,
                rows: group.rows.flatMap((row) => row.runs.map((_, index) => ({ row, index }))),
                rowAttributes: ({ row, index }) => ({
                  ...(index === 0 ? { class: 'first-of-phase' } : {}),
                  'data-phase': `${row.deployment}/${row.route}/${row.phase}`,
                  'data-run': comparison.runs[index]?.label ?? '',
                }),
              })}`,
        ),
  );
}

function renderCharts(groups: readonly ComparisonChartGroup[]): SafeHtml {
  const figure = (caption: SafeHtml, chart: ChartSpec) =>
    html`<figure class="chart">
      <figcaption>${caption}</figcaption>
      <div class="chart-scroll">
        <div class="chart-box" id="${chart.id}" role="img" aria-label="${chart.label}"></div>
      </div>
    </figure>`;
  return section(
    'charts',
    'Charts, overlaid',
    html`<p class="muted small">
        One colour per run (the tags above). Charts of the same kind and route share their axes across
        deployments. Dashed vertical lines mark the phase starts of A. Shaded bands are fault windows: red
        when every run had the same windows on that deployment, else each run's own in its colour, labelled
        with the run.
      </p>
      <noscript
        ><p class="notes">The charts need JavaScript; the tables above hold the numbers.</p></noscript
      >`,
    groups.length === 0
      ? html`<p class="muted">The runs share no route to draw.</p>`
      : html`<div class="deployments" data-columns="2" style="--rows: 1">
          ${groups.map(
            (group) =>
              html`<article
                class="deployment"
                data-deployment="${group.deployment}"
                data-route="${group.route}"
              >
                <div class="block">
                  ${renderFaultNote(group)}
                  ${figure(
                    html`${group.deployment} · ${group.route} · successes per second`,
                    group.successes,
                  )}
                  ${figure(
                    html`${group.deployment} · ${group.route} · latency per second
                      <span class="muted">(p50 solid, p99 dashed; log scale)</span>`,
                    group.latency,
                  )}
                </div>
              </article>`,
          )}
        </div>`,
  );
}

function bandText(band: FaultBand): string {
  return `${band.fault} on ${band.link} ${band.startS}–${band.endS} s`;
}

/** Under which bands a chart's seconds were faulted, in words: a chart without bands says so too. */
function renderFaultNote(group: ComparisonChartGroup): SafeHtml {
  const faults = group.faults;
  if (faults.kind === 'shared') {
    return html`<p class="fault-note muted small" data-faults="shared">
      ${
        faults.bands.length === 0
          ? 'No fault touched this deployment in any run.'
          : `Faults, the same in every run: ${faults.bands.map(bandText).join(', ')}.`
      }
    </p>`;
  }
  return html`<p class="fault-note small" data-faults="per-run">
    <strong>The runs' faults differ here</strong>, each shaded in its run's colour:
    ${faults.runs.map(
      (run, index) =>
        html`${index > 0 ? '; ' : ''}<span class="run-tag" style="background: ${runColour(index)}"
            >${run.label}</span
          >
          ${run.bands.length === 0 ? 'no fault' : run.bands.map(bandText).join(', ')}`,
    )}.
  </p>`;
}

function renderNotCompared(comparison: Comparison): SafeHtml {
  return section(
    'not-compared',
    'Not compared',
    comparison.notCompared.length === 0
      ? html`<p class="muted">Nothing: the runs have the same deployments, routes, phases and claims.</p>`
      : html`<ul class="not-compared">
          ${comparison.notCompared.map((item) => html`<li><strong>${item.what}</strong>: ${item.why}</li>`)}
        </ul>`,
  );
}

function renderMethod(comparison: Comparison): SafeHtml {
  return section(
    'method',
    'How differences are judged',
    html`<ul>
        <li><strong>Latency.</strong> ${comparison.method.latency}</li>
        <li><strong>p99.</strong> ${comparison.method.p99}</li>
        <li><strong>Success rate.</strong> ${comparison.method.successRate}</li>
        <li><strong>Failures by cause.</strong> ${comparison.method.failures}</li>
      </ul>
      <p class="muted small">
        "Within the noise" says these runs cannot tell the difference from run-to-run chance; it does not say
        the runs are the same. "Beyond the noise" says chance alone would rarely give a difference this large,
        not that it matters: read its size. Runs recorded before per-request latencies were kept show "no
        per-request data: noise not assessed".
      </p>`,
  );
}

function renderFooter(comparison: Comparison): SafeHtml {
  return html`<footer>
    <p>
      Everything on this page comes from the runs' <code>results.json</code> files listed at the top; the
      comparison is in <code>comparison.json</code> beside this page and embedded below as
      <code>&lt;script id="${COMPARISON_SCRIPT_ID}"&gt;</code> (comparison version
      ${comparison.comparisonVersion}, made ${formatTimestamp(comparison.generatedAt)}).
    </p>
    <p>
      Make it again with
      <code>npm run compare -- ${comparison.runs.map((run) => run.source).join(' ')}</code>. Charts by Apache
      ECharts, inlined; the page makes no network requests.
    </p>
  </footer>`;
}
