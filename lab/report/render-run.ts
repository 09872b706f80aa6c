/**
 * Renders one run's `RunResults` as a single self-contained HTML page: CSS, the ECharts library, the
 * data and the chart options are all inline, and a Content-Security-Policy forbids the page any network
 * request, so it opens the same from file:// on a laptop with no connection.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { scorePredictions } from '../predictions/score-predictions.ts';
import { SEED_MEANING } from '../provenance/provenance-facts.ts';
import type { ClaimResult, Provenance, RunResults } from '../results.ts';
import type { VariantName } from '../vocabulary/topology.ts';
import { buildReportCharts, niceCeil, orderedDeployments, timelineEndS, type ChartSpec } from './charts.ts';
import {
  formatCount,
  formatDuration,
  formatClaimExpected,
  formatClaimObserved,
  describeClaimMetric,
  formatSeconds,
  formatTimestamp,
} from './format.ts';
import { html, inlineScript, jsonForScript, raw, type SafeHtml } from './html.ts';
import { heldMark, page, section, table, type TableColumn } from './markup.ts';
import { PAGE_SCRIPT } from './page-script.ts';
import { renderCharts } from './render-charts.ts';
import { renderDeployments } from './render-deployments.ts';
import { renderExemplarsSection } from './render-exemplars.ts';
import { predictedColumn, predictionVerdictColumns, renderPredictionsScore } from './render-predictions.ts';
import { evidenceTable, observedTimelineRows } from './render-evidence.ts';
import { renderValidityBanner } from './render-validity.ts';

/** Ids of the JSON blocks in the page, for anyone (or any test) who wants the data back out. */
export const RESULTS_SCRIPT_ID = 'splitlab-results';
export const CHARTS_SCRIPT_ID = 'splitlab-charts';

let echartsSource: string | undefined;

/** The minified ECharts bundle, read once per process (it is about 1 MB). */
export function echartsLibrarySource(): string {
  if (echartsSource === undefined) {
    const path = createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
    echartsSource = inlineScript(readFileSync(path, 'utf8'));
  }
  return echartsSource;
}

/**
 * The scripts at the end of a page with charts: its data and the chart specs as JSON, ECharts, and the
 * page script that draws every chart box from the specs. The run page and the comparison share it.
 */
/** The traced requests of each column as waterfalls; nothing for a run that did not trace. */
function renderTraces(results: RunResults): SafeHtml | null {
  const deployments = orderedDeployments(results);
  if (!deployments.some((deployment) => (deployment.exemplars ?? []).length > 0)) return null;
  return html`${deployments.map((deployment) => renderExemplarsSection(deployment))}`;
}

export function chartPageScripts(dataId: string, data: unknown, charts: readonly ChartSpec[]): SafeHtml {
  return html`<script type="application/json" id="${dataId}">
      ${raw(jsonForScript(data))}
    </script>
    <script type="application/json" id="${CHARTS_SCRIPT_ID}">
      ${raw(jsonForScript(charts))}
    </script>
    <script>
      ${raw(echartsLibrarySource())};
    </script>
    <script>
      ${raw(PAGE_SCRIPT)};
    </script>`;
}

/**
 * Renders the report page of one run. Pure: the same results give the same bytes, so an old
 * results.json re-renders to the page it had (give or take renderer changes).
 *
 * @example
 * const page = renderRunReport(results);
 * await writeFile('reports/2026-11-25-partition/index.html', page);
 */
export function renderRunReport(results: RunResults): string {
  const charts = buildReportCharts(results);
  // What to look at comes right under the verdict: it is what a workshop reads first.
  const body = html`
    <main>
      ${renderHeader(results)} ${renderValidityBanner(results)} ${renderWhatToLookAt(results)}
      ${renderHypothesis(results)} ${renderTimeline(results)} ${renderLoad(results)}
      ${renderDeployments(results)} ${renderCharts(results, charts)} ${renderTraces(results)}
      ${renderProvenance(results)} ${renderFooter(results)}
    </main>
    ${chartPageScripts(RESULTS_SCRIPT_ID, results, charts.all)}
  `;
  return page({
    title: `${results.scenario.title} — splitlab`,
    body,
    scripts: true,
    generator: `splitlab report, results schema ${results.schemaVersion}`,
  });
}

