/**
 * The whole path as a user meets it: `npm run scenario` on a short split scenario, the lab's own
 * Toxiproxy killed mid-run (the process on local, the container on containers). The run must end with
 * exit code 3, a report marked invalid that names what died, the interrupted deployment marked
 * partial, the next deployment never started, and nothing of the lab left behind.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import type { RunResults } from '../../lab/results.ts';
import { labContainers, labNetworks } from './support/docker-footprint.ts';
import { TEST_RUNTIME } from './support/lab.ts';
import { descendantsOf, isAlive, labTempDirsOf } from './support/process-tree.ts';

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'splitlab-dependency-cli-test-'));
  await mkdir(path.join(workDir, 'scenarios'));
  // Split first, so the run dies in the first column and the monolith column is never started.
  await writeFile(
    path.join(workDir, 'scenarios', 'short.ts'),
    `import { defineScenario } from ${JSON.stringify(path.join(PROJECT_ROOT, 'lab/scenario/define-scenario.ts'))};
export default defineScenario({
  name: 'short',
  title: 'Does a run whose Toxiproxy dies end invalid?',
  claim: 'The lab never blames the system under test for its own failure.',
  load: { signup: { ratePerSecond: 1 }, pay: { ratePerSecond: 10 }, checkout: { ratePerSecond: 1 } },
  timeline: [{ name: 'calm', durationS: 20, story: 'Nothing happens, until the lab itself breaks.' }],
  hypothesis: [{ id: 'pay-works', says: 'pay works', deployment: 'split', route: 'pay', phase: 'calm', metric: 'successRate', atLeast: 0.9 }],
  whatToLookAt: ['The validity banner.'],
  variants: [{ name: 'split', deployment: 'split', settings: {} }, { name: 'monolith', deployment: 'monolith', settings: {} }],
});
`,
  );
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe(`a run whose Toxiproxy dies (${TEST_RUNTIME} runtime)`, () => {
  it('exits 3 with a partial report marked invalid that names what died, and leaves nothing', async () => {
    const reportsDir = path.join(workDir, 'reports');
    const cli = spawn(
      path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node'),
      [
        'lab/cli/scenario.ts',
        'short',
        '--runtime',
        TEST_RUNTIME,
        '--scenarios-dir',
        path.join(workDir, 'scenarios'),
        '--reports-dir',
        reportsDir,
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, SCRYPT_N: '1024' } },
    );
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const calmStarted = new Promise<void>((resolve) =>
      cli.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/\[split\] t=0s calm/.test(stderr)) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => cli.once('close', resolve));
    await Promise.race([calmStarted, exited]);
    // Two seconds into the timeline: load is flowing through the proxies.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const children = descendantsOf(cli.pid!);
    if (TEST_RUNTIME === 'containers') {
      const toxiproxy = labContainers(cli.pid).find((name) => name.endsWith('-toxiproxy'));
      expect(toxiproxy, stderr).toBeDefined();
      await promisify(execFile)('docker', ['kill', toxiproxy!]);
    } else {
      const toxiproxy = children.find((child) => /toxiproxy-server /.test(child.command));
      expect(toxiproxy, stderr).toBeDefined();
      process.kill(toxiproxy!.pid, 'SIGKILL');
    }
    const code = await exited;

    expect(code, stderr).toBe(3);
    expect(stderr).toMatch(/Toxiproxy|toxiproxy-server/);
    expect(stdout).toMatch(/INVALID/);
    const reportPath = /Report: (.+index\.html)/.exec(stdout)?.[1] ?? '';
    expect(reportPath.startsWith(reportsDir), stdout).toBe(true);
    const results = JSON.parse(
      await readFile(path.join(path.dirname(reportPath), 'results.json'), 'utf8'),
    ) as RunResults;
    expect(results.validity?.status).toBe('invalid');
    const problem = results.validity?.problems.find((p) => p.kind === 'dependency-failed');
    expect(problem?.message).toMatch(/Toxiproxy|toxiproxy-server/);
    expect(problem?.message).toMatch(/not the system under test/);
    // The split column stopped early; the monolith column was never started.
    expect(results.deployments.map((deployment) => deployment.deployment)).toEqual(['split']);
    expect(results.deployments[0]?.partial).toBe(true);
    const page = await readFile(reportPath, 'utf8');
    expect(page).toMatch(/invalid/i);

    // Nothing of the run is left: processes, temp dirs, containers, networks.
    expect(children.filter((child) => isAlive(child.pid))).toEqual([]);
    expect(labTempDirsOf(cli.pid!)).toEqual([]);
    if (TEST_RUNTIME === 'containers') {
      expect(labContainers(cli.pid)).toEqual([]);
      expect(labNetworks(cli.pid)).toEqual([]);
    }
  });
});
