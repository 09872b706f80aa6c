import { formatClaimExpected, formatClaimObserved } from '../report/format.ts';
import type { DeploymentResult, PhaseSummary, RunResults } from '../results.ts';
import { validityReasons } from '../scenario/judge-validity.ts';

const percent = (value: number | null): string => (value === null ? '—' : `${(value * 100).toFixed(1)}%`);
const millis = (value: number | null): string =>
  value === null ? '—' : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;

/** The plain-text summary the CLI prints: per deployment, route and phase, then the verdict per claim. */
export function formatSummary(results: RunResults): string {
  const lines: string[] = [`\n${results.scenario.title}`, ''];
  for (const deployment of results.deployments) {
    lines.push(
      `${deployment.deployment}:${deployment.partial ? ' (PARTIAL: the run stopped during this deployment)' : ''}`,
    );
    for (const route of deployment.routes) {
      // A route nothing was sent on (coordinated-omission drives pay alone) would be rows of dashes.
      const sentOpen = route.phases.some((phase) => phase.completed > 0);
      if (sentOpen) lines.push(...route.phases.map((phase) => phaseLine(route.route, phase)));
      // The closed model's own rows: latency from each send, not from a due time.
      for (const phase of route.closedModel?.phases ?? [])
        lines.push(phaseLine(`${route.route} closed`, phase));
    }
    const recovered = deployment.recovery.map(
      (entry) => `${entry.route} ${entry.seconds === null ? 'never' : `${entry.seconds.toFixed(1)} s`}`,
    );
    if (recovered.length) lines.push(`  recovery after heal: ${recovered.join(', ')}`);
    const audit = deployment.audit;
    lines.push(
      audit.notAudited
        ? `  not audited: ${audit.notAudited}`
        : `  audit: ${audit.users} users, ${audit.payments} payments, ${audit.orphanUsers} orphan users, ${audit.doubleCharges} double charges, ` +
            `${audit.acknowledgedWithoutRow} acknowledged without a row, ${audit.failedButCommitted} failed but committed`,
    );
    lines.push(...instrumentLines(deployment));
  }
  lines.push(
    '',
    results.validity?.status === 'invalid' ? 'Hypothesis (not judged: the run is invalid):' : 'Hypothesis:',
  );
  for (const claim of results.hypothesis.claims) {
    lines.push(
      `  ${claim.held ? 'HELD  ' : 'FAILED'} ${claim.id}: ${formatClaimObserved(claim)} (expected ${formatClaimExpected(claim)})`,
    );
  }
  lines.push('', ...verdictLines(results));
  lines.push(`Wall time ${(results.wallTimeMs / 1000).toFixed(1)} s on the ${results.runtime.name} runtime.`);
  return lines.join('\n');
}

function phaseLine(label: string, phase: PhaseSummary): string {
  const causes = Object.entries(phase.failures)
    .map(([cause, count]) => `${cause} ${count}`)
    .join(', ');
  return (
    `  ${label.padEnd(9)} ${phase.phase.padEnd(12)} ok ${percent(phase.successRate).padStart(6)} of ${String(phase.completed).padStart(4)}` +
    `  p50 ${millis(phase.latencyMs.p50).padStart(8)}  p99 ${millis(phase.latencyMs.p99).padStart(8)}${causes ? `  failures: ${causes}` : ''}`
  );
}

/** The verdict: INVALID (no verdict) with its reasons, or held / did not hold, degraded or not. */
export function verdictLines(results: RunResults): string[] {
  const validity = results.validity;
  const reasons = validity ? validityReasons(validity) : { shown: [], more: 0 };
  const listed = [
    ...reasons.shown.map((reason) => `  - ${reason}`),
    ...(reasons.more > 0 ? [`  - and ${reasons.more} more (see the report)`] : []),
  ];
  if (validity?.status === 'invalid') {
    return [
      `Verdict: INVALID: the lab could not do what the scenario asked — ${reasons.shown[0] ?? 'see the report'}`,
      ...(listed.length > 1 ? listed.slice(1) : []),
      'No verdict on the hypothesis: the figures above are what was measured before the run stopped.',
    ];
  }
  const verdict = results.hypothesis.held
    ? 'Verdict: the hypothesis held.'
    : 'Verdict: the hypothesis did NOT hold.';
  if (validity?.status !== 'degraded') return [verdict];
  return [`${verdict} But the measurement was degraded; read it with care:`, ...listed];
}

/** One line on the observed fault timeline and one on the lab's own instruments, per deployment. */
function instrumentLines(deployment: DeploymentResult): string[] {
  const lines: string[] = [];
  const evidence = deployment.faultEvidence ?? [];
  if (evidence.length > 0) {
    const observed = evidence.filter((entry) => entry.observed);
    const lags = observed.map((entry) => entry.lagMs ?? 0).filter((lag) => lag >= 0);
    lines.push(
      `  faults observed: ${observed.length} of ${evidence.length} steps` +
        (lags.length > 0 ? `, lag after plan up to ${millis(Math.max(...lags))}` : ''),
    );
  }
  const health = deployment.loadHealth ?? [];
  if (health.length > 0) {
    const worst = (values: (number | null)[]): number | null => {
      const present = values.filter((value): value is number => value !== null);
      return present.length > 0 ? Math.max(...present) : null;
    };
    const degraded = health.filter((phase) => phase.degraded.length > 0).map((phase) => phase.phase);
    lines.push(
      `  instruments: schedule lag p99 ≤ ${millis(worst(health.map((phase) => phase.scheduleLagMs.p99)))}, ` +
        `event loop p99 ≤ ${millis(worst(health.map((phase) => phase.eventLoopDelayMs.p99)))}, ` +
        `machine busy ≤ ${percent(worst(health.map((phase) => phase.machine.cpuBusy)))}` +
        (degraded.length > 0 ? `; degraded in ${degraded.join(', ')}` : '; healthy'),
    );
  }
  return lines;
}
