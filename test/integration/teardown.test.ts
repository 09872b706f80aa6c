/**
 * The lab cleans up after itself: after a stop, and after Ctrl-C in the middle of a scenario run, nothing
 * it started remains: no toxiproxy-server, postgres or service process, no listening port, no temp dir,
 * and on the containers runtime no container and no network with the lab's label.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import { labContainers, labNetworks } from './support/docker-footprint.ts';
import { descendantsOf, isAlive, listeningPorts } from './support/process-tree.ts';
import { startTestLab, TEST_RUNTIME } from './support/lab.ts';

const labTempDirs = (): string[] => readdirSync(os.tmpdir()).filter((entry) => entry.startsWith('splitlab-'));
const inContainers = TEST_RUNTIME === 'containers';

describe(`teardown (${TEST_RUNTIME} runtime)`, () => {
  it('stops everything it started and frees every port', async () => {
    const portsBefore = listeningPorts();
    const tempDirsBefore = labTempDirs();
    const lab = await startTestLab();
    await lab.startDeployment('monolith');
    await lab.startDeployment('split');
    const children = descendantsOf(process.pid).filter((child) => !child.command.includes('vitest'));
    const newPorts = [...listeningPorts()].filter((port) => !portsBefore.has(port));
    if (inContainers) {
      const containers = labContainers().join('\n');
      for (const name of ['toxiproxy', 'postgres', 'monolith', 'signup-service', 'payment-service']) {
        expect(containers).toContain(name);
      }
      expect(labNetworks()).toHaveLength(1);
      // Mapped ports of Toxiproxy (API + 32 proxy ports), PostgreSQL and 3 services.
      expect(newPorts.length).toBeGreaterThanOrEqual(37);
    } else {
      const names = children.map((child) => child.command).join('\n');
      expect(names).toContain('toxiproxy-server');
      expect(names).toContain('postgres');
      expect(names).toContain('services/signup-service.ts');
      // toxiproxy API + postgres + 3 services + 7 proxies at the very least.
      expect(newPorts.length).toBeGreaterThanOrEqual(12);
    }

    await lab.stop();
    await lab.stop(); // safe twice

    expect(children.filter((child) => isAlive(child.pid))).toEqual([]);
    const stillListening = newPorts.filter((port) => listeningPorts().has(port));
    expect(stillListening).toEqual([]);
    expect(labTempDirs()).toEqual(tempDirsBefore);
    if (inContainers) {
      expect(labContainers()).toEqual([]);
      expect(labNetworks()).toEqual([]);
    }
  });

  it('tears everything down when a scenario run gets SIGINT', async () => {
    const run = await startPartitionRun();
    run.cli.kill('SIGINT');
    expect(await run.exited, run.output()).toBe(130);
    run.expectNothingLeft();
  });

  it('tears everything down when whoever reads its output goes away (`... | head`)', async () => {
    const run = await startPartitionRun();
    // The reader closes the pipes: the next log line fails with EPIPE.
    run.cli.stdout.destroy();
    run.cli.stderr.destroy();
    expect(await run.exited).toBe(130);
    run.expectNothingLeft();
  });
});

/** Starts `npm run scenario -- partition` on the test runtime and waits until its load is running. */
async function startPartitionRun() {
  const portsBefore = listeningPorts();
  const tempDirsBefore = labTempDirs();
  const cli = spawn(
    path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node'),
    [
      'lab/cli/scenario.ts',
      'partition',
      '--runtime',
      TEST_RUNTIME,
      '--reports-dir',
      path.join(PROJECT_ROOT, 'reports', '.test-interrupted'),
    ],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SCRYPT_N: '1024' } },
  );
  let output = '';
  const sawLoad = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('[monolith] t=0s baseline')) resolve();
    };
    cli.stdout.on('data', onData);
    cli.stderr.on('data', onData);
  });
  const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
  await Promise.race([sawLoad, exited]);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const children = descendantsOf(cli.pid ?? -1);
  if (inContainers) expect(labContainers().join('\n')).toContain('monolith');
  else expect(children.map((child) => child.command).join('\n')).toContain('services/monolith.ts');
  const newPorts = [...listeningPorts()].filter((port) => !portsBefore.has(port));
  return {
    cli,
    exited,
    output: () => output,
    expectNothingLeft: (): void => {
      expect(children.filter((child) => isAlive(child.pid))).toEqual([]);
      expect(newPorts.filter((port) => listeningPorts().has(port))).toEqual([]);
      expect(labTempDirs()).toEqual(tempDirsBefore);
      if (inContainers) {
        expect(labContainers()).toEqual([]);
        expect(labNetworks()).toEqual([]);
      }
    },
  };
}
