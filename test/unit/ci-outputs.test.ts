import { describe, expect, it } from 'vitest';
import { escapeXml, renderJUnit, suiteCounts } from '../../lab/ci-outputs/junit.ts';
import { inlineCode, markdownText, renderSummaryMarkdown } from '../../lab/ci-outputs/summary-markdown.ts';
import type { RunResults } from '../../lab/results.ts';
import {
  DEGRADED_REASON,
  DEPENDENCY_FAILED_REASON,
  makeInvalidReportResults,
  makeReportResults,
} from './fixtures/report-results.ts';

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d+)|#x([0-9a-fA-F]+));/g;
const decode = (text: string): string =>
  text.replace(ENTITY, (_, name?: string, decimal?: string, hex?: string) =>
    name ? (ENTITIES[name] ?? '') : String.fromCodePoint(decimal ? Number(decimal) : parseInt(hex ?? '', 16)),
  );

/**
 * A strict reader of the XML subset JUnit files use (no parser is installed): every tag must be
 * well-formed and closed in order, every attribute double-quoted, and no `<` or stray `&` may appear in
 * text or attribute values. Anything else throws; the integration test also parses real output with the
 * browser's XML parser.
 */
function readXml(document: string): XmlElement {
  const declaration = '<?xml version="1.0" encoding="UTF-8"?>\n';
  if (!document.startsWith(declaration)) throw new Error('no XML declaration');
  const safeText = /^(?:[^<&]|&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)*$/;
  const tag = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"]*")*)\s*(\/?)>/y;
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let at = declaration.length;
  while (at < document.length) {
    const next = document.indexOf('<', at);
    const text = document.slice(at, next < 0 ? document.length : next);
    if (!safeText.test(text)) throw new Error(`unescaped text at ${at}: ${text.slice(0, 40)}`);
    const current = stack.at(-1);
    if (!current) throw new Error('no open element');
    current.text += decode(text);
    if (next < 0) break;
    tag.lastIndex = next;
    const match = tag.exec(document);
    if (!match) throw new Error(`malformed tag at ${next}: ${document.slice(next, next + 60)}`);
    const [whole, closing, name = '', attributeText = '', selfClosing] = match;
    at = next + whole.length;
    if (closing) {
      if (current.name !== name) throw new Error(`</${name}> closes <${current.name}>`);
      stack.pop();
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const [, key = '', value = ''] of attributeText.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      if (key in attributes) throw new Error(`attribute ${key} twice on <${name}>`);
      if (!safeText.test(value)) throw new Error(`unescaped attribute ${key}="${value}"`);
      attributes[key] = decode(value);
    }
    const element: XmlElement = { name, attributes, children: [], text: '' };
    current.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)?.name}> is never closed`);
  if (root.children.length !== 1 || root.text.trim() !== '') throw new Error('not exactly one root element');
  const [documentElement] = root.children;
  if (!documentElement) throw new Error('no root element');
  return documentElement;
}

const childrenNamed = (element: XmlElement, name: string): XmlElement[] =>
  element.children.filter((child) => child.name === name);

/** The JUnit shape every reporter reads (the Ant/Jenkins schema), checked on a parsed document. */
function expectJUnitShape(root: XmlElement): void {
  expect(root.name).toBe('testsuites');
  const suites = childrenNamed(root, 'testsuite');
  expect(suites.length).toBe(root.children.length);
  const sum = (name: string) => suites.reduce((total, suite) => total + Number(suite.attributes[name]), 0);
  for (const name of ['tests', 'failures', 'errors'])
    expect(Number(root.attributes[name]), `testsuites ${name}`).toBe(sum(name));
  for (const suite of suites) {
    for (const name of ['name', 'tests', 'failures', 'errors', 'skipped', 'time', 'timestamp', 'hostname'])
      expect(suite.attributes[name], `testsuite ${name}`).toBeDefined();
    expect(suite.attributes.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(suite.attributes.time).toMatch(/^\d+\.\d{3}$/);
    // The schema's order: properties, testcases, system-out, system-err.
    const order = suite.children.map((child) => child.name);
    expect(order[0]).toBe('properties');
    expect(order.slice(-2)).toEqual(['system-out', 'system-err']);
    const cases = childrenNamed(suite, 'testcase');
    expect(order.slice(1, -2)).toEqual(cases.map(() => 'testcase'));
    expect(cases.length).toBe(Number(suite.attributes.tests));
    const outcome = (name: string) => cases.filter((each) => childrenNamed(each, name).length > 0).length;
    expect(outcome('failure')).toBe(Number(suite.attributes.failures));
    expect(outcome('error')).toBe(Number(suite.attributes.errors));
    for (const testcase of cases) {
      expect(testcase.attributes.classname).toBe(`splitlab.${suite.attributes.name}`);
      expect(testcase.attributes.time).toMatch(/^\d+\.\d{3}$/);
      expect(testcase.children.length).toBeLessThanOrEqual(1);
      for (const problem of testcase.children) {
        expect(['failure', 'error']).toContain(problem.name);
        expect(problem.attributes.message).toBeTruthy();
        expect(problem.attributes.type).toBeTruthy();
      }
    }
  }
}

const REPORT = 'reports/2026-11-25_12-05-03_payment-partition_ab12/index.html';

describe('renderJUnit', () => {
  it('makes one testsuite with one testcase per claim, and a failure with expected and observed for each that did not hold', () => {
    const results = makeReportResults();
    const root = readXml(renderJUnit([{ results, reportPath: REPORT }], { hostname: 'ci-runner' }));
    expectJUnitShape(root);
    expect(root.attributes).toMatchObject({ name: 'splitlab', tests: '4', failures: '1', errors: '0' });
    const [suite] = childrenNamed(root, 'testsuite');
    expect(suite?.attributes).toMatchObject({
      name: 'payment-partition',
      tests: '4',
      failures: '1',
      errors: '0',
      time: '98.750',
      timestamp: '2026-11-25T12:05:03',
      hostname: 'ci-runner',
    });
    const cases = childrenNamed(suite as XmlElement, 'testcase');
    expect(cases.map((each) => each.attributes.name)).toEqual([
      'split-signup-isolated',
      'split-checkout-fails-fast',
      'split-circuit-opens',
      'split-checkout-recovers',
    ]);
    // Each claim's time is its phase's length: partition runs from 20 s to 50 s.
    expect(cases[0]?.attributes.time).toBe('30.000');
    const failure = cases[1]?.children[0];
    expect(failure?.name).toBe('failure');
    expect(failure?.attributes.message).toBe('observed 2.01 s, expected ≤ 500 ms');
    expect(failure?.text).toContain('Split checkout answers within 500 ms at p99');
    expect(failure?.text).toContain('split, checkout, phase partition: latencyP99Ms');
    expect(cases.filter((each) => each.children.length === 0)).toHaveLength(3);
    const properties = childrenNamed(suite as XmlElement, 'properties')[0]?.children ?? [];
    expect(
      Object.fromEntries(properties.map((each) => [each.attributes.name, each.attributes.value])),
    ).toEqual({
      runId: results.runId,
      report: REPORT,
      verdict: 'failed',
      validity: 'degraded',
      runtime: 'local',
    });
    const out = childrenNamed(suite as XmlElement, 'system-out')[0]?.text ?? '';
    expect(out).toContain('Measurement degraded:');
    expect(out).toContain(DEGRADED_REASON);
    expect(out).toContain(`Report: ${REPORT}`);
  });

  it('gives every claim of an invalid run an error saying why there is no verdict, and no failure', () => {
    const results = makeInvalidReportResults();
    const root = readXml(renderJUnit([{ results, reportPath: REPORT }], { hostname: 'h' }));
    expectJUnitShape(root);
    expect(root.attributes).toMatchObject({ tests: '4', failures: '0', errors: '4' });
    const cases = root.children[0]?.children.filter((child) => child.name === 'testcase') ?? [];
    for (const testcase of cases) {
      const [error] = testcase.children;
      expect(error?.name).toBe('error');
      expect(error?.attributes.type).toBe('RunInvalid');
      expect(error?.attributes.message).toBe(
        `no verdict: the run is invalid, the lab could not do what the scenario asked: split: ${DEPENDENCY_FAILED_REASON}`,
      );
    }
  });

  it('with all, makes one testsuite per scenario and totals their counts', () => {
    const held = makeReportResults({ runId: 'run-held' });
    held.scenario = { ...held.scenario, name: 'latency' };
    held.hypothesis = {
      held: true,
      claims: held.hypothesis.claims.map((claim) => ({ ...claim, held: true })),
    };
    const runs = [
      { results: makeReportResults(), reportPath: 'a/index.html' },
      { results: held, reportPath: 'b/index.html' },
      { results: makeInvalidReportResults(), reportPath: 'c/index.html' },
    ];
    const root = readXml(renderJUnit(runs, { hostname: 'h' }));
    expectJUnitShape(root);
    expect(childrenNamed(root, 'testsuite').map((suite) => suite.attributes.name)).toEqual([
      'payment-partition',
      'latency',
      'payment-partition',
    ]);
    expect(root.attributes).toMatchObject({ tests: '12', failures: '1', errors: '4' });
    expect(runs.map((run) => suiteCounts(run.results))).toEqual([
      { tests: 4, failures: 1, errors: 0 },
      { tests: 4, failures: 0, errors: 0 },
      { tests: 4, failures: 0, errors: 4 },
    ]);
  });

  it('escapes everything a scenario author can write, and drops what XML cannot hold', () => {
    const results: RunResults = makeReportResults();
    results.scenario = { ...results.scenario, name: 'a"b<c>&\'d', title: ']]> </system-out> <x>' };
    const [claim] = results.hypothesis.claims;
    if (claim) {
      claim.id = '<id> & "quoted"';
      claim.held = false;
      claim.description = 'line one\nline two\u0007 bell, lone \uD800 surrogate';
    }
    const root = readXml(renderJUnit([{ results, reportPath: 'r&d/<x>.html' }], { hostname: 'h"1' }));
    expectJUnitShape(root);
    const suite = root.children[0];
    expect(suite?.attributes.name).toBe('a"b<c>&\'d');
    expect(suite?.attributes.hostname).toBe('h"1');
    const testcase = suite?.children[1];
    expect(testcase?.attributes.name).toBe('<id> & "quoted"');
    expect(testcase?.attributes.classname).toBe('splitlab.a"b<c>&\'d');
    expect(testcase?.children[0]?.text).toContain('line one\nline two\uFFFD bell, lone \uFFFD surrogate');
    expect(escapeXml('tab\there\nnew')).toBe('tab&#9;here&#10;new');
  });
});

describe('renderSummaryMarkdown', () => {
  it('says the verdict, lists the claims with observed, expected and held, the warnings and the report', () => {
    const markdown = renderSummaryMarkdown([{ results: makeReportResults(), reportPath: REPORT }]);
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('## splitlab payment-partition: ❌ the hypothesis did NOT hold');
    expect(lines).toContain('| Claim | Observed | Expected | Held |');
    expect(lines).toContain(
      '| `split-checkout-fails-fast`<br>Split checkout answers within 500 ms at p99, even while payment is unreachable | 2.01 s | ≤ 500 ms | ❌ did not hold |',
    );
    expect(lines.filter((line) => line.endsWith('| ✅ held |'))).toHaveLength(3);
    expect(lines).toContain('> The measurement was degraded; read the verdict with care:');
    expect(lines).toContain(`> - split, partition: ${markdownText(DEGRADED_REASON)}`);
    expect(lines).toContain(`Report: \`${REPORT}\``);
  });

  it('gives an invalid run no verdict on any claim, and says why', () => {
    const markdown = renderSummaryMarkdown([{ results: makeInvalidReportResults(), reportPath: REPORT }]);
    expect(markdown.split('\n')[0]).toBe(
      '## splitlab payment-partition: ⛔ INVALID: no verdict, the lab could not do what the scenario asked',
    );
    expect(markdown).toContain('(4 claims, none judged)');
    expect(markdown.match(/\| — no verdict \|/g)).toHaveLength(4);
    expect(markdown).not.toMatch(/✅ held|did not hold \|/);
    expect(markdown).toContain(`> - split: ${markdownText(DEPENDENCY_FAILED_REASON)}`);
    expect(markdown).not.toContain(markdownText(DEGRADED_REASON));
  });

  it('with all, opens with the counts and gives each scenario its own section', () => {
    const markdown = renderSummaryMarkdown([
      { results: makeReportResults(), reportPath: 'a/index.html' },
      { results: makeInvalidReportResults(), reportPath: 'b/index.html' },
    ]);
    expect(markdown.split('\n')[0]).toBe('## ⛔ splitlab: 2 scenarios: 0 held, 1 did not hold, 1 invalid');
    expect(markdown.match(/^### splitlab /gm)).toHaveLength(2);
    expect(markdown).toContain('Report: `b/index.html`');
  });

  it('keeps a table cell one cell whatever the claim says', () => {
    expect(markdownText('a | b\n<script> *x* `y`')).toBe('a \\| b &lt;script&gt; \\*x\\* \\`y\\`');
    expect(inlineCode('has ` tick | pipe')).toBe('``has ` tick \\| pipe``');
    const results = makeReportResults();
    const [claim] = results.hypothesis.claims;
    if (claim) claim.description = 'zebra | two\nthree';
    const row = renderSummaryMarkdown([{ results, reportPath: REPORT }])
      .split('\n')
      .find((line) => line.includes('zebra'));
    // Five unescaped pipes: four cells.
    expect(row?.match(/(?<!\\)\|/g)).toHaveLength(5);
  });
});
