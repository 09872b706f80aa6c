import { randomBytes } from 'node:crypto';
import type { ContainerRuntimeClient } from 'testcontainers';
import type { LabLog } from '../runtime.ts';
import { isPidAlive } from '../child-process.ts';

/**
 * Every container the lab starts carries these labels, and its network's name starts with the prefix,
 * so the lab can find what it created without Ryuk: to remove it on the way out, and to reap what a run
 * that died (kill -9, power cut) left behind.
 */
export const LAB_LABEL = 'io.splitlab.lab';
export const RUN_LABEL = 'io.splitlab.run';
/** The pid of the lab process that owns the container: when it is gone, the container is a leftover. */
export const OWNER_PID_LABEL = 'io.splitlab.owner-pid';
/** Set by the lab's Dockerfiles; build containers of a failed `docker build` inherit it. */
export const IMAGE_LABEL = 'io.splitlab.image';
export const NETWORK_PREFIX = 'splitlab-';

export interface RunIdentity {
  runId: string;
  labels: Record<string, string>;
  networkName: string;
}

export function newRunIdentity(): RunIdentity {
  const runId = `${process.pid}-${randomBytes(3).toString('hex')}`;
  return {
    runId,
    labels: { [LAB_LABEL]: 'true', [RUN_LABEL]: runId, [OWNER_PID_LABEL]: String(process.pid) },
    networkName: `${NETWORK_PREFIX}${runId}`,
  };
}

/** The owner pid encoded in a network name `splitlab-<pid>-<hex>`, or undefined. */
export function ownerPidOfNetwork(name: string): number | undefined {
  const match = /^splitlab-(\d+)-[0-9a-f]+$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Removes containers and networks of lab runs whose process is gone, and containers left by failed
 * image builds. Runs of a lab process that is still alive (another terminal) are left alone.
 */
export async function reapLeftovers(client: ContainerRuntimeClient, log: LabLog): Promise<number> {
  const docker = client.container.dockerode;
  let reaped = 0;
  const containers = await docker.listContainers({ all: true });
  for (const info of containers) {
    const labels = info.Labels;
    const owner = labels[OWNER_PID_LABEL];
    const isLabContainer = labels[LAB_LABEL] === 'true';
    const isBuildLeftover = !isLabContainer && labels[IMAGE_LABEL] !== undefined && info.State !== 'running';
    if ((isLabContainer && !isPidAlive(Number(owner))) || isBuildLeftover) {
      await docker
        .getContainer(info.Id)
        .remove({ force: true, v: true })
        .then(() => (reaped += 1))
        .catch(() => undefined);
    }
  }
  const networks = await docker.listNetworks();
  for (const network of networks) {
    const owner = ownerPidOfNetwork(network.Name);
    if (owner !== undefined && !isPidAlive(owner)) {
      await docker
        .getNetwork(network.Id)
        .remove()
        .then(() => (reaped += 1))
        .catch(() => undefined);
    }
  }
  if (reaped > 0)
    log(`removed ${reaped} container(s)/network(s) left behind by an earlier lab run that died`);
  return reaped;
}
