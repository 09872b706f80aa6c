import { defineConfig, type TestProjectConfiguration } from 'vitest/config';
import { probeDocker } from './lab/runtime/containers/docker.ts';

// Three projects, and a fourth where a remote engine exists. `unit` tests pure logic in milliseconds. `integration` starts real PostgreSQL,
// Toxiproxy and services on the local runtime, one file at a time to keep the 2-core machine honest.
// `containers` runs the runtime-level files of the integration suite again on the containers runtime
// (LAB_RUNTIME=containers), plus the tests only containers have (quotas, kill/restart, leftovers).
const RUNTIME_FILES = [
  'test/integration/faults.test.ts',
  'test/integration/fault-catalogue.test.ts',
  'test/integration/teardown.test.ts',
  'test/integration/dependency-failure.test.ts',
  'test/integration/dependency-failure-cli.test.ts',
  'test/integration/cli.test.ts',
  'test/integration/starvation.test.ts',
  'test/integration/retry-storm.test.ts',
  'test/integration/interactive-lab.test.ts',
  'test/integration/runtime-traces.test.ts',
  'test/integration/partition-traces.test.ts',
  'test/integration/modular-deployment.test.ts',
  'test/integration/deploy-fault.test.ts',
  'test/integration/deploy-scenario.test.ts',
];

const serial = {
  fileParallelism: false,
  testTimeout: 120_000,
  hookTimeout: 180_000,
  setupFiles: ['test/support/no-job-summary.ts'],
};
// Projects of different group orders run one after the other: the local and containers suites must
// not compete for the same 2 cores, or every timing claim would measure the other suite.
const order = (groupOrder: number) => ({ sequence: { groupOrder } });

/**
 * The containers suite needs a Docker engine. In CI (CI set) a missing engine must fail the run, so the
 * project is always included there; on a developer machine without Docker it is skipped, and said so.
 */
async function containersProject(): Promise<TestProjectConfiguration[]> {
  const wanted = process.env.SPLITLAB_TEST_RUNTIMES ?? 'local,containers';
  if (!wanted.split(',').includes('containers')) {
    console.warn('splitlab: containers suite skipped: SPLITLAB_TEST_RUNTIMES does not list containers');
    return [];
  }
  if (!process.env.CI) {
    const docker = await probeDocker();
    if (!docker.available) {
      console.warn(`splitlab: containers suite skipped: ${docker.reason}`);
      return [];
    }
  }
  return [
    {
      test: {
        name: 'containers',
        include: [...RUNTIME_FILES, 'test/containers/**/*.test.ts'],
        env: { LAB_RUNTIME: 'containers' },
        ...serial,
        ...order(2),
      },
    },
  ];
}

/**
 * Runtime-level files that do not run against a remote engine: teardown and interactive-lab read the
 * lab machine's own listening sockets and docker-proxy processes, which a remote engine's ports are not
 * (test/remote-engine checks what is left there instead); retry-storm's closed-model claim measured 2.43
 * attempts per call there with the generator in the network, under its bound of 2.5 set from runs with
 * the generator in the lab's process, and its tolerance for that placement is not measured yet.
 */
const LOCAL_ENGINE_ONLY = [
  'test/integration/teardown.test.ts',
  'test/integration/interactive-lab.test.ts',
  'test/integration/retry-storm.test.ts',
];

/**
 * The same runtime-level files against a Docker engine on another machine: in CI, the engine that
 * `.ci/remote-engine up` starts in its own network namespace (SPLITLAB_REMOTE_DOCKER_HOST names it),
 * plus the checks only a remote engine allows. Not run without it: a developer has no second engine.
 */
function remoteEngineProject(): TestProjectConfiguration[] {
  const dockerHost = process.env.SPLITLAB_REMOTE_DOCKER_HOST;
  if (!dockerHost) return [];
  return [
    {
      test: {
        name: 'remote-engine',
        include: [
          ...RUNTIME_FILES.filter((file) => !LOCAL_ENGINE_ONLY.includes(file)),
          'test/remote-engine/**/*.test.ts',
        ],
        env: { LAB_RUNTIME: 'containers', DOCKER_HOST: dockerHost },
        ...serial,
        ...order(3),
      },
    },
  ];
}

export default defineConfig(async () => ({
  test: {
    reporters: ['default', './test/support/plain-summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          ...order(0),
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          env: { LAB_RUNTIME: 'local' },
          ...serial,
          ...order(1),
        },
      },
      ...(await containersProject()),
      ...remoteEngineProject(),
    ],
  },
}));
