/**
 * When one of the lab's own dependencies dies mid-run (toxiproxy-server or PostgreSQL killed with
 * SIGKILL on local, their containers `docker kill`ed on containers), `StartedLab.failed` aborts within
 * a second or two with DEPENDENCY_FAILED naming what died, and the teardown after it still completes
 * and leaves nothing behind.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { killAndWaitForFailure } from './support/dependency-death.ts';
import { labContainers, labNetworks } from './support/docker-footprint.ts';
import { startTestLab, TEST_RUNTIME } from './support/lab.ts';
import { listeningSockets } from './support/listening-sockets.ts';
import { descendantsOf, isAlive, labTempDirsOf } from './support/process-tree.ts';

const inContainers = TEST_RUNTIME === 'containers';

/**
 * Local: the process's exit is seen at once (SIGCHLD); measured here 10-18 ms from the kill to the abort
 * over 4 runs, on a machine busy with other test runs. Containers: Docker's `die` event; measured
 * 131-229 ms over 4 runs. The limits leave room for a busier machine and stay under the 2 s asked for.
 */
const NOTICE_WITHIN_MS = inContainers ? 1_500 : 1_000;

const dependencies = inContainers
  ? [
      {
        name: 'the Toxiproxy container',
        aim: () => dockerKill('toxiproxy'),
        message: /^the Toxiproxy container splitlab-\d+-[0-9a-f]+-toxiproxy died at [\dT:.Z-]+: /,
      },
      {
        name: 'the PostgreSQL container',
        aim: () => dockerKill('postgres'),
        message: /^the PostgreSQL container splitlab-\d+-[0-9a-f]+-postgres died at [\dT:.Z-]+: /,
      },
    ]
  : [
      {
        name: 'toxiproxy-server',
        aim: () => killChild(/toxiproxy-server /),
        message: /^toxiproxy-server \(pid \d+\) died at [\dT:.Z-]+: was killed by SIGKILL; /,
      },
      {
        name: "PostgreSQL's postmaster",
        aim: () => killChild(/bin\/postgres -D /),
        message: /^PostgreSQL \(postmaster pid \d+\) died at [\dT:.Z-]+: was killed by SIGKILL; /,
      },
    ];

describe(`a dependency of the lab dies (${TEST_RUNTIME} runtime)`, () => {
  for (const dependency of dependencies) {
    it(`notices ${dependency.name} dying within ${NOTICE_WITHIN_MS} ms, names it, and still tears down everything`, async () => {
      const lab = await startTestLab();
      await lab.startDeployment('split');
      const children = descendantsOf(process.pid).filter((child) => !child.command.includes('vitest'));
      const labPids = new Set([...children.map((child) => child.pid)]);
      const labPorts = listeningSockets()
        .filter((socket) => socket.owners.some((owner) => labPids.has(owner.pid)))
        .map((socket) => socket.port);

      // The teardown runs whatever the assertions below say: nothing may be left by a failing test.
      const death = await killAndWaitForFailure(lab, dependency.aim()).finally(() => lab.stop());
      console.log(
        `${TEST_RUNTIME}: ${dependency.name} killed, noticed after ${death.noticedAfterMs?.toFixed(1)} ms`,
      );
      expect(death.noticedAfterMs, 'failed never aborted').toBeDefined();
      expect(death.noticedAfterMs!).toBeLessThan(NOTICE_WITHIN_MS);
      expect(death.code).toBe('DEPENDENCY_FAILED');
      expect(death.message).toMatch(dependency.message);
      expect(death.message).toMatch(/; the run is invalid, not the system under test$/);
      expect(children.filter((child) => isAlive(child.pid))).toEqual([]);
      const stillListening = new Set(listeningSockets().map((socket) => socket.port));
      expect(labPorts.filter((port) => stillListening.has(port))).toEqual([]);
      expect(labTempDirsOf(process.pid)).toEqual([]);
      if (inContainers) {
        expect(labContainers(process.pid)).toEqual([]);
        expect(labNetworks(process.pid)).toEqual([]);
      }
    });
  }

  it('does not fire when the lab stops its dependencies on purpose', async () => {
    const lab = await startTestLab();
    await lab.startDeployment('monolith');
    await lab.stop();
    // The watchdog's polls run every 500 ms: give them two rounds to see the stopped tools.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(lab.failed.aborted).toBe(false);
  });
});

/** Finds the one child of this test process whose command line matches; returns its SIGKILL. */
function killChild(command: RegExp): () => void {
  const matches = descendantsOf(process.pid).filter((child) => command.test(child.command));
  expect(matches, `one process matching ${command}`).toHaveLength(1);
  return () => process.kill(matches[0]!.pid, 'SIGKILL');
}

/**
 * Finds the lab's container whose name ends with `-<suffix>`; returns its `docker kill`, run without
 * blocking this process: the lab under test lives in it, as it would live in the CLI.
 */
function dockerKill(suffix: string): () => Promise<void> {
  const name = labContainers(process.pid).find((container) => container.endsWith(`-${suffix}`));
  expect(name, `a lab container named *-${suffix}`).toBeDefined();
  return async () => void (await promisify(execFile)('docker', ['kill', name!]));
}
