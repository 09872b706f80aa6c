import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { ToxiProxyContainer, type StartedToxiProxyContainer } from '@testcontainers/toxiproxy';
import {
  GenericContainer,
  Network,
  Wait,
  type ContainerRuntimeClient,
  type StartedNetwork,
  type StartedTestContainer,
} from 'testcontainers';
import { startDnsServer, type StartedDnsServer } from '../dns-server.ts';
import { LabError } from '../../errors.ts';
import { waitForHealthy } from '../health.ts';
import { findFreePort } from '../ports.ts';
import { postgresUrl, recreateDatabases, type PostgresConnection } from '../postgres-admin.ts';
import { DEFAULT_QUOTAS, describeQuota, quotaFor, type QuotaOverrides } from '../../vocabulary/quotas.ts';
import {
  stopOnce,
  type LabLog,
  type Runtime,
  type RuntimeAction,
  type StartedDeployment,
  type StartedLab,
  type Undo,
} from '../runtime.ts';
import {
  type DeploymentName,
  type RouteName,
  LINKS,
  ROUTE_TARGETS,
  linksOf,
  type LinkName,
} from '../../vocabulary/topology.ts';
import { applyRuntimeAction, deploymentDatabases } from '../apply-runtime-action.ts';
import { createLink, removeLink } from '../toxiproxy-links.ts';
import { connectDocker } from './docker.ts';
import {
  describeImage,
  POSTGRES_PASSWORD,
  POSTGRES_USER,
  resolveLabImages,
  type ImageSource,
  type LabImages,
} from './lab-images.ts';
import { newRunIdentity, reapLeftovers, type RunIdentity } from './labels.ts';

const LOOPBACK = '127.0.0.1';
const SERVICE_PORT = 8080;
const POSTGRES_PORT = 5432;
const TOXIPROXY_API_PORT = 8474;

/**
 * Each link listens on its own fixed port inside the Toxiproxy container (in the range the
 * @testcontainers/toxiproxy container exposes), so services can be given `toxiproxy:<port>` before
 * anything starts, and the edge links' mapped ports are known to the load generator.
 */
export const LINK_PORTS: Record<LinkName, number> = {
  'edge-monolith': 8666,
  'monolith-db': 8667,
  'edge-signup': 8668,
  'edge-payment': 8669,
  'payment-api': 8670,
  'signup-db': 8671,
  'payment-db': 8672,
};

/** Where each link leads, by network alias: Docker's DNS resolves it at every new connection. */
function upstreamOf(link: LinkName): string {
  const to: string = LINKS[link].to;
  return to.startsWith('postgres') ? `postgres:${POSTGRES_PORT}` : `${to}:${SERVICE_PORT}`;
}

export interface ContainersRuntimeOptions {
  /** Extra environment for every service, e.g. a cheaper SCRYPT_N in tests. */
  serviceEnv?: Record<string, string>;
  startTimeoutMs?: number;
  /** Quotas over the defaults of lab/vocabulary/quotas.ts for every deployment (a scenario can override again). */
  quotas?: QuotaOverrides;
  imageSource?: ImageSource;
}

/**
 * The topology in Docker through testcontainers: one network, Toxiproxy and PostgreSQL containers, and
 * each service in its own container with its own CPU and memory quota. Images are the official ones when
 * the engine has them or can pull them, otherwise equivalents built locally (lab/runtime/containers/lab-images.ts).
 *
 * @example
 *   await using lab = await containersRuntime().start({ log: console.log });
 *   await using split = await lab.startDeployment('split', { quotas: { 'payment-service': { cpu: 0.5 } } });
 */
export function containersRuntime(options: ContainersRuntimeOptions = {}): Runtime {
  return {
    name: 'containers',
    start: (startOptions) => startContainersLab(options, startOptions.log),
  };
}

interface Infrastructure {
  client: ContainerRuntimeClient;
  identity: RunIdentity;
  images: LabImages;
  network: StartedNetwork;
  toxiproxy: StartedToxiProxyContainer;
  /** The Toxiproxy container's address on the lab network: where `payment-service` resolves to. */
  toxiproxyAddress: string;
  postgres: StartedPostgreSqlContainer;
  /** PostgreSQL as the host (the lab, the audit) reaches it: through its mapped port. */
  postgresFromHost: PostgresConnection;
  dnsServer: StartedDnsServer;
}

