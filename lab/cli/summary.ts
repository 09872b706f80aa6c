import { formatClaimExpected, formatClaimObserved } from '../report/format.ts';
import type { RunResults } from '../results.ts';

const percent = (value: number | null): string => (value === null ? '—' : `${(value * 100).toFixed(1)}%`);
const millis = (value: number | null): string =>
  value === null ? '—' : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;

/** The plain-text summary the CLI prints: per deployment, route and phase, then the verdict per claim. */
export function formatSummary(results: RunResults): string {
  const lines: string[] = [`\n${results.scenario.title}`, ''];
  for (const deployment of results.deployments) {
    lines.push(`${deployment.deployment}:`);
    for (const route of deployment.routes) {
      for (const phase of route.phases) {
        const causes = Object.entries(phase.failures)
          .map(([cause, count]) => `${cause} ${count}`)
          .join(', ');
        lines.push(
          `  ${route.route.padEnd(9)} ${phase.phase.padEnd(12)} ok ${percent(phase.successRate).padStart(6)} of ${String(phase.completed).padStart(4)}` +
            `  p50 ${millis(phase.latencyMs.p50).padStart(8)}  p99 ${millis(phase.latencyMs.p99).padStart(8)}${causes ? `  failures: ${causes}` : ''}`,
        );
      }
    }
    const recovered = deployment.recovery.map(
      (entry) => `${entry.route} ${entry.seconds === null ? 'never' : `${entry.seconds.toFixed(1)} s`}`,
    );
    if (recovered.length) lines.push(`  recovery after heal: ${recovered.join(', ')}`);
    const audit = deployment.audit;
    lines.push(
      `  audit: ${audit.users} users, ${audit.payments} payments, ${audit.orphanUsers} orphan users, ${audit.doubleCharges} double charges, ` +
        `${audit.acknowledgedWithoutRow} acknowledged without a row, ${audit.failedButCommitted} failed but committed`,
    );
  }
  lines.push('', 'Hypothesis:');
  for (const claim of results.hypothesis.claims) {
    lines.push(
      `  ${claim.held ? 'HELD  ' : 'FAILED'} ${claim.id}: ${formatClaimObserved(claim)} (expected ${formatClaimExpected(claim)})`,
    );
  }
  lines.push(
    '',
    results.hypothesis.held ? 'Verdict: the hypothesis held.' : 'Verdict: the hypothesis did NOT hold.',
  );
  lines.push(`Wall time ${(results.wallTimeMs / 1000).toFixed(1)} s on the ${results.runtime.name} runtime.`);
  return lines.join('\n');
}
