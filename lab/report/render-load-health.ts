/**
 * One deployment's load health per phase: due and sent, how late the generator sent, its event loop,
 * the scraper's sampling, the machine, other labs, and why a phase is degraded.
 */
import { DEFAULTS } from '../defaults.ts';
import type { DeploymentResult, LoadHealth } from '../results.ts';
import { formatCount, formatMs } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { table } from './markup.ts';

const share = (value: number | null): string => (value === null ? '—' : `${Math.round(value * 100)} %`);
const over = (value: number | null, limit: number): boolean => value !== null && value > limit;

/**
 * The load health table of one deployment, with a note when it is partial.
 *
 * @example block('Load health', d, loadHealthTable(d))
 */
export function loadHealthTable(deployment: DeploymentResult): SafeHtml {
  const rows = deployment.loadHealth ?? [];
  const limits = DEFAULTS.health;
  const partial = deployment.partial
    ? html`<p class="partial-note">
        Partial: the run stopped during this deployment; its figures cover only part of the timeline.
      </p>`
    : null;
  if (rows.length === 0)
    return html`${partial}
      <p class="muted small">
        No load health recorded (a run from before the lab checked its own instruments).
      </p>`;
  return html`${partial}
    <p class="muted small">
      The lab's own instruments: requests due and sent, how late the generator sent them (limit p99
      ${limits.scheduleLagP99Ms} ms), its event loop (p99 ${limits.eventLoopDelayP99Ms} ms), the scraper's
      intervals (max ${limits.scrapeIntervalMaxMs} ms), the machine's CPU busy and this lab's share of it.
    </p>
    ${table<LoadHealth>({
      columns: [
        { header: 'Phase', cell: (row) => row.phase },
        {
          header: 'Sent / due',
          numeric: true,
          cell: (row) => `${formatCount(row.sent)} / ${formatCount(row.due)}`,
          cellClass: (row) => row.sent < row.due && 'bad',
        },
        {
          header: 'Lag p99 / max',
          numeric: true,
          title:
            'how late the generator sent requests after their due time (p50 in the tooltip of the phase)',
          cell: (row) => `${formatMs(row.scheduleLagMs.p99)} / ${formatMs(row.scheduleLagMs.max)}`,
          cellClass: (row) => over(row.scheduleLagMs.p99, limits.scheduleLagP99Ms) && 'bad',
        },
        {
          header: 'Loop p99',
          numeric: true,
          title: "the lab process's own event-loop delay",
          cell: (row) => formatMs(row.eventLoopDelayMs.p99),
          cellClass: (row) => over(row.eventLoopDelayMs.p99, limits.eventLoopDelayP99Ms) && 'bad',
        },
        {
          header: 'Scrape max',
          numeric: true,
          title: "the longest interval between the metrics scraper's samples (planned 1000 ms)",
          cell: (row) =>
            row.scrapeIntervalMs.max === null ? '—' : `${Math.round(row.scrapeIntervalMs.max)} ms`,
          cellClass: (row) => over(row.scrapeIntervalMs.max, limits.scrapeIntervalMaxMs) && 'bad',
        },
        {
          header: 'CPU busy / lab',
          numeric: true,
          title: "share of the whole machine's CPU that was busy, and the share used by this lab",
          cell: (row) => `${share(row.machine.cpuBusy)} / ${share(row.machine.labCpu)}`,
          cellClass: (row) =>
            row.machine.cpuBusy !== null &&
            row.machine.labCpu !== null &&
            row.machine.cpuBusy - row.machine.labCpu > limits.otherCpuShare &&
            'bad',
        },
        {
          header: 'Other labs',
          numeric: true,
          cell: (row) => formatCount(row.machine.otherLabs),
          cellClass: (row) => row.machine.otherLabs > 0 && 'bad',
        },
        {
          header: '',
          title: 'whether the measurement of the phase is clean or degraded (reasons below the table)',
          cell: (row) =>
            row.degraded.length === 0
              ? html`<span class="ok" title="clean">✓</span>`
              : html`<span class="bad" title="degraded">⚠</span>`,
        },
      ],
      rows,
      compact: true,
      rowAttributes: (row): Record<string, string> => ({
        title: `schedule lag p50 ${formatMs(row.scheduleLagMs.p50)}, event loop p50 ${formatMs(row.eventLoopDelayMs.p50)}`,
        ...(row.degraded.length > 0 ? { class: 'degraded-phase' } : {}),
      }),
    })}
    ${degradedList(rows)}`;
}

/** Why each degraded phase is degraded, one reason a line, under the table. */
function degradedList(rows: readonly LoadHealth[]): SafeHtml | null {
  const degraded = rows.filter((row) => row.degraded.length > 0);
  if (degraded.length === 0)
    return html`<p class="small ok">✓ Every phase measured cleanly: no instrument over its threshold.</p>`;
  return html`<ul class="degraded-reasons small">
    ${degraded.flatMap((row) =>
      row.degraded.map(
        (reason) => html`<li><strong>${row.phase}</strong>: measurement degraded — ${reason}</li>`,
      ),
    )}
  </ul>`;
}
