/**
 * Predict, then run, as a user meets it: `npm run scenario -- <name> --predictions <file>` carries the
 * guesses into results.json, the report and the summary; a bad predictions file, or `--predict` without
 * a terminal, is refused before anything starts. And `--live`: the printed URL serves the run's state
 * while it runs and its report once written, then stays up until Ctrl-C.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import type { RunResults } from '../../lab/results.ts';
import { labTempDirsOf } from './support/process-tree.ts';

let workDir: string;
let scenariosDir: string;

/** A 5 s monolith-only scenario whose claims hold on a healthy lab, however loaded the machine. */
const SCENARIO = (definePath: string) => `import { defineScenario } from ${JSON.stringify(definePath)};
export default defineScenario({
  name: 'guess',
  title: 'Does a run carry its predictions to the report?',
  claim: 'A prediction made before the run is set beside what was measured.',
  load: { signup: { ratePerSecond: 1 }, pay: { ratePerSecond: 5 }, checkout: { ratePerSecond: 1 } },
  timeline: [{ name: 'calm', durationS: 5, story: 'Nothing happens.' }],
  hypothesis: [
    { id: 'pay-works', says: 'Healthy pay succeeds.', deployment: 'monolith', route: 'pay', phase: 'calm', metric: 'successRate', atLeast: 0.5 },
    { id: 'pay-answers', says: 'Healthy pay answers within 2 s.', deployment: 'monolith', route: 'pay', phase: 'calm', metric: 'latencyP50Ms', atMost: 2000 },
    { id: 'no-orphans', says: 'The monolith leaves no orphan users.', deployment: 'monolith', route: 'checkout', phase: 'calm', metric: 'audit:orphanUsers', atMost: 0 },
  ],
  whatToLookAt: ['The claims table.'],
  variants: [{ name: 'monolith', deployment: 'monolith', settings: {} }],
});
`;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
  elapsedMs: number;
}

function startCli(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(
    path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node'),
    ['lab/cli/scenario.ts', ...args, '--scenarios-dir', scenariosDir],
    { cwd: PROJECT_ROOT, env: { ...process.env, SCRYPT_N: '1024' } },
  );
}

