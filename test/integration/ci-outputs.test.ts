/**
 * What CI gets from a real run: the JUnit file (parsed by a real XML parser, the browser's), the
 * Markdown summary in its file and appended to GITHUB_STEP_SUMMARY, and the provenance every
 * results.json and report carries.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderJUnit } from '../../lab/ci-outputs/junit.ts';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import { readRunResults } from '../../lab/report/read-results.ts';
import type { RunResults } from '../../lab/results.ts';
import { TEST_RUNTIME } from './support/lab.ts';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, SCRYPT_N: '1024', ...env };
  // Only the summary file this test names: never the job summary of a CI run of this suite.
  if (!('GITHUB_STEP_SUMMARY' in env)) delete childEnv.GITHUB_STEP_SUMMARY;
  const cli = spawn(
    path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node'),
    ['lab/cli/scenario.ts', ...args],
    { cwd: PROJECT_ROOT, env: childEnv },
  );
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => cli.once('close', (code) => resolve({ code, stdout, stderr })));
}

const DEFINE = JSON.stringify(path.join(PROJECT_ROOT, 'lab/scenario/define-scenario.ts'));

/** A monolith-only scenario of `durationS` seconds whose claims are about pay's success rate. */
function tinyScenario(name: string, durationS: number, claims: string): string {
  return `import { defineScenario } from ${DEFINE};
export default defineScenario({
  name: '${name}',
  title: 'Does CI see the verdict of ${name}?',
  claim: 'CI reads the claims as tests.',
  load: { signup: { ratePerSecond: 1 }, pay: { ratePerSecond: 5 }, checkout: { ratePerSecond: 1 } },
  timeline: [{ name: 'calm', durationS: ${durationS}, story: 'Nothing happens.' }],
  hypothesis: [${claims}],
  whatToLookAt: ['The verdict.'],
  variants: [{ name: 'monolith', deployment: 'monolith', settings: {} }],
});
`;
}

const claim = (id: string, bound: string) =>
  `{ id: '${id}', says: 'pay answers', deployment: 'monolith', route: 'pay', phase: 'calm', metric: 'successRate', ${bound} }`;

let workDir: string;
let browser: Browser | undefined;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'splitlab-ci-outputs-test-'));
});

afterAll(async () => {
  await browser?.close();
  await rm(workDir, { recursive: true, force: true });
});

interface ParsedJUnit {
  /** The parser's complaint when the document is not well-formed XML; null when it is. */
  error: string | null;
  root: string;
  suites: {
    attributes: Record<string, string>;
    cases: { name: string; classname: string; time: string; outcome: string; message: string }[];
  }[];
}

/**
 * Runs in the browser (a string: the project's TypeScript has no DOM types). DOMParser reports a
 * document that is not well-formed XML as a <parsererror> element instead of throwing.
 */
const PARSE_IN_BROWSER = `(text) => {
  const document = new DOMParser().parseFromString(text, 'application/xml');
  const error = document.querySelector('parsererror');
  const root = document.documentElement;
  return {
    error: error ? (error.textContent || 'parsererror') : null,
    root: root.nodeName,
    suites: [...root.querySelectorAll(':scope > testsuite')].map((suite) => ({
      attributes: Object.fromEntries([...suite.attributes].map((attribute) => [attribute.name, attribute.value])),
      cases: [...suite.querySelectorAll(':scope > testcase')].map((testcase) => {
        const problem = testcase.firstElementChild;
        return {
          name: testcase.getAttribute('name') ?? '',
          classname: testcase.getAttribute('classname') ?? '',
          time: testcase.getAttribute('time') ?? '',
          outcome: problem ? problem.nodeName : 'passed',
          message: problem ? (problem.getAttribute('message') ?? '') : '',
        };
      }),
    })),
  };
}`;

