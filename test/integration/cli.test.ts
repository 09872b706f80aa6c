/**
 * The CLI as a user meets it: exit codes, messages for bad input, and the report it writes.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import type { RunResults } from '../../lab/results.ts';
import { TEST_RUNTIME } from './support/lab.ts';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<CliRun> {
  const cli = spawn(
    path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node'),
    ['lab/cli/scenario.ts', ...args],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SCRYPT_N: '1024' },
    },
  );
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => cli.once('close', (code) => resolve({ code, stdout, stderr })));
}

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'splitlab-cli-test-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('cli', () => {
  it('lists the scenarios, one line each', async () => {
    const run = await runCli(['--list']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^partition\s+What happens to checkout/m);
  });

  it('prints help', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Exit codes');
  });

  it('names the known scenarios when given an unknown one, and exits 2', async () => {
    const run = await runCli(['partitoin']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown scenario "partitoin"');
    expect(run.stderr).toContain('partition');
  });

  it('refuses an unknown runtime with exit 2, naming the ones it knows', async () => {
    const run = await runCli(['partition', '--runtime', 'kubernetes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('use local (the default), containers or auto');
  });

  it('refuses a bad flag with exit 2', async () => {
    const run = await runCli(['partition', '--turbo']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown option --turbo');
  });

  it('refuses an unwritable --reports-dir with exit 2 in under 5 s, before anything starts', async () => {
    const started = performance.now();
    const run = await runCli(['partition', '--runtime', TEST_RUNTIME, '--reports-dir', '/proc/nope']);
    const elapsedMs = performance.now() - started;
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('--reports-dir /proc/nope is not writable');
    expect(run.stderr).toContain('nothing was started');
    expect(run.stderr).not.toContain('runtime ...');
    // Measured: 1.2-2.6 s with the machine's two cores fully loaded (load average 6), nearly all of it
    // Node starting and loading the scenarios; the issue asks for under 5 s.
    expect(elapsedMs).toBeLessThan(5000);
  });

  it('exits 1 and still writes the report when the hypothesis does not hold', async () => {
    const scenariosDir = path.join(workDir, 'scenarios');
    const reportsDir = path.join(workDir, 'reports');
    await import('node:fs/promises').then((fs) => fs.mkdir(scenariosDir));
    // A short monolith-only scenario whose claim cannot hold: healthy pay never fails.
    await writeFile(
      path.join(scenariosDir, 'impossible.ts'),
      `import { defineScenario } from ${JSON.stringify(path.join(PROJECT_ROOT, 'lab/scenario/define-scenario.ts'))};
export default defineScenario({
  name: 'impossible',
  title: 'Does a claim that cannot hold make the run exit 1?',
  claim: 'The exit code says whether the hypothesis held.',
  load: { signup: { ratePerSecond: 1 }, pay: { ratePerSecond: 10 }, checkout: { ratePerSecond: 1 } },
  timeline: [{ name: 'calm', durationS: 3, story: 'Nothing happens.' }],
  hypothesis: [{ id: 'pay-always-fails', says: 'impossible', deployment: 'monolith', route: 'pay', phase: 'calm', metric: 'successRate', atMost: 0 }],
  whatToLookAt: ['The verdict.'],
  variants: [{ name: 'monolith', deployment: 'monolith', settings: {} }],
});
`,
    );
    const run = await runCli([
      'impossible',
      '--runtime',
      TEST_RUNTIME,
      '--scenarios-dir',
      scenariosDir,
      '--reports-dir',
      reportsDir,
    ]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('FAILED pay-always-fails');
    const reportPath = /Report: (.+index\.html)/.exec(run.stdout)?.[1] ?? '';
    expect(reportPath.startsWith(reportsDir)).toBe(true);
    const results = JSON.parse(
      await readFile(path.join(path.dirname(reportPath), 'results.json'), 'utf8'),
    ) as RunResults;
    expect(results.hypothesis.held).toBe(false);
    // The run checked its own instruments: every request due was sent (1 + 10 + 1 per second for 3 s);
    // a busy machine may call the measurement degraded, but nothing made it invalid.
    expect(results.validity?.status).not.toBe('invalid');
    expect(results.deployments[0]?.loadHealth).toMatchObject([{ phase: 'calm', due: 36, sent: 36 }]);
    // The report says where it ran, and on containers with which images and quotas.
    expect(results.runtime.name).toBe(TEST_RUNTIME);
    if (TEST_RUNTIME === 'containers') {
      expect(results.runtime.details.servicesImage).toMatch(/^splitlab\/services:[0-9a-f]{16} /);
      expect(results.deployments[0]?.resources).toEqual({ monolith: '2 CPU, 1024 MiB' });
    }
    const pay = results.deployments[0]?.routes.find((route) => route.route === 'pay');
    // 10 requests/s for 3 s, measured: allow one request of scheduling slack either way.
    expect(pay?.phases[0]?.completed).toBeGreaterThanOrEqual(29);
    expect(pay?.phases[0]?.completed).toBeLessThanOrEqual(31);
    expect(await readFile(path.join(reportsDir, 'index.html'), 'utf8')).toContain('impossible');
  });
});