async function runCli(args: string[]): Promise<CliRun> {
  const started = performance.now();
  const cli = startCli(args);
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => cli.once('close', resolve));
  return { code, stdout, stderr, pid: cli.pid ?? 0, elapsedMs: performance.now() - started };
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'splitlab-predictions-cli-test-'));
  scenariosDir = path.join(workDir, 'scenarios');
  await mkdir(scenariosDir);
  await writeFile(
    path.join(scenariosDir, 'guess.ts'),
    SCENARIO(path.join(PROJECT_ROOT, 'lab/scenario/define-scenario.ts')),
  );
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('--predictions', () => {
  it('carries the predictions into results.json, the report and the summary', async () => {
    const reportsDir = path.join(workDir, 'reports-predicted');
    const file = path.join(workDir, 'guesses.json');
    // pay-works: 80 % is within ≥ 50 %, and it holds: agreed. pay-answers: 5 s is outside ≤ 2 s, but it
    // holds: did not agree. no-orphans: not predicted.
    await writeFile(file, JSON.stringify({ 'pay-works': 0.8, 'pay-answers': 5000 }));
    const run = await runCli(['guess', '--predictions', file, '--reports-dir', reportsDir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'Predictions: 1 of 2 predictions within the tolerance; 1 of 2 agreed with the verdict.',
    );
    // Without a terminal the log is the plain lines it always was: no escapes of the progress block.
    expect(run.stderr).not.toContain('\x1b[');
    expect(run.stderr).not.toContain('▸');

    const reportPath = /Report: (.+index\.html)/.exec(run.stdout)?.[1] ?? '';
    const results = JSON.parse(
      await readFile(path.join(path.dirname(reportPath), 'results.json'), 'utf8'),
    ) as RunResults;
    expect(results.predictions).toEqual({
      source: 'file',
      file,
      values: { 'pay-works': 0.8, 'pay-answers': 5000 },
    });
    // The claims section only: a failed match must not print the 1 MB page.
    const page = await readFile(reportPath, 'utf8');
    const section = (/<section id="hypothesis">([\s\S]*?)<\/section>/.exec(page)?.[1] ?? '').replace(
      /\s+/g,
      ' ',
    );
    const row = (id: string) =>
      (new RegExp(`data-claim-id="${id}">(.*?)</tr>`).exec(section)?.[1] ?? '').replace(/<[^>]+>/g, ' ');
    expect(section).toMatch(/>Predicted<\/th><th class="num">Measured<\/th><th class="num">Tolerance<\/th>/);
    expect(row('pay-works')).toMatch(/80\.0 %.*≥ 50 %.*within the tolerance.*✓ agreed/);
    expect(row('pay-answers')).toMatch(/5 s .*≤ 2 s.*outside the tolerance.*✗ did not agree/);
    expect(row('no-orphans')).toContain('not predicted');
    expect(section).toContain('1 of 2 predictions within the tolerance; 1 of 2 agreed with the verdict.');
  });

  it.each([
    ['missing.json', null, /--predictions .*missing\.json: no such file; write your predictions there first/],
    ['not-json.json', '{ "pay-works": 0.8', /is not JSON .*; see docs\/cli\.md#predictions for the format/],
    [
      'unknown-claim.json',
      '{ "pay-work": 0.8 }',
      /"pay-work" is not a claim of scenario guess; its claims are: pay-works, pay-answers, no-orphans/,
    ],
    [
      'string.json',
      '{ "pay-works": "80%" }',
      /"pay-works" is "80%" \(a string\), not a number; write a JSON number/,
    ],
    ['percent.json', '{ "pay-works": 80 }', /successRate is a ratio from 0 to 1.*write 0\.8 for 80 %/],
  ])('refuses %s before anything starts, naming the fix', async (name, content, message) => {
    const reportsDir = path.join(workDir, `reports-${name}`);
    const file = path.join(workDir, name);
    if (content !== null) await writeFile(file, content);
    const run = await runCli(['guess', '--predictions', file, '--reports-dir', reportsDir]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('[USAGE]');
    // Nothing started: no runtime, no temp dir of its own, no report.
    expect(run.stderr).not.toContain('runtime ...');
    expect(labTempDirsOf(run.pid)).toEqual([]);
    expect((await readdir(reportsDir).catch(() => [])).filter((entry) => entry !== 'index.html')).toEqual([]);
    // Measured 1.1-3.6 s at a load average of 7.5 on the two cores: nearly all of it Node starting and
    // loading the scenario; a run that started the lab would take over 10 s.
    expect(run.elapsedMs).toBeLessThan(8000);
  });

  it('refuses --predict without a terminal, pointing at --predictions', async () => {
    const run = await runCli(['guess', '--predict', '--reports-dir', path.join(workDir, 'reports-tty')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--predict asks on the terminal, but stdin is not a terminal');
    expect(run.stderr).toContain('pass --predictions <file> instead');
    expect(run.stderr).not.toContain('runtime ...');
  });
});

describe('--live', () => {
  it('serves the run at the printed URL, then its report, and leaves at once on Ctrl-C', async () => {
    const reportsDir = path.join(workDir, 'reports-live');
    const cli = startCli(['guess', '--live', '--reports-dir', reportsDir]);
    let stdout = '';
    let stderr = '';
    const waitFor = (pattern: RegExp, stream: () => string) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stream());
          if (match) resolve(match);
        };
        cli.stdout.on('data', check);
        cli.stderr.on('data', check);
        cli.once('close', () => reject(new Error(`exited before ${pattern}: ${stderr}`)));
        check();
      });
    cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('close', resolve));

    const url = (await waitFor(/Live view: (http:\/\/\S+)/, () => stdout))[1] ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    await waitFor(/\[monolith\] t=0s calm/, () => stderr);
    const during = (await (await fetch(`${url}state`)).json()) as {
      run: { scenario: { name: string } } | null;
    };
    expect(during.run?.scenario.name).toBe('guess');

    await waitFor(/the live view stays up 30 s/, () => stderr);
    const reportPath = /Report: (.+index\.html)/.exec(stdout)?.[1] ?? '';
    const report = await fetch(`${url}report/`);
    expect(report.status).toBe(200);
    expect(await report.text()).toBe(await readFile(reportPath, 'utf8'));
    const after = (await (await fetch(`${url}state`)).json()) as {
      finished: { verdict: string | null; reportHref: string | null } | null;
    };
    expect(after.finished?.verdict).toBe('held');

    const interruptedAt = performance.now();
    cli.kill('SIGINT');
    const code = await exited;
    // Ctrl-C while lingering leaves at once and keeps the run's exit code. Measured: about 0.1 s.
    expect(performance.now() - interruptedAt).toBeLessThan(3000);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('SIGINT: closing the live view and leaving now');
    await expect(fetch(`${url}state`)).rejects.toThrow();
  });
});