/** Parses XML with Chromium's DOMParser, a real XML parser, and returns what the checks need. */
async function parseXmlInBrowser(xml: string): Promise<ParsedJUnit> {
  browser ??= await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage();
  try {
    return (await page.evaluate(`(${PARSE_IN_BROWSER})(${JSON.stringify(xml)})`)) as ParsedJUnit;
  } finally {
    await page.close();
  }
}

describe('CI outputs of a real run', () => {
  it('all: JUnit with one testsuite per scenario, the Markdown summary in its file and the job summary, provenance in every results.json', async () => {
    const scenariosDir = path.join(workDir, 'scenarios');
    const reportsDir = path.join(workDir, 'reports');
    await mkdir(scenariosDir);
    // 8 s of timeline in all: 'mixed' has a claim that holds and one that cannot (healthy pay never fails).
    await writeFile(
      path.join(scenariosDir, 'mixed.ts'),
      tinyScenario(
        'mixed',
        4,
        `${claim('pay-answers', 'atLeast: 0.9')}, ${claim('pay-always-fails', 'atMost: 0')}`,
      ),
    );
    await writeFile(
      path.join(scenariosDir, 'steady.ts'),
      tinyScenario('steady', 4, claim('pay-steady', 'atLeast: 0.9')),
    );
    const junitFile = path.join(workDir, 'test-results', 'splitlab.xml');
    const summaryFile = path.join(workDir, 'summary.md');
    const stepSummary = path.join(workDir, 'step-summary.md');
    await writeFile(stepSummary, '# an earlier step\n\n');

    const run = await runCli(
      [
        'all',
        '--runtime',
        TEST_RUNTIME,
        '--scenarios-dir',
        scenariosDir,
        '--reports-dir',
        reportsDir,
        '--junit',
        junitFile,
        '--summary-md',
        summaryFile,
      ],
      { GITHUB_STEP_SUMMARY: stepSummary },
    );
    expect(run.code, run.stderr).toBe(1);

    // JUnit: well-formed to a real parser, one suite per scenario, counts that match the claims.
    const parsed = await parseXmlInBrowser(await readFile(junitFile, 'utf8'));
    expect(parsed.error).toBeNull();
    expect(parsed.root).toBe('testsuites');
    expect(parsed.suites.map((suite) => suite.attributes.name)).toEqual(['mixed', 'steady']);
    expect(
      parsed.suites.map((suite) => [
        suite.attributes.tests,
        suite.attributes.failures,
        suite.attributes.errors,
      ]),
    ).toEqual([
      ['2', '1', '0'],
      ['1', '0', '0'],
    ]);
    expect(parsed.suites[0]?.cases).toEqual([
      { name: 'pay-answers', classname: 'splitlab.mixed', time: '4.000', outcome: 'passed', message: '' },
      {
        name: 'pay-always-fails',
        classname: 'splitlab.mixed',
        time: '4.000',
        outcome: 'failure',
        message: expect.stringMatching(/^observed [<>]?\d+(\.\d+)? %, expected ≤ 0 %$/) as unknown as string,
      },
    ]);
    expect(parsed.suites[1]?.cases.map((testcase) => [testcase.name, testcase.outcome])).toEqual([
      ['pay-steady', 'passed'],
    ]);

    // Markdown: the file, and the same text appended after what the earlier step wrote.
    const summary = await readFile(summaryFile, 'utf8');
    expect(await readFile(stepSummary, 'utf8')).toBe(`# an earlier step\n\n${summary}\n`);
    expect(summary.split('\n')[0]).toBe('## ❌ splitlab: 2 scenarios: 1 held, 1 did not hold, 0 invalid');
    expect(summary).toContain('### splitlab mixed: ❌ the hypothesis did NOT hold');
    expect(summary).toMatch(
      /\| `pay-always-fails`<br>pay answers \| (&gt;|&lt;)?\d+(\.\d+)? % \| ≤ 0 % \| ❌ did not hold \|/,
    );
    const reportPaths = [...summary.matchAll(/^Report: `(.+)`$/gm)].map((match) => match[1] ?? '');
    expect(reportPaths).toHaveLength(2);

    // Provenance: in each results.json and its report.
    for (const reportPath of reportPaths) {
      const absolute = path.resolve(PROJECT_ROOT, reportPath);
      const results: RunResults = await readRunResults(path.join(path.dirname(absolute), 'results.json'));
      const provenance = results.provenance;
      expect(provenance, reportPath).toBeDefined();
      if (existsSync(path.join(PROJECT_ROOT, '.git'))) {
        expect(provenance?.git?.commit).toMatch(/^[0-9a-f]{40}$/);
        expect(typeof provenance?.git?.dirty).toBe('boolean');
      } else {
        expect(provenance?.git).toBeNull();
      }
      expect(provenance?.command.slice(1)).toEqual([
        path.join(PROJECT_ROOT, 'lab/cli/scenario.ts'),
        'all',
        '--runtime',
        TEST_RUNTIME,
        '--scenarios-dir',
        scenariosDir,
        '--reports-dir',
        reportsDir,
        '--junit',
        junitFile,
        '--summary-md',
        summaryFile,
      ]);
      expect(provenance?.versions.node).toMatch(/^v24\./);
      // Read from Toxiproxy's own API.
      expect(provenance?.versions.toxiproxy).toMatch(/^v?\d+\.\d+\.\d+/);
      expect(provenance?.versions.postgres).toBeTruthy();
      expect(provenance?.machine).toEqual({
        cpuModel: expect.any(String) as unknown as string,
        cpus: os.cpus().length,
        memoryBytes: os.totalmem(),
        os: `${os.platform()} ${os.release()} ${os.arch()}`,
      });
      expect(provenance?.runtime).toEqual({ name: TEST_RUNTIME, settings: results.runtime.details });
      expect(provenance?.seed).toMatch(/^[0-9a-f]{8}$/);
      expect(await readFile(absolute, 'utf8')).toContain('<section id="provenance">');
    }
  });

  it("escapes a scenario author's strings so that a real XML parser reads them back unchanged", async () => {
    const hostile = '<id> & "quoted" \'single\' ]]> \u0007bell';
    const results = await readRunResults(await firstResultsFile(path.join(workDir, 'reports')));
    results.scenario = { ...results.scenario, name: hostile };
    results.hypothesis = {
      held: false,
      claims: results.hypothesis.claims.map((each) => ({ ...each, id: hostile, held: false })),
    };
    const parsed = await parseXmlInBrowser(
      renderJUnit([{ results, reportPath: 'r&d/<x>.html' }], { hostname: 'h' }),
    );
    expect(parsed.error).toBeNull();
    const expected = hostile.replace('\u0007', '\uFFFD');
    expect(parsed.suites[0]?.attributes.name).toBe(expected);
    expect(
      parsed.suites[0]?.cases.map((testcase) => [testcase.name, testcase.classname, testcase.outcome]),
    ).toEqual(results.hypothesis.claims.map(() => [expected, `splitlab.${expected}`, 'failure']));
  });

  it('refuses a --junit path it cannot write with exit 2, before anything starts', async () => {
    const run = await runCli(
      ['partition', '--runtime', TEST_RUNTIME, '--junit', '/proc/nope/splitlab.xml'],
      {},
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('--junit /proc/nope/splitlab.xml cannot be written');
    expect(run.stderr).toContain('nothing was started');
    expect(run.stderr).not.toContain('runtime ...');
  });
});

/** A results.json the first test wrote (the second reuses a real run rather than running another). */
async function firstResultsFile(reportsDir: string): Promise<string> {
  const { readdir } = await import('node:fs/promises');
  const runs = (await readdir(reportsDir, { withFileTypes: true })).filter(
    (entry) => entry.isDirectory() && existsSync(path.join(reportsDir, entry.name, 'results.json')),
  );
  const [first] = runs;
  if (!first) throw new Error(`no run in ${reportsDir}: the first test must run before this one`);
  return path.join(reportsDir, first.name, 'results.json');
}
