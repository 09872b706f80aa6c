/**
 * The lab cleans up after itself: after a stop, after Ctrl-C in the middle of a scenario run, and after
 * `kill -9` of the CLI (the next run removes what is left, and says so), nothing it started remains: no
 * toxiproxy-server, postgres or service process, no listening port, no temp dir, and on the containers
 * runtime no container and no network with the lab's label. While it runs, it listens on loopback only.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import { labContainers, labNetworkAddresses, labNetworks } from './support/docker-footprint.ts';
import { isLoopback, labSockets } from './support/listening-sockets.ts';
import { descendantsOf, isAlive, labTempDirsOf, listeningPorts } from './support/process-tree.ts';
import { startTestLab, TEST_RUNTIME } from './support/lab.ts';
import { startCli, type RunningCli } from './support/running-cli.ts';

const inContainers = TEST_RUNTIME === 'containers';

describe(`teardown (${TEST_RUNTIME} runtime)`, () => {
  it('stops everything it started and frees every port', async () => {
    const lab = await startTestLab();
    await lab.startDeployment('monolith');
    await lab.startDeployment('split');
    const children = descendantsOf(process.pid).filter((child) => !child.command.includes('vitest'));
    const newPorts = labPorts(process.pid);
    if (inContainers) {
      const containers = labContainers().join('\n');
      for (const name of ['toxiproxy', 'postgres', 'monolith', 'signup-service', 'payment-service']) {
        expect(containers).toContain(name);
      }
      expect(labNetworks(process.pid)).toHaveLength(1);
      // Published ports of Toxiproxy (API + 3 edge links), PostgreSQL and 3 services.
      expect(newPorts.length).toBeGreaterThanOrEqual(8);
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
    expect(labTempDirsOf(process.pid)).toEqual([]);
    if (inContainers) {
      expect(labContainers(process.pid)).toEqual([]);
      expect(labNetworks(process.pid)).toEqual([]);
    }
  });

  it(`listens on nothing but loopback${inContainers ? " and the lab network's gateway" : ''}`, async () => {
    const lab = await startTestLab();
    try {
      await lab.startDeployment('monolith');
      await lab.startDeployment('split');
      // The lab's own sockets: this process (the DNS server) and its children; on containers also the
      // docker-proxy processes that publish its containers' ports.
      const labPids = new Set([process.pid, ...descendantsOf(process.pid).map((child) => child.pid)]);
      const network = inContainers ? labNetworkAddresses(process.pid) : { gateways: [], containers: [] };
      const sockets = labSockets(labPids, network.containers);
      // local: Toxiproxy's API and 7 links, PostgreSQL, 3 services, the DNS server; containers: 4
      // published Toxiproxy ports, PostgreSQL's, 3 services', the DNS server.
      expect(sockets.length).toBeGreaterThanOrEqual(inContainers ? 9 : 13);
      const exposed = sockets
        .filter((socket) => !isLoopback(socket.address) && !network.gateways.includes(socket.address))
        .map(
          (socket) =>
            `${socket.protocol} ${socket.address}:${socket.port} (${socket.owners.map((owner) => owner.name).join(', ')})`,
        );
      expect(exposed).toEqual([]);
    } finally {
      await lab.stop();
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

  it('after kill -9 of the CLI, its children die with it, and the next run removes what is left and says so', async () => {
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'kill9-test-'));
    try {
      const scenariosDir = await writeKillTestScenarios(workDir);
      const cliArgs = [
        '--runtime',
        TEST_RUNTIME,
        '--scenarios-dir',
        scenariosDir,
        '--reports-dir',
        path.join(workDir, 'reports'),
      ];
      const first = startScenarioCli(['long-calm', ...cliArgs]);
      await first.sawOutput('[split] t=0s calm');
      const firstPid = first.cli.pid ?? -1;
      const children = descendantsOf(firstPid);
      const ports = labPorts(firstPid);
      if (inContainers) expect(labContainers(firstPid).join('\n')).toContain('signup-service');
      else
        expect(children.map((child) => child.command).join('\n')).toMatch(
          /toxiproxy-server[\s\S]*bin\/postgres/,
        );

      const killedAt = performance.now();
      first.cli.kill('SIGKILL');
      await first.exited;
      if (!inContainers) {
        // The lifeline: every child dies with the CLI, before any other lab starts. Measured here:
        // 90 and 113 ms (PostgreSQL's immediate shutdown is the slowest); the watchdog's grace is 2 s.
        while (children.some((child) => isAlive(child.pid)) && performance.now() - killedAt < 5_000) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        console.log(
          `local: the children of a kill -9'd CLI were gone after ${Math.round(performance.now() - killedAt)} ms`,
        );
        expect(children.filter((child) => isAlive(child.pid))).toEqual([]);
        // Its PostgreSQL data directory is left for the next start to remove.
        expect(labTempDirsOf(firstPid)).toHaveLength(1);
      } else {
        expect(labContainers(firstPid).length).toBeGreaterThan(0);
      }

      const second = startScenarioCli(['short-calm', ...cliArgs]);
      expect(await second.exited, second.output()).toBe(0);
      if (inContainers) {
        expect(second.output()).toMatch(
          /removed \d+ container\(s\)\/network\(s\) left behind by an earlier lab run that died/,
        );
      } else {
        expect(second.output()).toMatch(
          new RegExp(
            `removed what lab runs that died \\(kill -9, crash\\) left behind: [^\\n]*splitlab-pg-${firstPid}-\\w+ \\(PostgreSQL data; its server had stopped\\)`,
          ),
        );
      }
      expect(children.filter((child) => isAlive(child.pid))).toEqual([]);
      const listening = new Set(listeningPorts());
      expect(ports.filter((port) => listening.has(port))).toEqual([]);
      expect(labTempDirsOf(firstPid, second.cli.pid ?? -1)).toEqual([]);
      if (inContainers) {
        expect(labContainers(firstPid)).toEqual([]);
        expect(labNetworks(firstPid)).toEqual([]);
      }
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });
});

/** The ports the lab run by `ownerPid` listens on (its processes', and its containers' published ports). */
function labPorts(ownerPid: number): number[] {
  const pids = new Set([ownerPid, ...descendantsOf(ownerPid).map((child) => child.pid)]);
  const containers = inContainers ? labNetworkAddresses(ownerPid).containers : [];
  return labSockets(pids, containers).map((socket) => socket.port);
}

