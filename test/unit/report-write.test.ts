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
    expect(json).toContain('\n  "schemaVersion": 1,');
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
    expect(() => parseRunResults('{"schemaVersion": 2}', 'x.json')).toThrow(
      expect.objectContaining({ code: 'REPORT_SCHEMA_UNSUPPORTED' }),
    );
    const noClaims = { ...makeReportResults(), hypothesis: { held: true } };
    expect(() => parseRunResults(JSON.stringify(noClaims), 'x.json')).toThrow(/hypothesis should be/);
    await expect(readRunResults(join(reportsDir, 'missing.json'))).rejects.toMatchObject({
      code: 'REPORT_RESULTS_UNREADABLE',
    });
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
    expect(page).not.toMatch(/<script|<link|(src|href)="https?:/i);
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
