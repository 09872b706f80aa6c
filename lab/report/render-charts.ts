/**
 * The run page's "Charts" section: the elements the page script draws the charts into, laid out one
 * column per deployment like the tables above them.
 */
import type { RunResults } from '../results.ts';
import type { VariantName } from '../vocabulary/topology.ts';
import { faultsFor, type ChartSpec, type ReportCharts } from './charts.ts';
import { deploymentGrid } from './deployment-grid.ts';
import { html, type SafeHtml } from './html.ts';
import { section } from './markup.ts';

/**
 * The charts section; `charts` are the specs the page embeds, so every element id here has its spec.
 *
 * @example renderCharts(results, buildReportCharts(results))
 */
export function renderCharts(results: RunResults, charts: ReportCharts): SafeHtml {
  const legendNote = (deployment: VariantName) => {
    const faults = faultsFor(results, deployment);
    return faults.length === 0
      ? 'no fault touched its links'
      : `shaded: ${faults.map((f) => `${f.fault} on ${f.link}`).join(', ')}`;
  };

  const routes = charts.routes.map(
    (route) =>
      html`<h3>Route <code>${route.route}</code></h3>
        ${deploymentGrid(
          route.throughput.map(({ deployment, chart }) => ({
            deployment,
            blocks: [
              figure(
                html`${deployment} · successes and failures per second
                  <span class="muted">(${legendNote(deployment)})</span>`,
                chart,
                `No ${route.route} data in ${deployment}.`,
              ),
              figure(
                html`${deployment} · latency per second
                  <span class="muted">(p50, p99, max; log scale)</span>`,
                route.latency.find((l) => l.deployment === deployment)?.chart ?? null,
                `No ${route.route} data in ${deployment}.`,
              ),
              ...route.closed
                .filter((closed) => closed.deployment === deployment)
                .flatMap((closed) => [
                  figure(
                    html`${deployment} · <strong>closed model</strong> (autocannon, ${closed.connections}
                      connections) · latency per second from each send
                      <span class="muted">(same seconds and axis as above; hides a stall)</span>`,
                    closed.latency,
                    '',
                  ),
                  figure(
                    html`${deployment} · <strong>closed model</strong> · requests per second
                      <span class="muted"
                        >(by the second sent, on its own scale: a stall shows as a gap)</span
                      >`,
                    closed.throughput,
                    '',
                  ),
                ]),
            ],
          })),
        )}`,
  );
  const services = deploymentGrid(
    charts.services.map((group) => ({
      deployment: group.deployment,
      blocks:
        group.charts.length === 0
          ? [html`<div class="chart-empty">No service samples in ${group.deployment}.</div>`]
          : group.charts.map(({ service, chart }) =>
              figure(html`${service} <span class="tag">${group.deployment}</span>`, chart, ''),
            ),
    })),
  );

  return section(
    'charts',
    'Charts',
    html`<p class="muted small">
        Charts of the same kind share their y axis, so heights compare across deployments. Dashed lines mark
        phase starts; red bands are fault windows on links that exist in that deployment. Bars count requests
        by the second they were sent.
      </p>
      <noscript
        ><p class="notes">The charts need JavaScript; the tables above hold the same numbers.</p></noscript
      >
      ${routes}
      <h3>Services</h3>
      <p class="muted small">
        Event-loop delay p99 (left axis, ms) shows a process starved of CPU; requests and outbound calls in
        flight (right axis) show work piling up behind a slow dependency. Axes are shared by all services.
      </p>
      ${services}`,
  );
}

function figure(caption: SafeHtml, chart: ChartSpec | null, missing: string): SafeHtml {
  return html`<figure class="chart">
    <figcaption>${caption}</figcaption>
    ${
      chart
        ? html`<div class="chart-scroll">
            <div class="chart-box" id="${chart.id}" role="img" aria-label="${chart.label}"></div>
          </div>`
        : html`<div class="chart-empty">${missing}</div>`
    }
  </figure>`;
}
