/**
 * The closed-model parts of a deployment's column: each route's closed-model phases (autocannon's
 * requests, latency from each send) next to its open-model ones, and each closed stream's totals, its
 * bounded episodes and its cost. Empty for a deployment without closed streams.
 */
import type { ClosedStream, DeploymentResult, RouteResult } from '../results.ts';
import { formatCount, formatSeconds } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { table } from './markup.ts';
import { PHASE_FIGURE_COLUMNS } from './phase-columns.ts';

/** The route's closed-model phase table, marked as such; null when the route had no closed stream. */
export function closedPhaseTable(route: RouteResult): SafeHtml | null {
  const closed = route.closedModel;
  if (!closed) return null;
  return html`<p class="small">
      <strong>Closed model</strong> (autocannon, ${closed.connections} connections): latency from each send,
      so a stall that holds every connection shows as fewer requests, not as slow ones.
    </p>
    ${table({
      columns: PHASE_FIGURE_COLUMNS,
      rows: closed.phases,
      compact: true,
    })}`;
}

function boundedText(stream: ClosedStream): string {
  if (stream.bounded.length === 0) return 'never';
  const first = stream.bounded[0];
  return (
    `${stream.bounded.length}× (first at t=${formatSeconds(first?.atS ?? null)}, ` +
    `${formatCount(first?.errors ?? 0)} errors in that second; paused ${formatCount(first?.pausedMs ?? 0)} ms each)`
  );
}

/** The closed streams of a deployment: what each sent and got, whether it was bounded, what it cost. */
export function closedStreamsTable(deployment: DeploymentResult): SafeHtml | null {
  const streams = deployment.closedStreams ?? [];
  if (streams.length === 0) return null;
  return html`<p class="muted small">
      Closed-model streams (autocannon). Bounded: where autocannon reconnected in a hot loop against a refused
      port, the lab stopped it for a pause rather than let the generator measure itself; its requests in those
      seconds are missing by design. CPU: the lab process's, while the stream ran (share of one core).
    </p>
    ${table<ClosedStream>({
      columns: [
        {
          header: 'Stream',
          cell: (s) => `${s.route} ${s.role === 'flood' ? `flood (${s.phase ?? ''})` : 'steady'}`,
        },
        { header: 'Conns', numeric: true, cell: (s) => formatCount(s.connections) },
        { header: 'Sent', numeric: true, cell: (s) => formatCount(s.sent) },
        { header: 'Answered', numeric: true, cell: (s) => formatCount(s.answered) },
        { header: 'ok', numeric: true, cell: (s) => formatCount(s.ok) },
        {
          header: 'autocannon errors / timeouts',
          numeric: true,
          cell: (s) => `${formatCount(s.autocannon.errors)} / ${formatCount(s.autocannon.timeouts)}`,
        },
        { header: 'Bounded', cell: boundedText, cellClass: (s) => s.bounded.length > 0 && 'bad' },
        {
          header: 'Generator CPU',
          numeric: true,
          cell: (s) => (s.labProcessCpuShare === null ? '—' : `${Math.round(s.labProcessCpuShare * 100)} %`),
        },
      ],
      rows: streams,
      compact: true,
    })}`;
}
