/**
 * The run page's "Per deployment" section: for each deployment, its services, one phase table per
 * route, what each service saw per phase, recovery after the heal and the audit, all in one column.
 */
import { faultOfWindow } from '../diagram/recorded-faults.ts';
import { renderTopologyDiagram, type DiagramFault } from '../diagram/topology-diagram.ts';
import type { AuditResult, DeploymentResult, FaultWindow, PhaseSummary, RunResults } from '../results.ts';
import type { RouteName } from '../vocabulary/topology.ts';
import { orderedDeployments, orderedRoutes } from './charts.ts';
import { closedPhaseTable, closedStreamsTable } from './render-closed-load.ts';
import { deploymentGrid } from './deployment-grid.ts';
import { formatCount, formatMs, formatSeconds } from './format.ts';
import { html, raw, type SafeHtml } from './html.ts';
import { section, table, type TableColumn } from './markup.ts';
import { PHASE_FIGURE_COLUMNS } from './phase-columns.ts';
import { loadHealthTable } from './render-load-health.ts';
import { exemplarAnchor } from './render-exemplars.ts';

/**
 * The "Per deployment" section, one column per deployment in the page's order.
 *
 * @example html`<main>${renderDeployments(results)}</main>`
 */
export function renderDeployments(results: RunResults): SafeHtml {
  const routes = orderedRoutes(results);
  const columns = orderedDeployments(results).map((d) => ({
    deployment: d.deployment,
    blocks: [
      html`<h3 class="deployment-head">${d.deployment}</h3>
        <p class="muted small">
          Services: ${d.services.length > 0 ? d.services.map((s) => s.service).join(', ') : 'none recorded'}
        </p>`,
      topologyFigure(results, d),
      ...routes.map((route) => routeBlock(d, route)),
      block('Services per phase', d, servicePhaseTable(d)),
      block('Recovery after heal', d, recoveryTable(d)),
      block('Audit after settling', d, auditTable(d.audit)),
      block('Load health', d, loadHealthTable(d)),
      ...(d.closedStreams?.length ? [block('Closed-model load', d, closedStreamsTable(d) ?? html``)] : []),
    ],
  }));
  return section('deployments', 'Per deployment', deploymentGrid(columns, { card: true }));
}

/**
 * The deployment's topology with every fault of the timeline that touched this column drawn where it
 * acted (its phase in the tooltip). A fault recorded too sparsely to be drawn is named below instead.
 */
function topologyFigure(results: RunResults, deployment: DeploymentResult): SafeHtml {
  const windows = results.faults.filter((window) => window.deployments.includes(deployment.deployment));
  const drawn: DiagramFault[] = [];
  const undrawn: FaultWindow[] = [];
  for (const window of windows) {
    const fault = faultOfWindow(window);
    if (fault) drawn.push({ fault, label: phaseLabel(results, window) });
    else undrawn.push(window);
  }
  // The SVG is built by the diagram module, which escapes every text and attribute it writes.
  const diagram = raw(renderTopologyDiagram(deployment.topology, drawn));
  return html`<figure class="topology">
    ${diagram}
    <figcaption class="muted small">
      ${
        drawn.length > 0
          ? `In red: every fault of the timeline where it acted in ${deployment.deployment}, whatever its phase (hover over one for its phase).`
          : `No fault of the timeline touched ${deployment.deployment}.`
      }
      ${undrawn.map((window) => html`<br />Not drawn, too little recorded to place it: ${window.description}.`)}
    </figcaption>
  </figure>`;
}

/** `partition (10–25 s)`: the phase a fault window belongs to, by its times. */
function phaseLabel(results: RunResults, window: FaultWindow): string {
  const span = `${window.startS}–${window.endS} s`;
  const phase = results.phases.find((p) => p.startS === window.startS && p.endS === window.endS);
  return phase ? `${phase.name} (${span})` : span;
}

// The tag repeats the deployment's name: far down a long column its heading is off screen.
function block(heading: string, deployment: DeploymentResult, content: SafeHtml): SafeHtml {
  return html`<h4>${heading} <span class="tag">${deployment.deployment}</span></h4>
    ${content}`;
}

function routeBlock(deployment: DeploymentResult, route: RouteName): SafeHtml {
  const data = deployment.routes.find((r) => r.route === route);
  return block(
    route,
    deployment,
    data
      ? html`<p class="target">${data.target}</p>
          ${
            data.closedModel && data.phases.every((phase) => phase.completed === 0)
              ? null
              : phaseTable(deployment, route, data.phases)
          }
          ${closedPhaseTable(data)}`
      : html`<p class="muted">This route was not driven in ${deployment.deployment}.</p>`,
  );
}

