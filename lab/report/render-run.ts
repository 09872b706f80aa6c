/**
 * Renders one run's `RunResults` as a single self-contained HTML page: CSS, the ECharts library, the
 * data and the chart options are all inline, and a Content-Security-Policy forbids the page any network
 * request, so it opens the same from file:// on a laptop with no connection.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AuditResult, ClaimResult, DeploymentResult, PhaseSummary, RunResults } from '../results.ts';
import type { VariantName, RouteName } from '../vocabulary/topology.ts';
import {
  buildReportCharts,
  faultsFor,
  niceCeil,
  orderedDeployments,
  orderedRoutes,
  timelineEndS,
  type ChartSpec,
  type ReportCharts,
} from './charts.ts';
import {
  formatCount,
  formatDuration,
  formatClaimExpected,
  formatClaimObserved,
  describeClaimMetric,
  formatFailures,
  formatMs,
  formatRate,
  formatSeconds,
  formatTimestamp,
} from './format.ts';
import { html, inlineScript, jsonForScript, raw, type SafeHtml } from './html.ts';
import { PAGE_SCRIPT } from './page-script.ts';
import { REPORT_CSS } from './styles.ts';

/** Ids of the JSON blocks in the page, for anyone (or any test) who wants the data back out. */
export const RESULTS_SCRIPT_ID = 'splitlab-results';
export const CHARTS_SCRIPT_ID = 'splitlab-charts';

// No network at all: inline scripts and styles only; data: images so ECharts can export a PNG.
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:";

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
 * Renders the report page of one run. Pure: the same results give the same bytes, so an old
 * results.json re-renders to the page it had (give or take renderer changes).
 *
 * @example
 * const page = renderRunReport(results);
 * await writeFile('reports/2026-11-25-partition/index.html', page);
 */
export function renderRunReport(results: RunResults): string {
  const charts = buildReportCharts(results);
  const title = `${results.scenario.title} — splitlab`;
  const body = html`
    <main>
      ${renderHeader(results)} ${renderHypothesis(results)} ${renderTimeline(results)} ${renderLoad(results)}
      ${renderDeployments(results)} ${renderCharts(results, charts)} ${renderWhatToLookAt(results)}
      ${renderFooter(results)}
    </main>
    <script type="application/json" id="${RESULTS_SCRIPT_ID}">
      ${raw(jsonForScript(results))}
    </script>
    <script type="application/json" id="${CHARTS_SCRIPT_ID}">
      ${raw(jsonForScript(charts.all))}
    </script>
    <script>
      ${raw(echartsLibrarySource())};
    </script>
    <script>
      ${raw(PAGE_SCRIPT)};
    </script>
  `;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="generator" content="splitlab report, results schema ${results.schemaVersion}">
<title>${html`${title}`.text}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${body.text}
</body>
</html>
`;
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
      <div class="verdict ${held ? 'held' : 'failed'}" role="status">
        ${held ? '✓ Hypothesis held' : '✗ Hypothesis did not hold'}
        <span class="sub"
          >${heldCount} of ${claims.length} ${claims.length === 1 ? 'claim' : 'claims'} held</span
        >
      </div>
    </header>
  `;
}

function renderHypothesis(results: RunResults): SafeHtml {
  const row = (claim: ClaimResult) => html`
    <tr class="${claim.held ? 'claim-held' : 'claim-failed'}" data-claim-id="${claim.id}">
      <td>${claim.description}<br /><span class="muted small mono">${claim.id}</span></td>
      <td>${claim.deployment}</td>
      <td>${claim.route}</td>
      <td>${claim.phase}</td>
      <td><code>${describeClaimMetric(claim)}</code></td>
      <td class="num">${formatClaimExpected(claim)}</td>
      <td class="num">${formatClaimObserved(claim)}</td>
      <td>
        ${
          claim.held
            ? html`<span class="held-yes">✓ held</span>`
            : html`<span class="held-no">✗ did not hold</span>`
        }
      </td>
    </tr>
  `;
  return html`
    <section id="hypothesis">
      <h2>Hypothesis</h2>
      ${
        results.hypothesis.claims.length === 0
          ? html`<p class="muted">This scenario states no claims.</p>`
          : html`<div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Claim</th>
                    <th>Deployment</th>
                    <th>Route</th>
                    <th>Phase</th>
                    <th>Metric</th>
                    <th class="num">Expected</th>
                    <th class="num">Observed</th>
                    <th>Held</th>
                  </tr>
                </thead>
                <tbody>
                  ${results.hypothesis.claims.map(row)}
                </tbody>
              </table>
            </div>`
      }
    </section>
  `;
}

