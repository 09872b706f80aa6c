import type { PhaseSummary } from '../results.ts';
import { formatCount, formatFailures, formatMs, formatRate } from './format.ts';
import type { TableColumn } from './markup.ts';

/** The figures of one phase's requests, the same in the open-model and the closed-model tables. */
export const PHASE_FIGURE_COLUMNS: readonly TableColumn<PhaseSummary>[] = [
  { header: 'Phase', cell: (p) => p.phase },
  { header: 'Completed', numeric: true, cell: (p) => formatCount(p.completed) },
  {
    header: 'Success',
    numeric: true,
    cell: (p) => formatRate(p.successRate),
    cellClass: (p) => p.successRate !== null && p.successRate < 1 && 'bad',
  },
  { header: 'Failures', cellClass: 'failures', cell: (p) => formatFailures(p.failures) },
  { header: 'p50', numeric: true, cell: (p) => formatMs(p.latencyMs.p50) },
  { header: 'p99', numeric: true, cell: (p) => formatMs(p.latencyMs.p99) },
  { header: 'max', numeric: true, cell: (p) => formatMs(p.latencyMs.max) },
];
