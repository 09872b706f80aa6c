import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../lab/cli/summary.ts';
import {
  DEGRADED_REASON,
  DEPENDENCY_FAILED_REASON,
  makeInvalidReportResults,
  makeReportResults,
} from './fixtures/report-results.ts';

const linesOf = (text: string): string[] => text.split('\n');

describe('formatSummary', () => {
  it('says held or not held on a valid run, with each deployment’s evidence and instruments', () => {
    const results = makeReportResults();
    results.validity = { status: 'valid', problems: [] };
    const lines = linesOf(formatSummary(results));
    expect(lines).toContain('Verdict: the hypothesis did NOT hold.');
    expect(lines).toContain('  faults observed: 2 of 2 steps, lag after plan up to 4 ms');
    expect(lines).toContain(
      '  instruments: schedule lag p99 ≤ 2 ms, event loop p99 ≤ 1 ms, machine busy ≤ 46.0%; healthy',
    );
  });

  it('keeps the verdict of a degraded run and says why to read it with care', () => {
    const lines = linesOf(formatSummary(makeReportResults()));
    expect(lines).toContain(
      'Verdict: the hypothesis did NOT hold. But the measurement was degraded; read it with care:',
    );
    expect(lines).toContain(`  - split, partition: ${DEGRADED_REASON}`);
    expect(lines).toContain(
      '  instruments: schedule lag p99 ≤ 31 ms, event loop p99 ≤ 1 ms, machine busy ≤ 97.0%; degraded in partition',
    );
  });

  it('gives an invalid run no verdict, says why, and marks the partial deployment and its missing audit', () => {
    const text = formatSummary(makeInvalidReportResults());
    const lines = linesOf(text);
    expect(lines).toContain(
      `Verdict: INVALID: the lab could not do what the scenario asked — split: ${DEPENDENCY_FAILED_REASON}`,
    );
    expect(lines).toContain('Hypothesis (not judged: the run is invalid):');
    expect(lines).toContain('split: (PARTIAL: the run stopped during this deployment)');
    expect(lines).toContain(
      '  not audited: the run stopped and the databases could not be read: connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(text).not.toContain('Verdict: the hypothesis');
    expect(text).not.toContain(DEGRADED_REASON);
  });

  it('reads a run from before the lab checked its own validity as it always did', () => {
    const results = makeReportResults();
    delete results.validity;
    for (const deployment of results.deployments) {
      delete deployment.faultEvidence;
      delete deployment.loadHealth;
    }
    const text = formatSummary(results);
    expect(linesOf(text)).toContain('Verdict: the hypothesis did NOT hold.');
    expect(text).not.toContain('instruments:');
    expect(text).not.toContain('faults observed');
  });

  it('leaves out a route nothing was sent on, and gives closed-model requests rows of their own', () => {
    const results = makeReportResults();
    const [first] = results.deployments;
    if (!first) throw new Error('the fixture has a deployment');
    first.routes = first.routes.flatMap((route) => {
      if (route.route === 'signup')
        return [{ ...route, phases: route.phases.map((phase) => ({ ...phase, completed: 0 })) }];
      if (route.route !== 'pay') return [route];
      const [phase] = route.phases;
      if (!phase) throw new Error('the fixture has a phase');
      const closedPhase = { ...phase, completed: 321, loadModel: 'closed' as const };
      return [
        {
          ...route,
          closedModel: { connections: 2, seconds: [], phases: [closedPhase], wholeRun: closedPhase },
        },
      ];
    });
    const lines = linesOf(formatSummary(results));
    const deploymentAt = lines.indexOf(`${first.deployment}:`);
    const nextDeployment = lines.findIndex((line, index) => index > deploymentAt && /^\S.*:$/.test(line));
    const own = lines.slice(deploymentAt, nextDeployment === -1 ? undefined : nextDeployment);
    expect(own.some((line) => line.startsWith('  signup '))).toBe(false);
    expect(own.filter((line) => line.startsWith('  pay closed '))).toEqual([
      expect.stringContaining(' of  321'),
    ]);
    expect(own.some((line) => line.startsWith('  pay       '))).toBe(true);
  });
});
