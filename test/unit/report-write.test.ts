import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRunResults, readRunResults } from '../../lab/report/read-results.ts';
import { renderRunReport } from '../../lab/report/render-run.ts';
import {
  collectRuns,
  renderRunReportFromFile,
  writeRunReport,
  writeRunsIndex,
} from '../../lab/report/write-report.ts';
import { makeReportResults } from './fixtures/report-results.ts';

let reportsDir: string;

beforeEach(async () => {
  reportsDir = await mkdtemp(join(tmpdir(), 'splitlab-report-'));
});

afterEach(async () => {
  await rm(reportsDir, { recursive: true, force: true });
});

describe('writeRunReport', () => {
  it('writes the page and pretty results.json into a new run folder', async () => {
    const results = makeReportResults();
    const runDir = join(reportsDir, 'nested', results.runId);
    const { htmlPath, jsonPath } = await writeRunReport(runDir, results);

    expect(htmlPath).toBe(join(runDir, 'index.html'));
    expect(jsonPath).toBe(join(runDir, 'results.json'));
    const json = await readFile(jsonPath, 'utf8');
    expect(json).toContain('\n  "schemaVersion": 2,');
    expect(JSON.parse(json)).toEqual(results);
    expect(await readFile(htmlPath, 'utf8')).toBe(renderRunReport(results));
  });

  it('re-renders an old run from its results.json to the same page', async () => {
    const results = makeReportResults();
    const { htmlPath, jsonPath } = await writeRunReport(join(reportsDir, 'old'), results);
    expect(await renderRunReportFromFile(jsonPath)).toBe(await readFile(htmlPath, 'utf8'));
  });
});

describe('reading results', () => {
  it('rejects files that are not results, with a stable code and the field at fault', async () => {
    expect(() => parseRunResults('{', 'x.json')).toThrow(
      expect.objectContaining({ code: 'REPORT_RESULTS_NOT_JSON' }),
    );
    expect(() => parseRunResults('{"schemaVersion": 3}', 'x.json')).toThrow(
      expect.objectContaining({
        code: 'REPORT_SCHEMA_UNSUPPORTED',
        message: 'x.json has results schema version 3; this renderer reads versions 1 and 2',
      }),
    );
    await expect(readRunResults(join(reportsDir, 'missing.json'))).rejects.toMatchObject({
      code: 'REPORT_RESULTS_UNREADABLE',
    });
  });

  it('names every field at fault, the first five of them', () => {
    const invalid = (value: unknown) => {
      try {
        parseRunResults(JSON.stringify(value), 'x.json');
      } catch (error) {
        expect(error).toMatchObject({ code: 'REPORT_RESULTS_INVALID' });
        return (error as Error).message;
      }
      throw new Error('parsed');
    };
    expect(invalid([])).toBe('x.json is not a splitlab results file: the top level should be an object');
    expect(invalid({ schemaVersion: 2 })).toMatch(
      /^x\.json is not a splitlab results file: runId should be a string; scenario should be an object; .* \(and \d+ more\)$/,
    );

    const results = makeReportResults();
    const split = results.deployments[1]!;
    const broken = {
      ...results,
      hypothesis: { held: true },
      deployments: [results.deployments[0], { ...split, topology: 'mesh', audit: 'none' }],
    };
    expect(invalid(broken)).toBe(
      'x.json is not a splitlab results file: deployments[1].topology should be one of "monolith", "modular", "split"; ' +
        'deployments[1].audit should be an object; hypothesis.claims should be an array',
    );
    const claim = results.hypothesis.claims[0]!;
    const badClaim = { ...results, hypothesis: { held: true, claims: [{ ...claim, unit: 'percent' }] } };
    expect(invalid(badClaim)).toMatch(/hypothesis\.claims\[0\]\.unit should be one of "ratio", "factor"/);
  });

  /** The fixture as version 1 wrote it, its claims all the latency claim with these metric and expected texts. */
  function version1(claims: [metric: string, expected: string][]) {
    // Version 1 predates the lab's checks of its own validity: no evidence, no load health, no validity.
    const results = makeReportResults();
    delete results.validity;
    const { id, description, deployment, route, phase, observed, held } = results.hypothesis.claims[1]!;
    return {
      ...results,
      deployments: results.deployments.map(
        ({ faultEvidence: _evidence, loadHealth: _health, ...deployment }) => deployment,
      ),
      schemaVersion: 1,
      hypothesis: {
        held: false,
        claims: claims.map(([metric, expected]) => ({
          ...{ id, description, deployment, route, phase },
          ...{ metric, expected, observed, held },
        })),
      },
    };
  }

  it('reads a version 1 file, taking the comparison and tolerance out of its text', () => {
    const v1 = version1([
      ['latencyP99Ms', '<= 500'],
      ['successRate', '>= 0.99'],
      ['latencyP99Ms ratio to baseline', '>= 2'],
      ['latencyP50Ms minus monolith', '-5 .. 20'],
      ['latencyP99Ms ratio to monolith recovery', '4500 .. 6500'],
    ]);
    const read = parseRunResults(JSON.stringify(v1), 'old.json');
    const current = makeReportResults();
    expect(read.schemaVersion).toBe(2);
    expect(read.deployments).toEqual(v1.deployments);
    // Whether an old run was valid is unknown: no validity, and the page shows no banner for it.
    expect(read.validity).toBeUndefined();
    expect(renderRunReport(read)).not.toContain('data-validity');
    // Field for field and in the same order as a version 2 run writes it.
    expect(JSON.stringify(read.hypothesis.claims[0])).toBe(JSON.stringify(current.hypothesis.claims[1]));
    expect(
      read.hypothesis.claims.map(({ metric, relativeTo, unit, atLeast, atMost }) => ({
        metric,
        relativeTo,
        unit,
        atLeast,
        atMost,
      })),
    ).toEqual([
      { metric: 'latencyP99Ms', unit: 'ms', atMost: 500 },
      { metric: 'successRate', unit: 'ratio', atLeast: 0.99 },
      { metric: 'latencyP99Ms', relativeTo: { phase: 'baseline' }, unit: 'factor', atLeast: 2 },
      {
        metric: 'latencyP50Ms',
        relativeTo: { deployment: 'monolith', by: 'difference' },
        unit: 'ms',
        atLeast: -5,
        atMost: 20,
      },
      {
        metric: 'latencyP99Ms',
        relativeTo: { deployment: 'monolith', phase: 'recovery' },
        unit: 'factor',
        atLeast: 4500,
        atMost: 6500,
      },
    ]);
    expect(renderRunReport(read)).toContain('-5 ms – +20 ms');
  });

  it('names the claim of a version 1 file whose text it cannot read', () => {
    const v1 = version1([
      ['latencyP99Ms', '<= 500'],
      ['speed ratio to baseline', 'about two seconds'],
    ]);
    expect(() => parseRunResults(JSON.stringify(v1), 'old.json')).toThrow(
      expect.objectContaining({
        code: 'REPORT_RESULTS_INVALID',
        message: expect.stringMatching(
          /^old\.json is not a splitlab results file: hypothesis\.claims\[1\]\.metric should name a claim metric \("speed" is not a known metric; .*\); hypothesis\.claims\[1\]\.expected should be like ">= 0\.95", "<= 500" or "4500 \.\. 6500" \(got "about two seconds"\)$/,
        ),
      }),
    );
    const empty = { ...v1, hypothesis: { held: true, claims: [{}] } };
    expect(() => parseRunResults(JSON.stringify(empty), 'old.json')).toThrow(
      /: hypothesis\.claims\[0\]\.id should be a string; .*\.phase should be a string \(and 4 more\)$/,
    );
  });
});