async function startContainersLab(options: ContainersRuntimeOptions, log: LabLog): Promise<StartedLab> {
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const client = await connectDocker();
  await reapLeftovers(client, log);
  const images = await resolveLabImages(client, {
    log,
    ...(options.imageSource ? { source: options.imageSource } : {}),
  });
  const identity = newRunIdentity();
  const teardown = new AsyncDisposableStack();
  try {
    const network = await new Network({ nextUuid: () => identity.networkName }).start();
    teardown.defer(() => network.stop().then(() => undefined));
    const gateway = await networkGateway(client, network);
    // The lab's DNS server listens on the network's gateway: the host's address as containers see it.
    const dnsServer = teardown.use(await startDnsServer(gateway));
    const [toxiproxy, postgres] = await allStarted([
      startToxiproxy(images, network, identity, startTimeoutMs).then((started) => {
        teardown.defer(() => started.stop().then(() => undefined));
        return started;
      }),
      startPostgres(images, network, identity, startTimeoutMs).then((started) => {
        teardown.defer(() => started.stop().then(() => undefined));
        return started;
      }),
    ]);
    const infrastructure: Infrastructure = {
      client,
      identity,
      images,
      network,
      toxiproxy,
      toxiproxyAddress: toxiproxy.getIpAddress(network.getName()),
      postgres,
      postgresFromHost: {
        host: LOOPBACK,
        port: postgres.getPort(),
        user: POSTGRES_USER,
        password: POSTGRES_PASSWORD,
      },
      dnsServer,
    };
    const deployments = new Set<StartedDeployment>();
    teardown.defer(async () => {
      for (const deployment of deployments) await deployment.stop();
    });
    const stop = stopOnce(teardown);
    const engine = client.info.containerRuntime;
    return {
      runtime: 'containers',
      details: {
        engine: `Docker API ${engine.serverVersion}, ${engine.operatingSystem}, ${engine.cpus} CPUs`,
        network: `${network.getName()} (labelled io.splitlab.run=${identity.runId})`,
        toxiproxyImage: describeImage(images.toxiproxy),
        postgresImage: describeImage(images.postgres),
        nodeImage: describeImage(images.node),
        servicesImage: describeImage(images.services),
        dns: `lab DNS server on udp ${dnsServer.address} (the network's gateway)`,
        quotas: `defaults ${Object.entries(DEFAULT_QUOTAS)
          .map(([service, quota]) => `${service} ${describeQuota(quota)}`)
          .join('; ')}; each deployment's own are under Services per phase`,
      },
      startDeployment: async (deployment, deploymentOptions) => {
        await recreateDatabases(
          infrastructure.postgresFromHost,
          deployment === 'monolith' ? ['monolith'] : ['signup', 'payment'],
        );
        const started = await startContainersDeployment({
          deployment,
          infrastructure,
          settings: deploymentOptions?.settings ?? {},
          quotas: mergeQuotas(options.quotas, deploymentOptions?.quotas),
          serviceEnv: options.serviceEnv ?? {},
          startTimeoutMs,
          log,
        });
        deployments.add(started);
        return started;
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await teardown.disposeAsync();
    throw error;
  }
}

/**
 * Like Promise.all, but waits for every start to finish before it throws: each start registers its own
 * teardown when it succeeds, and a container still starting when another one failed must not miss it.
 */
async function allStarted<T extends unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as T;
}

function mergeQuotas(base: QuotaOverrides = {}, extra: QuotaOverrides = {}): QuotaOverrides {
  const merged: QuotaOverrides = { ...base };
  for (const [service, quota] of Object.entries(extra)) merged[service] = { ...base[service], ...quota };
  return merged;
}

async function networkGateway(client: ContainerRuntimeClient, network: StartedNetwork): Promise<string> {
  const info = (await client.container.dockerode.getNetwork(network.getId()).inspect()) as {
    IPAM?: { Config?: { Gateway?: string }[] };
  };
  const gateway = info.IPAM?.Config?.find((config) => config.Gateway)?.Gateway;
  if (!gateway) throw new LabError('CONTAINER_START', `network ${network.getName()} has no IPv4 gateway`);
  return gateway;
}

async function startToxiproxy(
  images: LabImages,
  network: StartedNetwork,
  identity: RunIdentity,
  startTimeoutMs: number,
): Promise<StartedToxiProxyContainer> {
  try {
    return await new ToxiProxyContainer(images.toxiproxy.name)
      .withName(`${identity.networkName}-toxiproxy`)
      .withNetwork(network)
      .withNetworkAliases('toxiproxy')
      .withLabels(identity.labels)
      // Toxiproxy logs every API call at debug level.
      .withEnvironment({ LOG_LEVEL: 'info' })
      // The default wait polls /version once a second; a short read timeout makes it poll fast.
      .withWaitStrategy(Wait.forHttp('/version', TOXIPROXY_API_PORT).withReadTimeout(100))
      .withStartupTimeout(startTimeoutMs)
      .start();
  } catch (error) {
    throw new LabError('CONTAINER_START', `the Toxiproxy container did not start: ${String(error)}`, {
      cause: error,
    });
  }
}

async function startPostgres(
  images: LabImages,
  network: StartedNetwork,
  identity: RunIdentity,
  startTimeoutMs: number,
): Promise<StartedPostgreSqlContainer> {
  let container = new PostgreSqlContainer(images.postgres.name)
    .withName(`${identity.networkName}-postgres`)
    .withNetwork(network)
    .withNetworkAliases('postgres')
    .withLabels(identity.labels)
    .withUsername(POSTGRES_USER)
    .withPassword(POSTGRES_PASSWORD)
    .withDatabase('postgres')
    // As the local runtime: hundreds of connections through Toxiproxy; durability is not under test.
    .withCommand(['postgres', '-c', 'listen_addresses=*', '-c', 'max_connections=300', '-c', 'fsync=off'])
    .withStartupTimeout(startTimeoutMs);
  if (images.postgres.origin === 'built locally') {
    // The local image has no pg_isready and no port-check tools: pg_ctl says the server runs, the log
    // line says it accepts connections (it was initialised at build time, so the line comes once).
    container = container
      .withHealthCheck({ test: ['CMD', 'pg_ctl', 'status'], interval: 200, timeout: 1000, retries: 100 })
      .withWaitStrategy(
        Wait.forAll([
          Wait.forHealthCheck(),
          Wait.forLogMessage(/database system is ready to accept connections/),
        ]),
      );
  }
  try {
    return await container.start();
  } catch (error) {
    throw new LabError('CONTAINER_START', `the PostgreSQL container did not start: ${String(error)}`, {
      cause: error,
    });
  }
}

interface DeploymentContext {
  deployment: DeploymentName;
  infrastructure: Infrastructure;
  settings: Record<string, string>;
  quotas: QuotaOverrides;
  serviceEnv: Record<string, string>;
  startTimeoutMs: number;
  log: LabLog;
}

interface RunningService {
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
async function startSandbox(context: DeploymentContext, service: string, hostPort: number) {
  const { infrastructure } = context;
  return await new GenericContainer(infrastructure.images.node.name)
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
    .withStartupTimeout(context.startTimeoutMs)
    .start();
}

async function startServiceContainer(
  context: DeploymentContext,
  service: string,
  env: Record<string, string>,
  teardown: AsyncDisposableStack,
): Promise<RunningService> {
  const { infrastructure } = context;
  const quota = quotaFor(service, context.quotas);
  const hostPort = await findFreePort();
  try {
    const sandbox = await startSandbox(context, service, hostPort);
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
        ...context.serviceEnv,
        ...context.settings,
        ...env,
      })
      .withResourcesQuota({ cpu: quota.cpu, memory: quota.memoryMiB / 1024 })
      .withWaitStrategy(Wait.forLogMessage(/"event":"listening"/))
      .withStartupTimeout(context.startTimeoutMs)
      .start();
    teardown.defer(() => container.stop().then(() => undefined));
    return { sandbox, container, hostPort, quota: describeQuota(quota) };
  } catch (error) {
    throw new LabError('CONTAINER_START', `the ${service} container did not start: ${String(error)}`, {
      cause: error,
    });
  }
}