/**
 * Two tiny scenarios: `long-calm` (split, 60 s of calm: long enough to be killed mid-run) and
 * `short-calm` (the monolith, 2 s, a claim that holds).
 */
async function writeKillTestScenarios(workDir: string): Promise<string> {
  const scenariosDir = path.join(workDir, 'scenarios');
  await mkdir(scenariosDir);
  const defineScenario = JSON.stringify(path.join(PROJECT_ROOT, 'lab/scenario/define-scenario.ts'));
  const scenario = (
    name: string,
    deployment: string,
    durationS: number,
  ): string => `import { defineScenario } from ${defineScenario};
export default defineScenario({
  name: '${name}',
  title: 'Does the lab leave nothing behind when it is killed?',
  claim: 'The lab cleans up after itself, even after kill -9.',
  load: { signup: { ratePerSecond: 1 }, pay: { ratePerSecond: 2 }, checkout: { ratePerSecond: 1 } },
  timeline: [{ name: 'calm', durationS: ${durationS}, story: 'Nothing happens.' }],
  hypothesis: [{ id: 'pay-works', says: 'pay works', deployment: '${deployment}', route: 'pay', phase: 'calm', metric: 'successRate', atLeast: 0 }],
  whatToLookAt: ['Nothing.'],
  variants: [{ name: '${deployment}', deployment: '${deployment}', settings: {} }],
});
`;
  await writeFile(path.join(scenariosDir, 'long-calm.ts'), scenario('long-calm', 'split', 60));
  await writeFile(path.join(scenariosDir, 'short-calm.ts'), scenario('short-calm', 'monolith', 2));
  return scenariosDir;
}

/** `node lab/cli/scenario.ts <args>` with the cheap scrypt cost, its output collected. */
function startScenarioCli(args: string[]): RunningCli {
  return startCli('lab/cli/scenario.ts', args);
}

/** Starts `npm run scenario -- partition` on the test runtime and waits until its load is running. */
async function startPartitionRun() {
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
  if (inContainers) expect(labContainers(cli.pid).join('\n')).toContain('monolith');
  else expect(children.map((child) => child.command).join('\n')).toContain('services/monolith.ts');
  const newPorts = labPorts(cli.pid ?? -1);
  return {
    cli,
    exited,
    output: () => output,
    expectNothingLeft: (): void => {
      expect(children.filter((child) => isAlive(child.pid))).toEqual([]);
      expect(newPorts.filter((port) => listeningPorts().has(port))).toEqual([]);
      expect(labTempDirsOf(cli.pid ?? -1)).toEqual([]);
      if (inContainers) {
        expect(labContainers(cli.pid)).toEqual([]);
        expect(labNetworks(cli.pid)).toEqual([]);
      }
    },
  };
}
