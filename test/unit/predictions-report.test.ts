import { describe, expect, it } from 'vitest';
import { renderRunReport } from '../../lab/report/render-run.ts';
import { makeReportResults } from './fixtures/report-results.ts';

/** The page's text with whitespace collapsed, tags kept. */
const flat = (page: string): string => page.replace(/\s+/g, ' ');

/** The hypothesis section of a page. */
function hypothesisOf(page: string): string {
  return flat(/<section id="hypothesis">([\s\S]*?)<\/section>/.exec(page)?.[1] ?? '');
}

/** The cells' text of a claim's row, tags removed. */
function rowCells(page: string, id: string): string[] {
  const row = new RegExp(`data-claim-id="${id}">([\\s\\S]*?)</tr>`).exec(page)?.[1] ?? '';
  return [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((match) =>
    flat((match[1] ?? '').replace(/<[^>]+>/g, ' ')).trim(),
  );
}

const withPredictions = makeReportResults({
  predictions: {
    source: 'file',
    file: '/tmp/guesses.json',
    values: {
      'split-signup-isolated': 0.995,
      'split-checkout-fails-fast': 300,
      'split-circuit-opens': 0.2,
    },
  },
});

describe('the claims table with predictions', () => {
  const page = renderRunReport(withPredictions);
  const section = hypothesisOf(page);

  it('sets predicted, measured and the tolerance side by side', () => {
    const headers = [...section.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((match) => match[1]);
    expect(headers).toEqual([
      'Claim',
      'Deployment',
      'Route',
      'Phase',
      'Metric',
      'Predicted',
      'Measured',
      'Tolerance',
      'Held',
      'Prediction',
      'Agreed',
    ]);
  });

  it('says per claim whether the guess was within the tolerance and agreed with the verdict', () => {
    // Guessed 300 ms (within ≤ 500 ms), measured 2.01 s: the claim did not hold, the guess said it would.
    expect(rowCells(page, 'split-checkout-fails-fast').slice(5)).toEqual([
      '300 ms',
      '2.01 s',
      '≤ 500 ms',
      '✗ did not hold',
      'within the tolerance',
      '✗ did not agree',
    ]);
    expect(rowCells(page, 'split-signup-isolated').slice(5)).toEqual([
      '99.5 %',
      '100 %',
      '≥ 99 %',
      '✓ held',
      'within the tolerance',
      '✓ agreed',
    ]);
    expect(rowCells(page, 'split-circuit-opens').slice(5)).toEqual([
      '20.0 %',
      '77.8 %',
      '≥ 50 %',
      '✓ held',
      'outside the tolerance',
      '✗ did not agree',
    ]);
    expect(rowCells(page, 'split-checkout-recovers').slice(5)).toEqual([
      '—',
      '3 s',
      '≤ 10 s',
      '✓ held',
      'not predicted',
      '—',
    ]);
  });

  it('says how many predictions were within the tolerance, and where they came from', () => {
    expect(section).toContain('2 of 3 predictions within the tolerance; 1 of 3 agreed with the verdict.');
    expect(section).toContain('<code>/tmp/guesses.json</code>');
  });

  it('says a terminal prediction was typed there', () => {
    const typed = renderRunReport(
      makeReportResults({ predictions: { source: 'terminal', values: { 'split-circuit-opens': 0.9 } } }),
    );
    expect(hypothesisOf(typed)).toContain('1 of 1 predictions within the tolerance');
    expect(hypothesisOf(typed)).toContain('typed at the terminal');
  });
});

describe('the claims table without predictions', () => {
  it('is as it always was: expected, observed, held', () => {
    const section = hypothesisOf(renderRunReport(makeReportResults()));
    const headers = [...section.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((match) => match[1]);
    expect(headers).toEqual([
      'Claim',
      'Deployment',
      'Route',
      'Phase',
      'Metric',
      'Expected',
      'Observed',
      'Held',
    ]);
    expect(section).not.toContain('predictions within the tolerance');
  });
});
