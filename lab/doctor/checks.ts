/**
 * The checklist of `npm run doctor`, in the order it prints: each check gathers its facts (facts.ts)
 * and judges them (judge.ts) under its own timeout. Docker's connection is shared by the engine and
 * images checks; the estimates share the scenarios and the recorded runs.
 */
import path from 'node:path';
import type { Check, Finding } from './check.ts';
import { judgeEstimate } from './estimate.ts';
import {
  chromiumFacts,
  cpuFacts,
  diskFacts,
  dockerConnection,
  imagesFacts,
  labCodeFacts,
  loopbackFacts,
  nodeFacts,
  npmFacts,
  packagesFacts,
  platformTag,
  postgresFacts,
  projectNodeFacts,
  recordedRuns,
  scenarioSizes,
  toxiproxyFacts,
  type DockerConnection,
} from './facts.ts';
import {
  judgeChromium,
  judgeCpus,
  judgeDisk,
  judgeDocker,
  judgeImages,
  judgeLabCode,
  judgeLoopback,
  judgeNode,
  judgeNpm,
  judgePackages,
  judgePostgres,
  judgeProjectNode,
  judgeToxiproxy,
} from './judge.ts';

/**
 * Tests point the toxiproxy-server lookup at an empty project root (PATH is theirs to set): the lab
 * itself has no override for where it looks.
 */
export const TOXIPROXY_ROOT_ENV = 'SPLITLAB_DOCTOR_TOXIPROXY_ROOT';

export interface DoctorOptions {
  projectRoot: string;
  reportsDir: string;
  scenariosDir: string;
  /** The project root whose .lab/bin is searched for toxiproxy-server (default: projectRoot). */
  toxiproxyRoot?: string;
}

/**
 * Each check's own timeout. A check answers in milliseconds to 2 s; the timeout is for what hangs (a
 * network mount, a broken binary), and generous because a busy laptop is slow: measured here with the
 * 2 cores oversubscribed by other work (load 7-10), whole runs took 1.3-4.7 s, and once, with limits of
 * 4 s per command and 5 s per check, `npm --version` and `node --version` ran out of time.
 */
const CHECK_TIMEOUT_MS = 9_000;
/** How long connectDocker may wait for an engine, testcontainers' import included. */
const DOCKER_CONNECT_TIMEOUT_MS = 6_000;

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

export function doctorChecks(options: DoctorOptions): Check[] {
  const root = options.projectRoot;
  const docker = once<DockerConnection>(() => dockerConnection(DOCKER_CONNECT_TIMEOUT_MS));
  const estimateInputs = once(async () => {
    const [scenarios, runs] = await Promise.all([
      scenarioSizes(options.scenariosDir),
      recordedRuns(options.reportsDir),
    ]);
    return { scenarios, runs };
  });
  // As the user would type it: relative to where doctor runs (the project root under npm run).
  const fromHere = path.relative(process.cwd(), options.reportsDir);
  const reportsLabel = `${fromHere && !fromHere.startsWith('..') ? fromHere : options.reportsDir}/`;
  const estimate = async (runtime: 'local' | 'containers'): Promise<Finding> => {
    const { scenarios, runs } = await estimateInputs();
    return judgeEstimate(scenarios, runs, runtime, reportsLabel);
  };
  return [
    {
      id: 'node',
      name: 'Node (this process)',
      required: true,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async () => judgeNode(await nodeFacts(root)),
    },
    {
      id: 'npm',
      name: 'npm',
      required: true,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async (signal) => judgeNpm(await npmFacts(signal)),
    },
    {
      id: 'project-node',
      name: 'Node 24 for npm run',
      required: true,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async (signal) => judgeProjectNode(await projectNodeFacts(root, signal)),
    },
    {
      id: 'packages',
      name: 'npm packages',
      required: true,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async () => judgePackages(await packagesFacts(root)),
    },
    {
      id: 'lab-code',
      name: 'lab code loads',
      required: true,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async (signal) => judgeLabCode(await labCodeFacts(signal, CHECK_TIMEOUT_MS - 500), platformTag()),
    },
    {
      id: 'toxiproxy',
      name: 'toxiproxy-server',
      required: true,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async (signal) => judgeToxiproxy(await toxiproxyFacts(options.toxiproxyRoot ?? root, signal)),
    },
    {
      id: 'postgres',
      name: 'PostgreSQL binaries',
      required: true,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async (signal) => judgePostgres(await postgresFacts(root, signal)),
    },
    {
      id: 'loopback',
      name: 'loopback ports',
      required: true,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async () => judgeLoopback(await loopbackFacts()),
    },
    {
      id: 'cpus',
      name: 'CPUs and pinning',
      required: true,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async (signal) => judgeCpus(await cpuFacts(signal)),
    },
    {
      id: 'disk',
      name: 'disk space',
      required: true,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async () => judgeDisk(await diskFacts(options.reportsDir)),
    },
    {
      id: 'docker',
      name: 'Docker engine',
      required: false,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async () => judgeDocker((await docker()).facts),
    },
    {
      id: 'images',
      name: 'Docker images',
      required: false,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async () => judgeImages(await imagesFacts(docker())),
    },
    {
      id: 'chromium',
      name: 'chromium',
      required: false,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async (signal) => judgeChromium(await chromiumFacts(signal)),
    },
    {
      id: 'estimate-local',
      name: '`all` on local',
      required: false,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async () => await estimate('local'),
    },
    {
      id: 'estimate-containers',
      name: '`all` on containers',
      required: false,
      timeoutMs: CHECK_TIMEOUT_MS,
      run: async () => await estimate('containers'),
    },
  ];
}
