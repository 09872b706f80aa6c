/**
 * `--junit <file>`: the runs as JUnit XML, the format CI systems show test results in. One <testsuite>
 * per scenario run, one <testcase> per claim; a claim that did not hold is a <failure>, and every claim
 * of an invalid run is an <error> (the lab could not measure it, so there is no verdict). The layout
 * follows the Ant/Jenkins schema every JUnit reporter reads: properties, testcases, system-out,
 * system-err, in that order.
 */
import type { ClaimResult, RunResults } from '../results.ts';
import { claimOutcome, claimPhaseSeconds, runVerdict, validityWarnings, type CiRun } from './ci-run.ts';
import { describeClaimMetric } from '../report/format.ts';

/**
 * Characters XML 1.0 cannot hold at all, not even as a character reference: control characters other
 * than tab, newline and return, lone surrogates, U+FFFE and U+FFFF. They become U+FFFD.
 */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * Text made safe for XML element content and for an attribute value in double quotes. Newlines and
 * tabs in attributes are written as references, which a parser would otherwise turn into spaces.
 *
 * @example escapeXml('a < b & "c"\n') // 'a &lt; b &amp; &quot;c&quot;&#10;'
 */
export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** Element text: like escapeXml, but newlines stay readable. */
function escapeText(text: string): string {
  return text
    .replace(NOT_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

const attributes = (values: Record<string, string | number>): string =>
  Object.entries(values)
    .map(([name, value]) => ` ${name}="${escapeXml(String(value))}"`)
    .join('');

/** Seconds as JUnit writes them: a decimal number, milliseconds at most. */
const seconds = (value: number): string => (Math.round(value * 1000) / 1000).toFixed(3);

/** The counts of one suite, as its attributes and the <testsuites> totals say them. */
export interface SuiteCounts {
  tests: number;
  failures: number;
  errors: number;
}

/** How many claims a run has, how many did not hold, and how many have no verdict. */
export function suiteCounts(results: RunResults): SuiteCounts {
  const claims = results.hypothesis.claims;
  if (runVerdict(results) === 'invalid') return { tests: claims.length, failures: 0, errors: claims.length };
  return { tests: claims.length, failures: claims.filter((claim) => !claim.held).length, errors: 0 };
}

export interface JUnitOptions {
  /** The machine the runs were made on (the schema asks for it). */
  hostname: string;
}

/**
 * The whole JUnit document for the runs of one command (one scenario, or every scenario for `all`).
 *
 * @example await writeFile('splitlab.xml', renderJUnit([{ results, reportPath }], { hostname: os.hostname() }));
 */
export function renderJUnit(runs: readonly CiRun[], options: JUnitOptions): string {
  const totals = runs
    .map((run) => suiteCounts(run.results))
    .reduce(
      (sum, counts) => ({
        tests: sum.tests + counts.tests,
        failures: sum.failures + counts.failures,
        errors: sum.errors + counts.errors,
      }),
      { tests: 0, failures: 0, errors: 0 },
    );
  const time = runs.reduce((sum, run) => sum + run.results.wallTimeMs / 1000, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: 'splitlab', ...totals, time: seconds(time) })}>`,
    ...runs.flatMap((run, index) => renderSuite(run, index, options)),
    '</testsuites>',
    '',
  ].join('\n');
}

function renderSuite(run: CiRun, index: number, options: JUnitOptions): string[] {
  const { results } = run;
  const verdict = runVerdict(results);
  const warnings = validityWarnings(results);
  const properties: Record<string, string> = {
    runId: results.runId,
    report: run.reportPath,
    verdict,
    validity: results.validity?.status ?? 'valid',
    runtime: results.runtime.name,
  };
  const out = [
    `${results.scenario.title}`,
    `Verdict: ${verdictWords(results)}`,
    ...(warnings.length > 0
      ? [`Measurement ${results.validity?.status}:`, ...warnings.map((warning) => `  - ${warning}`)]
      : []),
    `Report: ${run.reportPath}`,
  ].join('\n');
  return [
    `  <testsuite${attributes({
      name: results.scenario.name,
      ...suiteCounts(results),
      skipped: 0,
      time: seconds(results.wallTimeMs / 1000),
      // The schema's timestamp has no zone and no fraction; startedAt is UTC.
      timestamp: results.startedAt.slice(0, 19),
      hostname: options.hostname,
      id: index,
      package: 'splitlab',
    })}>`,
    '    <properties>',
    ...Object.entries(properties).map(([name, value]) => `      <property${attributes({ name, value })}/>`),
    '    </properties>',
    ...results.hypothesis.claims.flatMap((claim) => renderCase(results, claim, warnings)),
    `    <system-out>${escapeText(out)}</system-out>`,
    '    <system-err></system-err>',
    '  </testsuite>',
  ];
}

function renderCase(results: RunResults, claim: ClaimResult, warnings: readonly string[]): string[] {
  const open = `    <testcase${attributes({
    name: claim.id,
    classname: `splitlab.${results.scenario.name}`,
    time: seconds(claimPhaseSeconds(results, claim)),
  })}`;
  const where = `${claim.deployment}, ${claim.route}, phase ${claim.phase}: ${describeClaimMetric(claim)}`;
  if (runVerdict(results) === 'invalid') {
    const message = `no verdict: the run is invalid, the lab could not do what the scenario asked: ${warnings[0] ?? 'see the report'}`;
    const body = [claim.description, where, claimOutcome(claim), 'Why the run is invalid:', ...warnings];
    return [
      `${open}>`,
      `      <error${attributes({ message, type: 'RunInvalid' })}>${escapeText(body.join('\n'))}</error>`,
      '    </testcase>',
    ];
  }
  if (claim.held) return [`${open}/>`];
  const body = [claim.description, where, claimOutcome(claim)];
  return [
    `${open}>`,
    `      <failure${attributes({ message: claimOutcome(claim), type: 'ClaimDidNotHold' })}>${escapeText(body.join('\n'))}</failure>`,
    '    </testcase>',
  ];
}

function verdictWords(results: RunResults): string {
  switch (runVerdict(results)) {
    case 'invalid':
      return 'INVALID: no verdict (the lab could not do what the scenario asked)';
    case 'held':
      return 'the hypothesis held';
    case 'failed':
      return 'the hypothesis did NOT hold';
  }
}