function renderHeader(results: RunResults): SafeHtml {
  const { claims, held } = results.hypothesis;
  const heldCount = claims.filter((claim) => claim.held).length;
  const details = Object.entries(results.runtime.details);
  return html`
    <header class="run">
      <div>
        <p class="eyebrow">splitlab scenario <code>${results.scenario.name}</code></p>
        <h1>${results.scenario.title}</h1>
        <blockquote class="claim">
          <span class="muted small">The claim it tests:</span><br />${results.scenario.claim}
        </blockquote>
        <dl class="meta">
          <dt>Run</dt>
          <dd><code>${results.runId}</code></dd>
          <dt>Runtime</dt>
          <dd>
            <strong>${results.runtime.name}</strong>
            ${
              details.length > 0
                ? html`<span class="muted"
                    >(${details.map(([key, value], index) =>
                      index === 0 ? html`${key}: ${value}` : html`; ${key}: ${value}`,
                    )})</span
                  >`
                : null
            }
          </dd>
          <dt>Started</dt>
          <dd>${formatTimestamp(results.startedAt)}</dd>
          <dt>Finished</dt>
          <dd>${formatTimestamp(results.finishedAt)}</dd>
          <dt>Wall time</dt>
          <dd>${formatDuration(results.wallTimeMs)}</dd>
        </dl>
      </div>
      ${
        results.validity?.status === 'invalid'
          ? html`<div class="verdict invalid" role="status">
              No verdict
              <span class="sub">the run is invalid: the lab could not do what the scenario asked</span>
            </div>`
          : html`<div class="verdict ${held ? 'held' : 'failed'}" role="status">
              ${held ? '✓ Hypothesis held' : '✗ Hypothesis did not hold'}
              <span class="sub"
                >${heldCount} of ${claims.length} ${claims.length === 1 ? 'claim' : 'claims'} held</span
              >
              ${
                results.validity?.status === 'degraded'
                  ? html`<span class="degraded-note">⚠ measurement degraded</span>`
                  : null
              }
            </div>`
      }
    </header>
  `;
}

function renderWhatToLookAt(results: RunResults): SafeHtml {
  const items = results.scenario.whatToLookAt;
  return section(
    'what-to-look-at',
    'What to look at',
    items.length === 0
      ? html`<p class="muted">The scenario gives no pointers.</p>`
      : html`<ul class="look">
          ${items.map((item) => html`<li>${item}</li>`)}
        </ul>`,
  );
}

function renderHypothesis(results: RunResults): SafeHtml {
  const claims = results.hypothesis.claims;
  const score = scorePredictions(results);
  const leading: TableColumn<ClaimResult>[] = [
    {
      header: 'Claim',
      cell: (claim) => html`${claim.description}<br /><span class="muted small mono">${claim.id}</span>`,
    },
    { header: 'Deployment', cell: (claim) => claim.deployment },
    { header: 'Route', cell: (claim) => claim.route },
    { header: 'Phase', cell: (claim) => claim.phase },
    { header: 'Metric', cell: (claim) => html`<code>${describeClaimMetric(claim)}</code>` },
  ];
  const held: TableColumn<ClaimResult> = { header: 'Held', cell: (claim) => heldMark(claim.held) };
  // With predictions, the guess, the measurement and the tolerance stand side by side.
  const columns: TableColumn<ClaimResult>[] = score
    ? [
        ...leading,
        predictedColumn(score),
        { header: 'Measured', numeric: true, cell: (claim) => formatClaimObserved(claim) },
        { header: 'Tolerance', numeric: true, cell: (claim) => formatClaimExpected(claim) },
        held,
        ...predictionVerdictColumns(score),
      ]
    : [
        ...leading,
        { header: 'Expected', numeric: true, cell: (claim) => formatClaimExpected(claim) },
        { header: 'Observed', numeric: true, cell: (claim) => formatClaimObserved(claim) },
        held,
      ];
  return section(
    'hypothesis',
    'Hypothesis',
    claims.length === 0
      ? html`<p class="muted">This scenario states no claims.</p>`
      : html`${table<ClaimResult>({
          columns,
          rows: claims,
          rowAttributes: (claim) => ({
            class: claim.held ? 'claim-held' : 'claim-failed',
            'data-claim-id': claim.id,
          }),
        })}
        ${score ? renderPredictionsScore(results, score) : null}`,
  );
}

