/**
 * What only the containers runtime has: quotas on each service container, crash as a real container
 * kill and restart as a start, its offline images, and the reaping of what a dead run left behind.
 * The runtime-independent behaviour runs from test/integration with LAB_RUNTIME=containers.
 */
import { spawnSync } from 'node:child_process';
import type { ContainerRuntimeClient } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFault } from '../../lab/runtime/apply-fault.ts';
import { containersRuntime } from '../../lab/runtime/containers/containers-runtime.ts';
import { connectDocker } from '../../lab/runtime/containers/docker.ts';
import { resolveLabImages } from '../../lab/runtime/containers/resolve-images.ts';
import { LAB_LABEL, OWNER_PID_LABEL, reapLeftovers } from '../../lab/runtime/containers/labels.ts';
import { crash } from '../../lab/vocabulary/faults.ts';
import type { StartedDeployment, StartedLab } from '../../lab/runtime/runtime.ts';
import { labContainers, labNetworks } from '../integration/support/docker-footprint.ts';
import { checkoutBody, payBody, post, startTestLab } from '../integration/support/lab.ts';

let client: ContainerRuntimeClient;
let lab: StartedLab;
let split: StartedDeployment;

beforeAll(async () => {
  client = await connectDocker();
  lab = await startTestLab();
  split = await lab.startDeployment('split', { quotas: { 'payment-service': { cpu: 0.5, memoryMiB: 256 } } });
});

afterAll(async () => {
  await lab?.stop();
});

async function inspectService(service: string) {
  const [info] = await client.container.dockerode.listContainers({
    all: true,
    filters: { label: [`${LAB_LABEL}=true`, `io.splitlab.service=${service}`] },
  });
  if (!info) throw new Error(`no container for ${service}`);
  return await client.container.dockerode.getContainer(info.Id).inspect();
}

describe('containers runtime', () => {
  it('gives each service container its CPU and memory quota (defaults, and a scenario override)', async () => {
    const payment = await inspectService('payment-service');
    expect(payment.HostConfig.NanoCpus).toBe(0.5e9);
    expect(payment.HostConfig.Memory).toBe(256 * 1024 * 1024);
    const signup = await inspectService('signup-service');
    expect(signup.HostConfig.NanoCpus).toBe(1e9);
    expect(signup.HostConfig.Memory).toBe(512 * 1024 * 1024);
    expect(split.resources).toEqual({
      'payment-service': '0.5 CPU, 256 MiB',
      'signup-service': '1 CPU, 512 MiB',
    });
    // The services run as a non-root user from the services image.
    expect(signup.Config.User).toBe('1000:1000');
  });

  it('crash kills the container (exit 137); checkout fails fast with a reset; restart starts it again', async () => {
    const before = await inspectService('signup-service');
    const restart = await applyFault(split, crash('signup-service'));
    try {
      const killed = await inspectService('signup-service');
      expect(killed.State.Running).toBe(false);
      expect(killed.State.ExitCode).toBe(137);
      const request = checkoutBody();
      const failed = await post(split.routeUrl('checkout'), request.body, request.headers);
      expect(failed.status).toBeNull();
      expect(failed.errorCode).toMatch(/ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET|other side closed/);
      expect(failed.elapsedMs).toBeLessThan(1000);
      // payment-service is another container: untouched.
      const pay = payBody();
      expect((await post(split.routeUrl('pay'), pay.body, pay.headers)).status).toBe(201);
    } finally {
      await restart();
    }
    const again = await inspectService('signup-service');
    expect(again.Id).toBe(before.Id);
    expect(again.State.Running).toBe(true);
    const request = checkoutBody();
    expect((await post(split.routeUrl('checkout'), request.body, request.headers)).status).toBe(201);
    // Same host port after the restart: the metrics scraper keeps its URL.
    const metrics = split.services.find((service) => service.name === 'signup-service');
    expect((await fetch(metrics?.metricsUrl ?? '')).status).toBe(200);
  });

  it('reuses images whose inputs did not change (content-hash tags): no build on the second call', async () => {
    const lines: string[] = [];
    const images = await resolveLabImages(client, { log: (line) => lines.push(line) });
    expect(lines.filter((line) => line.startsWith('building'))).toEqual([]);
    expect(images.services.name).toMatch(/^splitlab\/services:[0-9a-f]{16}$/);
    for (const image of Object.values(images)) expect(image.sizeBytes).toBeGreaterThan(1_000_000);
  });
});

describe('a start that fails', () => {
  it('names what did not start and removes every container and network it created', async () => {
    const containersBefore = labContainers();
    const networksBefore = labNetworks();
    // 50 ms is too short for PostgreSQL's health check: the start fails halfway.
    await expect(containersRuntime({ startTimeoutMs: 50 }).start({ log: () => undefined })).rejects.toThrow(
      /container did not start/,
    );
    expect(labContainers()).toEqual(containersBefore);
    expect(labNetworks()).toEqual(networksBefore);
  });
});

describe('leftovers of a run that died', () => {
  it('are reaped on the next start: containers and networks whose owner process is gone', async () => {
    // A pid that certainly belonged to a process that has exited.
    const deadPid = spawnSync('true').pid ?? 0;
    const docker = client.container.dockerode;
    const images = await resolveLabImages(client, { log: () => undefined });
    const network = await docker.createNetwork({ Name: `splitlab-${deadPid}-dead01` });
    const orphan = await docker.createContainer({
      Image: images.toxiproxy.name,
      name: `splitlab-${deadPid}-dead01-toxiproxy`,
      Labels: { [LAB_LABEL]: 'true', [OWNER_PID_LABEL]: String(deadPid) },
      HostConfig: { NetworkMode: `splitlab-${deadPid}-dead01` },
    });
    await orphan.start();
    expect(labContainers()).toContain(`splitlab-${deadPid}-dead01-toxiproxy`);

    const reaped = await reapLeftovers(client, () => undefined);

    expect(reaped).toBe(2);
    expect(labContainers()).not.toContain(`splitlab-${deadPid}-dead01-toxiproxy`);
    await expect(network.inspect()).rejects.toThrow();
    // The running lab of this test file belongs to a live process: untouched.
    expect((await inspectService('payment-service')).State.Running).toBe(true);
  });
});
