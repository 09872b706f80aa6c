import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { LabError } from '../../errors.ts';
import { findFreePort } from '../ports.ts';
import { describeQuota, quotaFor, type QuotaOverrides } from '../../vocabulary/quotas.ts';
import type { Infrastructure } from './infrastructure.ts';
import { SERVICE_PORT } from './network-addresses.ts';
import { publishedOnLoopback } from './published-on-loopback.ts';

const LoopbackContainer = publishedOnLoopback(GenericContainer);

/** What every service container of one deployment shares. */
export interface ServiceContainerOptions {
  infrastructure: Pick<Infrastructure, 'images' | 'identity' | 'network'>;
  quotas: QuotaOverrides;
  /** Extra environment for every service (tests), then the variant's settings, then the wiring's own. */
  serviceEnv: Record<string, string>;
  settings: Record<string, string>;
  startTimeoutMs: number;
}

export interface RunningService {
  /** Holds the service's network namespace: its address, its alias and its published port. */
  sandbox: StartedTestContainer;
  container: StartedTestContainer;
  hostPort: number;
  quota: string;
}

/**
 * Each service runs as two containers, as a Kubernetes pod does: a tiny sandbox that owns the network
 * namespace (address, alias, published port) and the service itself inside that namespace. A crash kills
 * only the service, so its address stays and connections to it are refused at once, as on local. With
 * one container, a killed service's name vanishes from Docker's DNS, which then forwards every lookup of
 * it to the host's resolvers: measured here, after about 80 lookups in 2 s new connections hung 5-15 s
 * instead of failing, and requests due during the crash succeeded after the restart.
 */
async function startSandbox(options: ServiceContainerOptions, service: string, hostPort: number) {
  const { infrastructure } = options;
  return await new LoopbackContainer(infrastructure.images.node.name)
    .withName(`${infrastructure.identity.networkName}-${service}-sandbox`)
    .withCommand(['node', '-e', "console.log('sandbox ready'); setInterval(() => {}, 2 ** 30);"])
    .withNetwork(infrastructure.network)
    .withNetworkAliases(service)
    .withLabels({ ...infrastructure.identity.labels, 'io.splitlab.sandbox': service })
    .withResourcesQuota({ cpu: 0.1, memory: 64 / 1024 })
    // A fixed host port survives `docker kill` + `docker start` of the service, so the metrics scraper
    // keeps its URL across a crash.
    .withExposedPorts({ container: SERVICE_PORT, host: hostPort })
    .withWaitStrategy(Wait.forLogMessage(/sandbox ready/))
    .withStartupTimeout(options.startTimeoutMs)
    .start();
}

/**
 * Starts one service as its sandbox and its own container, with its CPU and memory quota, and registers
 * their stops on `teardown` (the sandbox's first, so it is stopped last).
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
  const { infrastructure } = options;
  const quota = quotaFor(service, options.quotas);
  const hostPort = await findFreePort();
  try {
    const sandbox = await startSandbox(options, service, hostPort);
    // Registered first, so it is stopped last: after the service that lives in its namespace.
    teardown.defer(() => sandbox.stop().then(() => undefined));
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
        ...env,
      })
      .withResourcesQuota({ cpu: quota.cpu, memory: quota.memoryMiB / 1024 })
      .withWaitStrategy(Wait.forLogMessage(/"event":"listening"/))
      .withStartupTimeout(options.startTimeoutMs)
      .start();
    teardown.defer(() => container.stop().then(() => undefined));
    return { sandbox, container, hostPort, quota: describeQuota(quota) };
  } catch (error) {
    throw new LabError('CONTAINER_START', `the ${service} container did not start: ${String(error)}`, {
      cause: error,
    });
  }
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
  };
}

/** The service container's state from `docker inspect`: the evidence that a crash is (or is no longer) in effect. */
export async function serviceContainerState(
  client: Infrastructure['client'],
  running: RunningService,
): Promise<{ running: boolean; evidence: string }> {
  const inspected = (await client.container.dockerode.getContainer(running.container.getId()).inspect()) as {
    State: { Status: string; Running: boolean; ExitCode: number; OOMKilled: boolean };
  };
  const { State: state } = inspected;
  const oom = state.OOMKilled ? ', OOMKilled' : '';
  return {
    running: state.Running,
    evidence: `container ${state.Status}, Running ${state.Running}, ExitCode ${state.ExitCode}${oom}`,
  };
}
