/**
 * `--summary-md <file>` and GitHub's job summary (GITHUB_STEP_SUMMARY): the verdict of each run, its
 * claims table, why the measurement was degraded or the run invalid, and where its report is.
 */
import type { ClaimResult } from '../results.ts';
import { runVerdict, validityWarnings, type CiRun, type RunVerdict } from './ci-run.ts';
import { formatClaimExpected, formatClaimObserved } from '../report/format.ts';

const VERDICT_HEADINGS: Record<RunVerdict, string> = {
  held: '✅ the hypothesis held',
  failed: '❌ the hypothesis did NOT hold',
  invalid: '⛔ INVALID: no verdict, the lab could not do what the scenario asked',
};

/**
 * Text that Markdown shows as it is, on one line and safe in a table cell: the characters Markdown
 * and HTML give a meaning to are escaped, a `|` no longer ends the cell.
 *
 * @example markdownText('a | b <i>') // 'a \\| b &lt;i&gt;'
 */
export function markdownText(text: string): string {
  return text
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#~])/g, '\\$1');
}

/**
 * Inline code, safe in a table cell: a fence longer than any run of backticks inside, and `|` escaped
 * (GitHub's tables split cells before they read code spans).
 *
 * @example inlineCode('reports/x/index.html') // '`reports/x/index.html`'
 */
export function inlineCode(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

function claimRow(claim: ClaimResult, verdict: RunVerdict): string {
  const held = verdict === 'invalid' ? '— no verdict' : claim.held ? '✅ held' : '❌ did not hold';
  const observed = claim.observed === null ? 'nothing measured' : formatClaimObserved(claim);
  const cells = [
    `${inlineCode(claim.id)}<br>${markdownText(claim.description)}`,
    markdownText(observed),
    markdownText(formatClaimExpected(claim)),
    held,
  ];
  return `| ${cells.join(' | ')} |`;
}

/** One run's section: heading with the verdict, the claims table, the warnings, the report's path. */
function renderRun(run: CiRun, headingLevel: number): string[] {
  const { results } = run;
  const verdict = runVerdict(results);
  const { claims } = results.hypothesis;
  const heldCount = claims.filter((claim) => claim.held).length;
  const warnings = validityWarnings(results);
  const lines = [
    `${'#'.repeat(headingLevel)} splitlab ${markdownText(results.scenario.name)}: ${VERDICT_HEADINGS[verdict]}`,
    '',
    `${markdownText(results.scenario.title)} ` +
      (verdict === 'invalid'
        ? `(${claims.length} ${claims.length === 1 ? 'claim' : 'claims'}, none judged)`
        : `(${heldCount} of ${claims.length} ${claims.length === 1 ? 'claim' : 'claims'} held)`),
    '',
  ];
  if (claims.length > 0) {
    lines.push(
      '| Claim | Observed | Expected | Held |',
      '| --- | --: | --: | --- |',
      ...claims.map((claim) => claimRow(claim, verdict)),
      '',
    );
  }
  if (warnings.length > 0) {
    lines.push(
      verdict === 'invalid'
        ? '> [!CAUTION]\n> Why the run is invalid:'
        : '> [!WARNING]\n> The measurement was degraded; read the verdict with care:',
      ...warnings.map((warning) => `> - ${markdownText(warning)}`),
      '',
    );
  }
  lines.push(`Report: ${inlineCode(run.reportPath)}`, '');
  return lines;
}

/**
 * The Markdown of the runs of one command: for one scenario, its section; for `all`, a line with the
 * counts, then one section per scenario.
 *
 * @example await writeFile('summary.md', renderSummaryMarkdown([{ results, reportPath }]));
 */
export function renderSummaryMarkdown(runs: readonly CiRun[]): string {
  if (runs.length === 1 && runs[0]) return renderRun(runs[0], 2).join('\n');
  const verdicts = runs.map((run) => runVerdict(run.results));
  const count = (verdict: RunVerdict) => verdicts.filter((each) => each === verdict).length;
  const overall = count('invalid') > 0 ? 'invalid' : count('failed') > 0 ? 'failed' : 'held';
  const icon = { held: '✅', failed: '❌', invalid: '⛔' }[overall];
  return [
    `## ${icon} splitlab: ${runs.length} scenarios: ${count('held')} held, ${count('failed')} did not hold, ${count('invalid')} invalid`,
    '',
    ...runs.flatMap((run) => renderRun(run, 3)),
  ].join('\n');
}
