import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { ToxiProxyContainer, type StartedToxiProxyContainer } from '@testcontainers/toxiproxy';
import { Network, Wait, type ContainerRuntimeClient, type StartedNetwork } from 'testcontainers';
import { LabError } from '../../errors.ts';
import { startDnsServer, type StartedDnsServer } from '../dns-server.ts';
import type { PostgresConnection } from '../postgres-admin.ts';
import { allStarted } from './all-started.ts';
import { POSTGRES_PASSWORD, POSTGRES_USER } from './image-recipes.ts';
import type { RunIdentity } from './labels.ts';
import { POSTGRES_ALIAS, TOXIPROXY_ALIAS, TOXIPROXY_API_PORT } from './network-addresses.ts';
import type { LabImages } from './resolve-images.ts';

const LOOPBACK = '127.0.0.1';

/** What both deployments share on the containers runtime. */
export interface Infrastructure {
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

/**
 * Starts the lab's network, the lab's DNS server on the network's gateway, and the Toxiproxy and
 * PostgreSQL containers. Each piece registers its stop on `teardown` as soon as it runs, so a start that
 * fails halfway leaves nothing behind once the caller disposes it.
 *
 * @example
 *   const infrastructure = await startInfrastructure({ client, images, identity, startTimeoutMs, teardown });
 */
export async function startInfrastructure(options: {
  client: ContainerRuntimeClient;
  images: LabImages;
  identity: RunIdentity;
  startTimeoutMs: number;
  teardown: AsyncDisposableStack;
}): Promise<Infrastructure> {
  const { client, images, identity, startTimeoutMs, teardown } = options;
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
  return {
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
      .withNetworkAliases(TOXIPROXY_ALIAS)
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
    .withNetworkAliases(POSTGRES_ALIAS)
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
