import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { LabError } from '../../errors.ts';
import type { ServiceLogBook } from '../start-wired-deployment.ts';
import { describeQuota, quotaFor, type QuotaOverrides } from '../../vocabulary/quotas.ts';
import type { Infrastructure } from './infrastructure.ts';
import { SERVICE_PORT } from './network-addresses.ts';
import { publishedToLab } from './published-to-lab.ts';

const LabFacingContainer = publishedToLab(GenericContainer);

/**
 * SIGTERM, then SIGKILL after this long, as local stops its children. testcontainers' default is 0 s:
 * the service was killed before it could write `stopping` or send the spans still in its batch.
 */
const SERVICE_STOP_GRACE_MS = 3_000;

/** What every service container of one deployment shares. */
export interface ServiceContainerOptions {
  /** False: an empty OTEL_EXPORTER_OTLP_ENDPOINT, which turns the services' tracing off. */
  tracing?: boolean;
  infrastructure: Pick<Infrastructure, 'client' | 'images' | 'identity' | 'network' | 'traceRelayEndpoint'>;
  quotas: QuotaOverrides;
  /** Extra environment for every service (tests), then the variant's settings, then the wiring's own. */
  serviceEnv: Record<string, string>;
  settings: Record<string, string>;
  startTimeoutMs: number;
  /** The deployment's log book: every service's stderr lines, across restarts. */
  logs: ServiceLogBook;
}

export interface RunningService {
  /** Holds the service's network namespace: its address, its alias and its published port. */
  sandbox: StartedTestContainer;
  container: StartedTestContainer;
  hostPort: number;
  quota: string;
  /** Follows the service's stderr into the log book; told to follow on after a restart. */
  stderr: StderrFollower;
  /** The service's own environment (the wiring's, and a deployed SERVICE_VERSION), for a redeploy. */
  env: Record<string, string>;
}

/**
 * Each service runs as two containers, as a Kubernetes pod does: a tiny sandbox that owns the network
 * namespace (address, alias, published port) and the service itself inside that namespace. A crash kills
 * only the service, so its address stays and connections to it are refused at once, as on local. With
 * one container, a killed service's name vanishes from Docker's DNS, which then forwards every lookup of
 * it to the host's resolvers: measured here, after about 80 lookups in 2 s new connections hung 5-15 s
 * instead of failing, and requests due during the crash succeeded after the restart.
 */
async function startSandbox(options: ServiceContainerOptions, service: string) {
  const { infrastructure } = options;
  return await new LabFacingContainer(infrastructure.images.node.name)
    .withName(`${infrastructure.identity.networkName}-${service}-sandbox`)
    .withCommand(['node', '-e', "console.log('sandbox ready'); setInterval(() => {}, 2 ** 30);"])
    .withNetwork(infrastructure.network)
    .withNetworkAliases(service)
    .withLabels({ ...infrastructure.identity.labels, 'io.splitlab.sandbox': service })
    .withResourcesQuota({ cpu: 0.1, memory: 64 / 1024 })
    // The sandbox owns the published port and lives through crashes and deploys of the service, so the
    // metrics scraper keeps its URL. Docker picks the port on the engine's machine, which may not be this one.
    .withExposedPorts(SERVICE_PORT)
    .withWaitStrategy(Wait.forLogMessage(/sandbox ready/))
    .withStartupTimeout(options.startTimeoutMs)
    .start();
}

/**
 * Starts one service as its sandbox and its own container, with its CPU and memory quota, follows its
 * stderr into the log book, and registers their stops on `teardown` (the sandbox's first, so it is
 * stopped last).
 *
 * @example
 *   const running = await startServiceContainer(options, 'payment-service', { DATABASE_URL }, teardown);
 */
export async function startServiceContainer(
  options: ServiceContainerOptions,
  service: string,
  env: Record<string, string>,
  teardown: AsyncDisposableStack,
): Promise<RunningService> {
  const quota = quotaFor(service, options.quotas);
  try {
    const sandbox = await startSandbox(options, service);
    const hostPort = sandbox.getMappedPort(SERVICE_PORT);
    // Registered first, so it is stopped last: after the service that lives in its namespace.
    teardown.defer(() => sandbox.stop().then(() => undefined));
    // Filled in once the first container runs; the stop below acts on whichever runs then (a deploy
    // replaces it), and must work when the start failed half way.
    const holder: { running?: RunningService } = {};
    teardown.defer(async () => {
      const current = holder.running;
      if (!current) return;
      await thawIfPaused(options.infrastructure.client, current);
      await current.container.stop({ timeout: SERVICE_STOP_GRACE_MS });
      // After the stop: the lines written on the way out (`stopping`) arrive before the log is let go.
      await current.stderr.close();
    });
    const { container, stderr } = await startServiceProcess(options, service, env, sandbox, quota);
    holder.running = { sandbox, container, hostPort, quota: describeQuota(quota), stderr, env };
    return holder.running;
  } catch (error) {
    throw new LabError('CONTAINER_START', `the ${service} container did not start: ${String(error)}`, {
      cause: error,
    });
  }
}