/** A row of the timeline table: a phase (applies everywhere) or a fault on one link. */
interface TimelineStep {
  kind: 'phase' | 'fault';
  name: string;
  link: string | null;
  touches: string;
  description: string;
  startS: number;
  endS: number;
}

function renderTimeline(results: RunResults): SafeHtml {
  const end = Math.max(1, timelineEndS(results));
  const percent = (s: number) => `${((Math.min(Math.max(s, 0), end) / end) * 100).toFixed(3)}%`;
  const place = (startS: number, endS: number) => ({ left: percent(startS), width: percent(endS - startS) });
  const span = (cls: string, name: string, startS: number, endS: number) =>
    html`<div
      class="span ${cls}"
      style="left: ${percent(startS)}; width: ${percent(endS - startS)}"
      title="${name}: ${formatSeconds(startS)}–${formatSeconds(endS)}"
    >
      ${name}
    </div>`;
  const step = niceCeil(end / 10);
  const ticks: number[] = [];
  for (let t = 0; t <= end + 1e-9; t += step) ticks.push(t);
  const applies = (deployments: VariantName[]) =>
    deployments.length === 0 ? 'none' : deployments.join(', ');
  const steps: TimelineStep[] = [
    ...results.phases.map((phase) => ({
      kind: 'phase' as const,
      name: phase.name,
      link: null,
      touches: 'all',
      description: phase.story ?? '',
      startS: phase.startS,
      endS: phase.endS,
    })),
    ...results.faults.map((fault) => ({
      kind: 'fault' as const,
      name: fault.fault,
      link: fault.link,
      touches: applies(fault.deployments),
      description: fault.description,
      startS: fault.startS,
      endS: fault.endS,
    })),
  ];

  return section(
    'timeline',
    'Timeline',
    html`<div class="timeline" aria-hidden="true">
        <div class="row">
          <div class="label">phases</div>
          <div class="track">${results.phases.map((p) => span('phase', p.name, p.startS, p.endS))}</div>
        </div>
        ${results.faults.map(
          (fault) =>
            html`<div class="row">
              <div class="label" title="${fault.fault} on ${fault.link}">${fault.fault} · ${fault.link}</div>
              <div class="track">
                ${span('fault', `${fault.fault} on ${fault.link}`, fault.startS, fault.endS)}
              </div>
            </div>`,
        )}
        ${observedTimelineRows(results, place)}
        <div class="row">
          <div></div>
          <div class="axis">${ticks.map((t) => html`<span style="left: ${percent(t)}">${t} s</span>`)}</div>
        </div>
      </div>
      ${table<TimelineStep>({
        columns: [
          { header: 'Step', cell: (s) => html`${s.kind} <strong>${s.name}</strong>` },
          {
            header: 'Link',
            cell: (s) => (s.link === null ? '—' : html`<code>${s.link}</code>`),
            cellClass: (s) => s.link === null && 'muted',
          },
          { header: 'Touches', cell: (s) => s.touches, cellClass: (s) => s.kind === 'phase' && 'muted' },
          { header: 'Description', cell: (s) => s.description },
          { header: 'Start', numeric: true, cell: (s) => formatSeconds(s.startS) },
          { header: 'End', numeric: true, cell: (s) => formatSeconds(s.endS) },
        ],
        rows: steps,
      })}
      ${evidenceTable(results)}`,
  );
}