function renderTimeline(results: RunResults): SafeHtml {
  const end = Math.max(1, timelineEndS(results));
  const percent = (s: number) => `${((Math.min(Math.max(s, 0), end) / end) * 100).toFixed(3)}%`;
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

  return html`
    <section id="timeline">
      <h2>Timeline</h2>
      <div class="timeline" aria-hidden="true">
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
        <div class="row">
          <div></div>
          <div class="axis">${ticks.map((t) => html`<span style="left: ${percent(t)}">${t} s</span>`)}</div>
        </div>
      </div>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Step</th>
              <th>Link</th>
              <th>Touches</th>
              <th>Description</th>
              <th class="num">Start</th>
              <th class="num">End</th>
            </tr>
          </thead>
          <tbody>
            ${results.phases.map(
              (phase) =>
                html`<tr>
                  <td>phase <strong>${phase.name}</strong></td>
                  <td class="muted">—</td>
                  <td class="muted">all</td>
                  <td>${phase.story ?? ''}</td>
                  <td class="num">${formatSeconds(phase.startS)}</td>
                  <td class="num">${formatSeconds(phase.endS)}</td>
                </tr>`,
            )}
            ${results.faults.map(
              (fault) =>
                html`<tr>
                  <td>fault <strong>${fault.fault}</strong></td>
                  <td><code>${fault.link}</code></td>
                  <td>${applies(fault.deployments)}</td>
                  <td>${fault.description}</td>
                  <td class="num">${formatSeconds(fault.startS)}</td>
                  <td class="num">${formatSeconds(fault.endS)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>
  `;
}

function renderLoad(results: RunResults): SafeHtml {
  const deployments = orderedDeployments(results);
  const targetOf = (d: DeploymentResult, route: RouteName) =>
    d.routes.find((r) => r.route === route)?.target ?? '—';
  return html`
    <section id="load">
      <h2>Load offered</h2>
      <p class="muted small">
        Open model: requests are sent at the rate below whatever the answers do, so a slow system does not get
        an easier test.
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Route</th>
              <th class="num">Rate</th>
              <th class="num">Max in flight</th>
              ${deployments.map((d) => html`<th>Target in ${d.deployment}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${results.load.map(
              (load) =>
                html`<tr>
                  <td><strong>${load.route}</strong></td>
                  <td class="num">${formatCount(load.ratePerSecond)} req/s</td>
                  <td class="num">${formatCount(load.maxInFlight)}</td>
                  ${deployments.map((d) => html`<td class="small">${targetOf(d, load.route)}</td>`)}
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>
  `;
}

function renderDeployments(results: RunResults): SafeHtml {
  const deployments = orderedDeployments(results);
  const routes = orderedRoutes(results);
  const cells = (render: (d: DeploymentResult) => SafeHtml) =>
    deployments.map((d) => html`<div class="cell">${render(d)}</div>`);

  return html`
    <section id="deployments">
      <h2>Per deployment</h2>
      <div class="pair">
        ${cells(
          (d) =>
            html`<h3 class="deployment-head">${d.deployment}</h3>
              <p class="muted small">
                Services:
                ${d.services.length > 0 ? d.services.map((s) => s.service).join(', ') : 'none recorded'}
              </p>`,
        )}
        ${routes.map((route) =>
          cells((d) => {
            const data = d.routes.find((r) => r.route === route);
            return html`<h4>${route} <span class="tag">${d.deployment}</span></h4>
              ${
                data
                  ? html`<p class="target">${data.target}</p>
                      ${phaseTable(data.phases)}`
                  : html`<p class="muted">This route was not driven in ${d.deployment}.</p>`
              }`;
          }),
        )}
        ${cells(
          (d) =>
            html`<h4>Services per phase <span class="tag">${d.deployment}</span></h4>
              ${servicePhaseTable(d)}`,
        )}
        ${cells(
          (d) =>
            html`<h4>Recovery after heal <span class="tag">${d.deployment}</span></h4>
              ${recoveryTable(d)}`,
        )}
        ${cells(
          (d) =>
            html`<h4>Audit after settling <span class="tag">${d.deployment}</span></h4>
              ${auditTable(d.audit)}`,
        )}
      </div>
    </section>
  `;
}

function phaseTable(phases: PhaseSummary[]): SafeHtml {
  if (phases.length === 0) return html`<p class="muted">No phase summaries recorded.</p>`;
  return html`<div class="table-wrap">
    <table class="compact">
      <thead>
        <tr>
          <th>Phase</th>
          <th class="num">Completed</th>
          <th class="num">Success</th>
          <th>Failures</th>
          <th class="num">p50</th>
          <th class="num">p99</th>
          <th class="num">max</th>
          <th
            class="num"
            title="median latency of the failed requests: how long a user waited to learn it failed"
          >
            failed in (p50)
          </th>
          <th class="num" title="seconds from the start of the phase until the first failure surfaced">
            1st failure
          </th>
        </tr>
      </thead>
      <tbody>
        ${phases.map(
          (phase) =>
            html`<tr>
              <td>${phase.phase}</td>
              <td class="num">${formatCount(phase.completed)}</td>
              <td class="num ${phase.successRate !== null && phase.successRate < 1 ? 'bad' : ''}">
                ${formatRate(phase.successRate)}
              </td>
              <td class="failures">${formatFailures(phase.failures)}</td>
              <td class="num">${formatMs(phase.latencyMs.p50)}</td>
              <td class="num">${formatMs(phase.latencyMs.p99)}</td>
              <td class="num">${formatMs(phase.latencyMs.max)}</td>
              <td class="num">${formatMs(phase.failureLatencyMs.p50)}</td>
              <td class="num">${formatSeconds(phase.firstFailureAfterS ?? null)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** What each service saw and did per phase: its received load, retry amplification, circuit states. */
function servicePhaseTable(deployment: DeploymentResult): SafeHtml {
  const rows = deployment.servicePhases ?? [];
  if (rows.length === 0) return html`<p class="muted small">No service counters recorded.</p>`;
  const settings = Object.entries(deployment.settings ?? {});
  const resources = Object.entries(deployment.resources ?? {});
  return html`<p class="muted small">
      ${
        settings.length > 0
          ? html`Settings: ${settings.map(([key, value]) => `${key}=${value}`).join(', ')}. `
          : null
      }${
        resources.length > 0
          ? html`Resources: ${resources.map(([service, limit]) => `${service} ${limit}`).join('; ')}. `
          : null
      }Requests
      each service received per second (retries included), HTTP attempts per call to payment-service, bulkhead
      rejections, and the circuit states it reported.
    </p>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Service</th>
            <th>Phase</th>
            <th class="num">Received/s</th>
            <th class="num">Attempts per call</th>
            <th class="num">Bulkhead rejections</th>
            <th class="num">Outbound in flight (max)</th>
            <th>Circuit</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (row) =>
              html`<tr>
                <td>${row.service}</td>
                <td>${row.phase}</td>
                <td class="num">
                  ${row.requestsPerSecond === null ? '—' : row.requestsPerSecond.toFixed(1)}
                </td>
                <td class="num">${row.attemptsPerCall === null ? '—' : row.attemptsPerCall.toFixed(2)}</td>
                <td class="num">${formatCount(row.bulkheadRejections)}</td>
                <td class="num">${formatCount(row.outboundInFlightMax ?? null)}</td>
                <td>${row.circuitStates.length > 0 ? row.circuitStates.join(' → ') : '—'}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
}

function recoveryTable(deployment: DeploymentResult): SafeHtml {
  if (deployment.recovery.length === 0) {
    return html`<p class="muted small">No recovery measured (no heal in this deployment's timeline).</p>`;
  }
  return html`<p class="muted small">
      Seconds from the end of a fault phase until the route had 3 successful seconds in a row again.
    </p>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Route</th>
            <th>After phase</th>
            <th class="num">Recovered in</th>
          </tr>
        </thead>
        <tbody>
          ${deployment.recovery.map(
            (r) =>
              html`<tr>
                <td>${r.route}</td>
                <td>${r.afterPhase}</td>
                <td class="num">
                  ${
                    r.seconds === null
                      ? html`<span class="bad">did not recover</span>`
                      : formatSeconds(r.seconds)
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
}

function auditTable(audit: AuditResult): SafeHtml {
  const row = (label: string, value: number, note: string, badWhenPositive: boolean) =>
    html`<tr>
      <td>${label}<br /><span class="muted small">${note}</span></td>
      <td class="num ${badWhenPositive && value > 0 ? 'bad' : ''}">${formatCount(value)}</td>
    </tr>`;
  return html`<div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Rows</th>
            <th class="num">Count</th>
          </tr>
        </thead>
        <tbody>
          ${row('users', audit.users, 'user rows stored', false)}
          ${row('payments', audit.payments, 'ledger rows stored', false)}
          ${row('orphan users', audit.orphanUsers, 'checkouts that created a user but no payment', true)}
          ${row('double charges', audit.doubleCharges, 'checkout users charged more than once', true)}
          ${row('acknowledged without a row', audit.acknowledgedWithoutRow, 'answered 2xx, but the databases do not hold it', true)}
          ${row('failed but committed', audit.failedButCommitted, 'the client saw a failure, the ledger holds the charge', true)}
        </tbody>
      </table>
    </div>
    ${
      audit.settledAfterMs === undefined
        ? null
        : html`<p class="muted small">
            Audited ${formatMs(audit.settledAfterMs)} after the load
            stopped${
              audit.stillPending
                ? html`, with
                    <span class="bad"
                      >${audit.stillPending === -1 ? 'a service not answering' : `${audit.stillPending} outbox/saga items still pending`}</span
                    >`
                : ', with nothing pending'
            }.
          </p>`
    }`;
}

function renderCharts(results: RunResults, charts: ReportCharts): SafeHtml {
  const legendNote = (deployment: VariantName) => {
    const faults = faultsFor(results, deployment);
    return faults.length === 0
      ? 'no fault touched its links'
      : `shaded: ${faults.map((f) => `${f.fault} on ${f.link}`).join(', ')}`;
  };
  const figure = (caption: SafeHtml, chart: ChartSpec | null, missing: string) =>
    html`<figure class="chart">
      <figcaption>${caption}</figcaption>
      ${
        chart
          ? html`<div class="chart-scroll">
              <div class="chart-box" id="${chart.id}" role="img" aria-label="${chart.label}"></div>
            </div>`
          : html`<div class="chart-empty">${missing}</div>`
      }
    </figure>`;

  return html`
    <section id="charts">
      <h2>Charts</h2>
      <p class="muted small">
        Each pair shares its y axis, so heights compare across deployments. Dashed lines mark phase starts;
        red bands are fault windows on links that exist in that deployment. Bars count requests by the second
        they were sent.
      </p>
      <noscript
        ><p class="notes">The charts need JavaScript; the tables above hold the same numbers.</p></noscript
      >
      ${charts.routes.map(
        (route) =>
          html`<h3>Route <code>${route.route}</code></h3>
            <div class="pair">
              ${route.throughput.map(({ deployment, chart }) =>
                figure(
                  html`${deployment} · successes and failures per second
                    <span class="muted">(${legendNote(deployment)})</span>`,
                  chart,
                  `No ${route.route} data in ${deployment}.`,
                ),
              )}
              ${route.latency.map(({ deployment, chart }) =>
                figure(
                  html`${deployment} · latency per second
                    <span class="muted">(p50, p99, max; log scale)</span>`,
                  chart,
                  `No ${route.route} data in ${deployment}.`,
                ),
              )}
            </div>`,
      )}
      <h3>Services</h3>
      <p class="muted small">
        Event-loop delay p99 (left axis, ms) shows a process starved of CPU; requests and outbound calls in
        flight (right axis) show work piling up behind a slow dependency. Axes are shared by all services.
      </p>
      <div class="pair">
        ${charts.services.map(
          (group) =>
            html`<div class="cell service-stack">
              ${
                group.charts.length === 0
                  ? html`<div class="chart-empty">No service samples in ${group.deployment}.</div>`
                  : group.charts.map(({ service, chart }) =>
                      figure(html`${service} <span class="tag">${group.deployment}</span>`, chart, ''),
                    )
              }
            </div>`,
        )}
      </div>
    </section>
  `;
}

function renderWhatToLookAt(results: RunResults): SafeHtml {
  const items = results.scenario.whatToLookAt;
  return html`
    <section id="what-to-look-at">
      <h2>What to look at</h2>
      ${
        items.length === 0
          ? html`<p class="muted">The scenario gives no pointers.</p>`
          : html`<ul class="look">
              ${items.map((item) => html`<li>${item}</li>`)}
            </ul>`
      }
    </section>
  `;
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