/** The service's own container in its sandbox's namespace, its stderr followed into the log book. */
async function startServiceProcess(
  options: ServiceContainerOptions,
  service: string,
  env: Record<string, string>,
  sandbox: StartedTestContainer,
  quota: ReturnType<typeof quotaFor>,
): Promise<{ container: StartedTestContainer; stderr: StderrFollower }> {
  const { infrastructure } = options;
  const container = await new GenericContainer(infrastructure.images.services.name)
    .withName(`${infrastructure.identity.networkName}-${service}`)
    .withCommand(['node', `services/${service}.ts`])
    .withNetworkMode(`container:${sandbox.getId()}`)
    .withLabels({ ...infrastructure.identity.labels, 'io.splitlab.service': service })
    .withEnvironment({
      HOST: '0.0.0.0',
      PORT: String(SERVICE_PORT),
      SERVICE_NAME: service,
      ...options.serviceEnv,
      ...options.settings,
      // After the settings: the lab reads every span from its own collector (it forwards them on).
      OTEL_EXPORTER_OTLP_ENDPOINT: options.tracing === false ? '' : infrastructure.traceRelayEndpoint,
      OTEL_SERVICE_NAME: service,
      ...env,
    })
    .withResourcesQuota({ cpu: quota.cpu, memory: quota.memoryMiB / 1024 })
    .withWaitStrategy(Wait.forLogMessage(/"event":"listening"/))
    .withStartupTimeout(options.startTimeoutMs)
    .start();
  try {
    const stderr = await followStderr(infrastructure.client, container.getId(), (line) =>
      options.logs.add(service, line),
    );
    return { container, stderr };
  } catch (error) {
    await container.stop({ timeout: 0 });
    throw error;
  }
}

/**
 * A deploy: `docker stop` with the drain as its timeout (SIGTERM, SIGKILL when it runs out), the old
 * container removed, and a new one of the same name, with SERVICE_VERSION=`version` when given, in the
 * same sandbox: the same address, alias and published port. `running` is updated in place, so later
 * crashes, stalls and deploys act on the new container.
 */
export async function redeployServiceContainer(
  options: ServiceContainerOptions,
  service: string,
  running: RunningService,
  { version, drainMs }: { version?: string; drainMs: number },
): Promise<{ stoppedAfterMs: number; drained: boolean; oldEnded: string }> {
  const docker = options.infrastructure.client.container.dockerode;
  const old = running.container;
  // A paused container cannot drain; unpaused, it takes the SIGTERM as any other.
  await thawIfPaused(options.infrastructure.client, running);
  const startedAtMs = performance.now();
  await old.stop({ timeout: drainMs, remove: false });
  const stoppedAfterMs = performance.now() - startedAtMs;
  const inspected = (await docker.getContainer(old.getId()).inspect()) as { State: { ExitCode: number } };
  // docker stop's SIGKILL shows as exit code 137 (128 + 9).
  const drained = inspected.State.ExitCode !== 137;
  const oldEnded = drained
    ? `exited with code ${inspected.State.ExitCode}`
    : 'was killed by SIGKILL (ExitCode 137)';
  await running.stderr.close();
  await docker.getContainer(old.getId()).remove({ force: true });
  const env = version ? { ...running.env, SERVICE_VERSION: version } : running.env;
  const quota = quotaFor(service, options.quotas);
  const next = await startServiceProcess(options, service, env, running.sandbox, quota);
  running.container = next.container;
  running.stderr = next.stderr;
  running.env = env;
  return { stoppedAfterMs, drained, oldEnded };
}

/** `docker pause` (the cgroup freezer): the processes stop, the address and connections stay. Returns the unpause. */
export async function pauseServiceContainer(
  client: Infrastructure['client'],
  running: RunningService,
): Promise<() => Promise<void>> {
  const container = client.container.dockerode.getContainer(running.container.getId());
  await container.pause();
  return async () => {
    // The container paused: a deploy in between replaced it, and the new one was never paused.
    if (running.container.getId() !== container.id) return;
    await thawIfPaused(client, running);
  };
}

async function thawIfPaused(client: Infrastructure['client'], running: RunningService): Promise<void> {
  const container = client.container.dockerode.getContainer(running.container.getId());
  const inspected = (await container.inspect().catch(() => undefined)) as
    { State: { Paused: boolean } } | undefined;
  if (inspected?.State.Paused) await container.unpause();
}

