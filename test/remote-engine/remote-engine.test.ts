/**
 * A run against a Docker engine on another machine: in CI, the engine `.ci/remote-engine up` starts in
 * its own network namespace, reachable only over a virtual link (this project sets DOCKER_HOST to it).
 * The shipped partition scenario (its monolith and split columns, its own timeline: the deadline claims
 * need the whole partition phase) must hold there; the kernel's packet counters must show
 * that its traffic crossed the link and that none of it went through the lab machine's loopback to a
 * port the engine published; and the engine must hold nothing of the lab afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDocker } from '../../lab/runtime/containers/docker.ts';
import { LAB_LABEL, NETWORK_PREFIX } from '../../lab/runtime/containers/labels.ts';
import { defineScenario } from '../../lab/scenario/define-scenario.ts';
import { runScenario } from '../../lab/scenario/run-scenario.ts';
import partition from '../../scenarios/partition.ts';
import {
  assertEngineRoutedOverLink,
  countLoopbackPorts,
  loopbackProblems,
  readTrafficCounters,
  startTrafficCounting,
  stopTrafficCounting,
} from '../support/loopback-traffic.ts';
import { testRuntime } from '../integration/support/lab.ts';

const COLUMNS = ['monolith', 'split'];
const twoColumns = defineScenario({
  ...partition,
  variants: partition.variants.filter((variant) => COLUMNS.includes(variant.name)),
  hypothesis: partition.hypothesis.filter(
    (claim) =>
      COLUMNS.includes(claim.deployment) &&
      (claim.relativeTo?.deployment === undefined || COLUMNS.includes(claim.relativeTo.deployment)),
  ),
});

/** Every port the engine publishes for the lab's containers right now. */
async function publishedPorts(): Promise<number[]> {
  const docker = (await connectDocker()).container.dockerode;
  const containers = await docker.listContainers({ filters: { label: [`${LAB_LABEL}=true`] } });
  return containers.flatMap((container) =>
    container.Ports.flatMap((port) => (port.PublicPort ? [port.PublicPort] : [])),
  );
}

describe('the containers runtime on a remote engine', () => {
  beforeAll(async () => {
    await assertEngineRoutedOverLink();
    await startTrafficCounting();
  });
  afterAll(async () => {
    await stopTrafficCounting();
  });

  it(
    'holds partition over the link, never through the loopback, and leaves nothing on the engine',
    {
      timeout: 300_000,
    },
    async () => {
      const counted = new Set<number>();
      // The engine publishes new ports for every deployment: count each on lo as soon as it exists.
      const watch = setInterval(() => {
        void publishedPorts()
          .then(async (ports) => {
            const fresh = ports.filter((port) => !counted.has(port));
            for (const port of fresh) counted.add(port);
            await countLoopbackPorts(fresh);
          })
          .catch(() => undefined);
      }, 250);
      let results;
      try {
        results = await runScenario(twoColumns, { runtime: testRuntime(), log: () => undefined });
      } finally {
        clearInterval(watch);
      }
      for (const claim of results.hypothesis.claims) {
        expect(claim, JSON.stringify(claim)).toMatchObject({ held: true });
      }
      expect(results.runtime.details.engineAddress).toMatch(/^10\.231\.0\.2 /);
      expect(counted.size, 'ports the engine published during the run').toBeGreaterThan(4);

      const counters = await readTrafficCounters();
      expect(loopbackProblems(counters), JSON.stringify(counters)).toEqual([]);

      const docker = (await connectDocker()).container.dockerode;
      const containers = await docker.listContainers({
        all: true,
        filters: { label: [`${LAB_LABEL}=true`] },
      });
      const networks = await docker.listNetworks({ filters: { name: [NETWORK_PREFIX] } });
      expect(containers.map((container) => container.Names[0])).toEqual([]);
      expect(networks.map((network) => network.Name)).toEqual([]);
    },
  );
});
