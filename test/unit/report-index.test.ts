import { describe, expect, it } from 'vitest';
import { renderRunsIndex } from '../../lab/report/render-index.ts';
import { makeInvalidReportResults, makeReportResults } from './fixtures/report-results.ts';

/** The text of the verdict cell of the run in `dir`. */
function verdictOf(page: string, dir: string): string {
  const row = new RegExp(`<tr[^>]*data-run-dir="${dir}"[^>]*>([\\s\\S]*?)</tr>`).exec(page)?.[1] ?? '';
  return row.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

describe('the runs index', () => {
  it('shows an invalid run without a verdict and a degraded one with a warning', () => {
    const valid = makeReportResults({ validity: { status: 'valid', problems: [] } });
    const degraded = makeReportResults({
      validity: {
        status: 'degraded',
        problems: [
          { kind: 'generator-lagging', severity: 'degraded', phase: 'partition', message: 'late by 48 ms' },
        ],
      },
    });
    const page = renderRunsIndex(
      [
        { dir: 'valid-run', results: valid },
        { dir: 'degraded-run', results: degraded },
        { dir: 'invalid-run', results: makeInvalidReportResults() },
      ],
      [],
    );
    expect(verdictOf(page, 'valid-run')).not.toContain('degraded');
    expect(verdictOf(page, 'degraded-run')).toContain('measurement degraded');
    expect(verdictOf(page, 'invalid-run')).toContain('invalid: no verdict');
    expect(verdictOf(page, 'invalid-run')).not.toMatch(/held/);
  });
});