const PHASE_COLUMNS: readonly TableColumn<PhaseSummary>[] = [
  ...PHASE_FIGURE_COLUMNS,
  {
    header: 'failed in (p50)',
    numeric: true,
    title: 'median latency of the failed requests: how long a user waited to learn it failed',
    cell: (p) => formatMs(p.failureLatencyMs.p50),
  },
  {
    header: '1st failure',
    numeric: true,
    title: 'seconds from the start of the phase until the first failure surfaced',
    cell: (p) => formatSeconds(p.firstFailureAfterS ?? null),
  },
];

/** The phase rows; a phase with traced exemplars links to their waterfalls. */
function phaseTable(deployment: DeploymentResult, route: RouteName, phases: PhaseSummary[]): SafeHtml {
  if (phases.length === 0) return html`<p class="muted">No phase summaries recorded.</p>`;
  const traced = new Set(
    (deployment.exemplars ?? []).filter((exemplar) => exemplar.route === route).map((e) => e.phase),
  );
  const phaseColumn: TableColumn<PhaseSummary> = {
    header: 'Phase',
    cell: (row) =>
      traced.has(row.phase)
        ? html`<a
            href="#${exemplarAnchor(deployment.deployment, route, row.phase)}"
            title="traced requests of this phase, as waterfalls"
            >${row.phase}</a
          >`
        : row.phase,
  };
  return table({ columns: [phaseColumn, ...PHASE_COLUMNS.slice(1)], rows: phases, compact: true });
}

type ServicePhase = NonNullable<DeploymentResult['servicePhases']>[number];

const SERVICE_PHASE_COLUMNS: readonly TableColumn<ServicePhase>[] = [
  { header: 'Service', cell: (row) => row.service },
  { header: 'Phase', cell: (row) => row.phase },
  {
    header: 'Received/s',
    numeric: true,
    cell: (row) => (row.requestsPerSecond === null ? '—' : row.requestsPerSecond.toFixed(1)),
  },
  {
    header: 'Attempts per call',
    numeric: true,
    cell: (row) => (row.attemptsPerCall === null ? '—' : row.attemptsPerCall.toFixed(2)),
  },
  { header: 'Bulkhead rejections', numeric: true, cell: (row) => formatCount(row.bulkheadRejections) },
  {
    header: 'Outbound in flight (max)',
    numeric: true,
    cell: (row) => formatCount(row.outboundInFlightMax ?? null),
  },
  {
    header: 'Circuit',
    cell: (row) => (row.circuitStates.length > 0 ? row.circuitStates.join(' → ') : '—'),
  },
];

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
    ${table({ columns: SERVICE_PHASE_COLUMNS, rows, compact: true })}`;
}

function recoveryTable(deployment: DeploymentResult): SafeHtml {
  if (deployment.recovery.length === 0) {
    return html`<p class="muted small">No recovery measured (no heal in this deployment's timeline).</p>`;
  }
  return html`<p class="muted small">
      Seconds from the end of a fault phase until the route had 3 successful seconds in a row again.
    </p>
    ${table({
      columns: [
        { header: 'Route', cell: (r) => r.route },
        { header: 'After phase', cell: (r) => r.afterPhase },
        {
          header: 'Recovered in',
          numeric: true,
          cell: (r) =>
            r.seconds === null ? html`<span class="bad">did not recover</span>` : formatSeconds(r.seconds),
        },
      ],
      rows: deployment.recovery,
    })}`;
}

interface AuditRow {
  label: string;
  note: string;
  value: number;
  /** Any row here is a lost or inconsistent write. */
  badWhenPositive: boolean;
}

function auditTable(audit: AuditResult): SafeHtml {
  if (audit.notAudited) return html`<p class="partial-note">Not audited: ${audit.notAudited}.</p>`;
  const rows: AuditRow[] = [
    { label: 'users', value: audit.users, note: 'user rows stored', badWhenPositive: false },
    { label: 'payments', value: audit.payments, note: 'ledger rows stored', badWhenPositive: false },
    {
      label: 'orphan users',
      value: audit.orphanUsers,
      note: 'checkouts that created a user but no payment',
      badWhenPositive: true,
    },
    {
      label: 'double charges',
      value: audit.doubleCharges,
      note: 'checkout users charged more than once',
      badWhenPositive: true,
    },
    {
      label: 'acknowledged without a row',
      value: audit.acknowledgedWithoutRow,
      note: 'answered 2xx, but the databases do not hold it',
      badWhenPositive: true,
    },
    {
      label: 'failed but committed',
      value: audit.failedButCommitted,
      note: 'the client saw a failure, the ledger holds the charge',
      badWhenPositive: true,
    },
  ];
  return html`${table({
    columns: [
      {
        header: 'Rows',
        cell: (row: AuditRow) => html`${row.label}<br /><span class="muted small">${row.note}</span>`,
      },
      {
        header: 'Count',
        numeric: true,
        cell: (row: AuditRow) => formatCount(row.value),
        cellClass: (row: AuditRow) => row.badWhenPositive && row.value > 0 && 'bad',
      },
    ],
    rows,
  })}
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