/**
 * SIGKILL, as on local: no graceful shutdown, connections die with the process; the sandbox keeps the
 * address. Returns the restart: `docker start` keeps the container's network alias and its host port.
 */
export async function killServiceContainer(
  client: Infrastructure['client'],
  running: RunningService,
): Promise<() => Promise<void>> {
  const container = client.container.dockerode.getContainer(running.container.getId());
  await container.kill({ signal: 'SIGKILL' });
  return async () => {
    await container.start();
    await running.stderr.resume();
  };
}

/** The service container's state from `docker inspect`: the evidence that a crash is (or is no longer) in effect. */
export async function serviceContainerState(
  client: Infrastructure['client'],
  running: RunningService,
): Promise<{ running: boolean; stalled: boolean; evidence: string }> {
  const inspected = (await client.container.dockerode.getContainer(running.container.getId()).inspect()) as {
    State: { Status: string; Running: boolean; Paused: boolean; ExitCode: number; OOMKilled: boolean };
  };
  const { State: state } = inspected;
  const oom = state.OOMKilled ? ', OOMKilled' : '';
  return {
    running: state.Running,
    stalled: state.Paused,
    evidence: `container ${state.Status}, Running ${state.Running}, Paused ${state.Paused}, ExitCode ${state.ExitCode}${oom}`,
  };
}

/** How long the lines of a container that stopped may take to arrive before the lab lets go of its log. */
const LOG_DRAIN_MS = 2_000;

export interface StderrFollower {
  /** After `docker start`: waits for the last process's lines, then follows the new one's. */
  resume(): Promise<void>;
  /** Waits (at most LOG_DRAIN_MS) for the lines of a stopped container, then stops following. */
  close(): Promise<void>;
}

/**
 * Follows a container's stderr line by line: the service's log, as on local (stdout carries only the
 * `listening` line). Docker ends a follow when the container dies, so a restart follows again from the second of the
 * last kept line; Docker's per-line timestamps (nanoseconds) then tell which lines were kept already.
 * testcontainers' log consumer cannot do this: it is attached once, merges stdout and stderr, and
 * carries no timestamps.
 */
async function followStderr(
  client: Infrastructure['client'],
  containerId: string,
  onLine: (line: string) => void,
): Promise<StderrFollower> {
  const docker = client.container.dockerode;
  let lastKeptNs = -1n;
  let following: { stream: NodeJS.ReadableStream; ended: Promise<void> } | undefined;

  const follow = async (): Promise<void> => {
    const keptBefore = lastKeptNs;
    const stream = await docker.getContainer(containerId).logs({
      follow: true,
      stdout: false,
      stderr: true,
      timestamps: true,
      since: keptBefore < 0n ? 0 : Number(keptBefore / 1_000_000_000n),
    });
    // As testcontainers does: an open log stream must not keep the lab's process alive.
    (stream as { socket?: Socket }).socket?.unref();
    const stderr = new PassThrough({ encoding: 'utf8' });
    docker.modem.demuxStream(stream, new PassThrough(), stderr);
    stream.on('end', () => stderr.end());
    stream.on('error', () => stderr.end());
    const lines = createInterface({ input: stderr, crlfDelay: Infinity });
    lines.on('line', (stamped) => {
      const space = stamped.indexOf(' ');
      const atNs = space > 0 ? timestampNs(stamped.slice(0, space)) : undefined;
      if (atNs === undefined) {
        onLine(stamped);
      } else if (atNs > keptBefore) {
        // Not kept yet: a line at or before the last one kept came again from the resumed follow's second.
        if (atNs > lastKeptNs) lastKeptNs = atNs;
        onLine(stamped.slice(space + 1));
      }
    });
    following = { stream, ended: new Promise((resolve) => lines.once('close', resolve)) };
  };
  const letGo = async (): Promise<void> => {
    if (!following) return;
    const { stream, ended } = following;
    following = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, LOG_DRAIN_MS)))]);
    clearTimeout(timer);
    (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
  };

  await follow();
  return {
    resume: async () => {
      await letGo();
      await follow();
    },
    close: letGo,
  };
}

/** Docker's RFC 3339 log timestamp (`2026-11-30T21:25:34.123456789Z`) in nanoseconds since the epoch. */
function timestampNs(stamp: string): bigint | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(stamp);
  if (!match?.[1]) return undefined;
  const wholeSecondsMs = Date.parse(`${match[1]}Z`);
  if (Number.isNaN(wholeSecondsMs)) return undefined;
  return BigInt(wholeSecondsMs) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}