describe('writeRunsIndex', () => {
  async function addRun(dir: string, startedAt: string, held: boolean, title = `Run ${dir}?`) {
    const results = makeReportResults({
      runId: dir,
      startedAt,
      scenario: { name: `scenario-${dir}`, title, claim: 'c', whatToLookAt: [] },
    });
    results.hypothesis.held = held;
    await writeRunReport(join(reportsDir, dir), results);
  }

  it('lists runs newest first, each linking to its page', async () => {
    await addRun('b-middle', '2026-11-20T10:00:00.000Z', true);
    await addRun('a-newest', '2026-11-25T10:00:00.000Z', false);
    await addRun('c-oldest', '2026-11-01T10:00:00.000Z', true);

    const indexPath = await writeRunsIndex(reportsDir);
    expect(indexPath).toBe(join(reportsDir, 'index.html'));
    const page = await readFile(indexPath, 'utf8');
    const order = [...page.matchAll(/<tr data-run-dir="([^"]+)">/g)].map((m) => m[1]);
    expect(order).toEqual(['a-newest', 'b-middle', 'c-oldest']);
    expect(page).toContain('<a href="a-newest/index.html">Run a-newest?</a>');
    expect(page).toContain('scenario-c-oldest');
    expect(page).toContain('2026-11-25 10:00:00 UTC');
    expect(page).toMatch(/data-run-dir="a-newest">[\s\S]*?did not hold[\s\S]*?<\/tr>/);
    expect(page).toMatch(/data-run-dir="b-middle">[\s\S]*?✓ held[\s\S]*?<\/tr>/);
    // Inline scripts draw the trends; nothing is loaded from anywhere.
    expect(page).not.toMatch(/<link|(src|href)="https?:/i);
  });

  it('skips a broken results.json with a note instead of failing', async () => {
    await addRun('good', '2026-11-25T10:00:00.000Z', true);
    await mkdir(join(reportsDir, 'broken'));
    await writeFile(join(reportsDir, 'broken', 'results.json'), '{"schemaVersion": 1, "runId": ');
    await mkdir(join(reportsDir, 'not-results'));
    await writeFile(join(reportsDir, 'not-results', 'results.json'), '{"hello": "world"}');
    await mkdir(join(reportsDir, 'in-progress'));
    await writeFile(join(reportsDir, 'stray-file.txt'), 'not a run');

    const page = await readFile(await writeRunsIndex(reportsDir), 'utf8');
    expect([...page.matchAll(/<tr data-run-dir="([^"]+)">/g)].map((m) => m[1])).toEqual(['good']);
    expect(page).toContain('Skipped 2 folders');
    expect(page).toMatch(/<code>broken<\/code>: results.json is not valid JSON/);
    expect(page).toMatch(/<code>not-results<\/code>: results.json is not a splitlab results file/);
    expect(page).not.toContain('in-progress');
    expect(page).not.toContain(reportsDir);
  });

  it('escapes titles and folder names', async () => {
    await addRun('x&y', '2026-11-25T10:00:00.000Z', true, '<script>alert(1)</script>?');
    const page = await readFile(await writeRunsIndex(reportsDir), 'utf8');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;?');
    expect(page).toContain('href="x%26y/index.html"');
    expect(page).not.toContain('<script>');
  });

  it('writes an empty index for a reports folder that does not exist yet', async () => {
    const fresh = join(reportsDir, 'fresh');
    expect(await collectRuns(fresh)).toEqual({ runs: [], problems: [] });
    expect(await readFile(await writeRunsIndex(fresh), 'utf8')).toContain('No runs yet');
  });
});