function renderLoad(results: RunResults): SafeHtml {
  const deployments = orderedDeployments(results);
  return section(
    'load',
    'Load offered',
    html`<p class="muted small">
        Open model: requests are sent at the rate below whatever the answers do, so a slow system does not get
        an easier test. Closed model (autocannon): a fixed number of connections, each sending its next
        request when the last is answered; a slow system slows it down, and its figures are marked "closed
        model".
      </p>
      ${table({
        columns: [
          { header: 'Route', cell: (load) => html`<strong>${load.route}</strong>` },
          {
            header: 'Rate',
            numeric: true,
            cell: (load) =>
              load.model === 'closed'
                ? `${formatCount(load.connections ?? 0)} connections (closed)`
                : `${formatCount(load.ratePerSecond)} req/s`,
          },
          {
            header: 'Max in flight',
            numeric: true,
            cell: (load) => (load.model === 'closed' ? '—' : formatCount(load.maxInFlight)),
          },
          ...deployments.map((d) => ({
            header: `Target in ${d.deployment}`,
            cellClass: 'small',
            cell: (load: RunResults['load'][number]) =>
              d.routes.find((r) => r.route === load.route)?.target ?? '—',
          })),
        ],
        rows: results.load,
      })}`,
  );
}

/** A command line as a shell would take it back: arguments with spaces or quotes are quoted. */
function shellLine(argv: readonly string[]): string {
  return argv
    .map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

const formatGiB = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/**
 * What made this run, compactly: the code, the command, the versions, the machine and the seed. Absent
 * in results written before the lab recorded it. The runtime's settings are in the header.
 */
function renderProvenance(results: RunResults): SafeHtml | null {
  const provenance: Provenance | undefined = results.provenance;
  if (!provenance) return null;
  const { git, machine } = provenance;
  return section(
    'provenance',
    'Provenance',
    html`<dl class="meta small">
      <dt>Code</dt>
      <dd>
        ${
          git
            ? html`commit <code>${git.commit.slice(0, 12)}</code> ${
                  git.dirty
                    ? html`<strong>with uncommitted changes</strong> (the tree had changes the commit does not
                        hold)`
                    : html`<span class="muted">(clean tree)</span>`
                }`
            : html`<span class="muted">unknown: not a git checkout, or git is missing</span>`
        }
      </dd>
      <dt>Command</dt>
      <dd><code>${shellLine(provenance.command)}</code></dd>
      <dt>Versions</dt>
      <dd>
        ${Object.entries(provenance.versions).map(([name, version], index) =>
          index === 0 ? html`${name} <code>${version}</code>` : html`; ${name} <code>${version}</code>`,
        )}
      </dd>
      <dt>Machine</dt>
      <dd>
        ${machine.cpuModel}, ${machine.cpus} ${machine.cpus === 1 ? 'CPU' : 'CPUs'},
        ${formatGiB(machine.memoryBytes)}; ${machine.os}
      </dd>
      <dt>Runtime</dt>
      <dd>${provenance.runtime.name} <span class="muted">(its settings are in the header)</span></dd>
      <dt>Seed</dt>
      <dd>
        ${
          provenance.seed === null
            ? html`<span class="muted">none</span>`
            : html`<code>${provenance.seed}</code> <span class="muted">${SEED_MEANING}</span>`
        }
      </dd>
    </dl>`,
  );
}

function renderFooter(results: RunResults): SafeHtml {
  return html`
    <footer>
      <p>
        Everything on this page comes from <code>results.json</code> in the same folder (results schema
        version ${results.schemaVersion}, run <code>${results.runId}</code>); the same data is embedded below
        as <code>&lt;script id="${RESULTS_SCRIPT_ID}"&gt;</code>.
      </p>
      <p>
        Re-render this page from it with <code>npm run rerender -- reports/${results.runId}</code> (or the
        path of this folder), which also refreshes the runs index in the parent folder. Charts by Apache
        ECharts, inlined; the page makes no network requests.
      </p>
    </footer>
  `;
}