async function startContainersDeployment(context: DeploymentContext): Promise<StartedDeployment> {
  const { deployment, infrastructure } = context;
  const client = infrastructure.toxiproxy.client;
  const teardown = new AsyncDisposableStack();
  const services = new Map<string, RunningService>();
  const links = linksOf(deployment);
  const databaseUrl = (link: LinkName, database: string): string =>
    postgresUrl(
      { host: 'toxiproxy', port: LINK_PORTS[link], user: POSTGRES_USER, password: POSTGRES_PASSWORD },
      database,
    );
  const edgeUrl = (link: LinkName): string =>
    `http://${LOOPBACK}:${infrastructure.toxiproxy.getMappedPort(LINK_PORTS[link])}`;
  const start = async (service: string, env: Record<string, string>): Promise<void> => {
    services.set(service, await startServiceContainer(context, service, env, teardown));
  };
  try {
    for (const link of links) {
      await createLink(client, link, `0.0.0.0:${LINK_PORTS[link]}`, upstreamOf(link));
      teardown.defer(() => removeLink(client, link));
    }
    if (deployment === 'monolith') {
      await start('monolith', { DATABASE_URL: databaseUrl('monolith-db', 'monolith') });
    } else {
      // signup-service finds payment-service through the lab's DNS server, which sends it to the
      // payment-api link on the Toxiproxy container.
      infrastructure.dnsServer.setRecord('payment-service', { address: infrastructure.toxiproxyAddress });
      await allStarted([
        start('payment-service', { DATABASE_URL: databaseUrl('payment-db', 'payment') }),
        start('signup-service', {
          DATABASE_URL: databaseUrl('signup-db', 'signup'),
          PAYMENT_URL: `http://payment-service:${LINK_PORTS['payment-api']}`,
          DNS_SERVER: infrastructure.dnsServer.address,
        }),
      ]);
    }
    await waitForHealthy(healthEndpoints(deployment, edgeUrl), context.startTimeoutMs);
  } catch (error) {
    await teardown.disposeAsync();
    throw error instanceof LabError
      ? error
      : new LabError('STARTUP_TIMEOUT', `${deployment} did not start: ${String(error)}`, { cause: error });
  }
  const stop = stopOnce(teardown);
  const docker = infrastructure.client.container.dockerode;
  return {
    deployment,
    routeUrl: (route: RouteName) => {
      const target = ROUTE_TARGETS[deployment][route];
      return `${edgeUrl(target.link)}${target.path}`;
    },
    services: [...services].map(([name, service]) => ({
      name,
      metricsUrl: `http://${LOOPBACK}:${service.hostPort}/metrics`,
    })),
    databases: deploymentDatabases(deployment, (database) =>
      postgresUrl(infrastructure.postgresFromHost, database),
    ),
    resources: Object.fromEntries([...services].map(([name, service]) => [name, service.quota])),
    dnsQueryCount: (name) => infrastructure.dnsServer.queryCount(name),
    apply: (action: RuntimeAction): Promise<Undo> =>
      applyRuntimeAction(
        {
          deployment,
          links: new Set(links),
          toxiproxy: client,
          dnsServer: infrastructure.dnsServer,
          services: new Set(services.keys()),
          kill: async (name) => {
            const service = services.get(name);
            if (!service) throw new Error(`bug: no container for ${name}`);
            const container = docker.getContainer(service.container.getId());
            // SIGKILL, as on local: no graceful shutdown, connections die with the process.
            await container.kill({ signal: 'SIGKILL' });
            // `docker start` keeps the container's network alias and its fixed host port.
            return async () => {
              await container.start();
              await waitForHealthy(
                healthEndpoints(deployment, edgeUrl).filter((endpoint) => endpoint.service === name),
                context.startTimeoutMs,
              );
            };
          },
        },
        action,
      ),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Health through each service's edge link: proves the container, its database link and its edge work. */
function healthEndpoints(
  deployment: DeploymentName,
  edgeUrl: (link: LinkName) => string,
): { name: string; url: string; service: string }[] {
  const byService = new Map<string, LinkName>();
  for (const target of Object.values(ROUTE_TARGETS[deployment])) byService.set(target.service, target.link);
  return [...byService].map(([service, link]) => ({
    service,
    name: `${service} (via ${link})`,
    url: `${edgeUrl(link)}/healthz`,
  }));
}
