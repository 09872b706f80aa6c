import { randomBytes } from 'node:crypto';
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { ToxiProxyContainer, type StartedToxiProxyContainer } from '@testcontainers/toxiproxy';
import { Network, Wait, type ContainerRuntimeClient, type StartedNetwork } from 'testcontainers';
import { Toxiproxy } from 'toxiproxy-node-client';
import { LabError } from '../../errors.ts';
import { startTraceCollector, type TraceCollector } from '../../tracing/trace-collector.ts';
import { LINKS, type LinkName } from '../../vocabulary/topology.ts';
import { startDnsServer, type StartedDnsServer } from '../dns-server.ts';
import type { PostgresConnection } from '../postgres-admin.ts';
import { allStarted } from './all-started.ts';
import { POSTGRES_USER } from './image-recipes.ts';
import type { RunIdentity } from './labels.ts';
import { LINK_PORTS, POSTGRES_ALIAS, TOXIPROXY_ALIAS, TOXIPROXY_API_PORT } from './network-addresses.ts';
import { LOOPBACK, publishedOnLoopback } from './published-on-loopback.ts';
import type { LabImages } from './resolve-images.ts';

/**
 * Only the API and the edge links are reached from the host; the other 29 proxy ports the module exposes
 * stay unpublished. Each published port is a docker-proxy process: with all 33, `docker kill` of the
 * container took 6.9 s here (Docker stops them one by one before it reports the death).
 */
const HOST_REACHED_TOXIPROXY_PORTS = [
  TOXIPROXY_API_PORT,
  ...Object.entries(LINK_PORTS)
    .filter(([link]) => LINKS[link as LinkName].from === 'load')
    .map(([, port]) => port),
];
const LoopbackToxiProxyContainer = publishedOnLoopback(ToxiProxyContainer, HOST_REACHED_TOXIPROXY_PORTS);
const LoopbackPostgreSqlContainer = publishedOnLoopback(PostgreSqlContainer);

/** As the local runtime: hundreds of connections through Toxiproxy; durability is not under test. */
const POSTGRES_FLAGS = ['-c', 'listen_addresses=*', '-c', 'max_connections=300', '-c', 'fsync=off'];

/** What both deployments share on the containers runtime. */
export interface Infrastructure {
  client: ContainerRuntimeClient;
  identity: RunIdentity;
  images: LabImages;
  network: StartedNetwork;
  toxiproxy: StartedToxiProxyContainer;
  /** Toxiproxy's API through its port published on 127.0.0.1. */
  toxiproxyClient: Toxiproxy;
  /** The Toxiproxy container's address on the lab network: where `payment-service` resolves to. */
  toxiproxyAddress: string;
  postgres: StartedPostgreSqlContainer;
  /** Random per run: nobody else can guess their way into the lab's databases. */
  postgresPassword: string;
  /** PostgreSQL as the host (the lab, the audit) reaches it: through its mapped port. */
  postgresFromHost: PostgresConnection;
  dnsServer: StartedDnsServer;
  /** The lab's OTLP receiver, on the network's gateway like the DNS server: where the services export spans. */
  traces: TraceCollector;
}

/**
 * Starts the lab's network, the lab's DNS server and trace collector on the network's gateway, and the
 * Toxiproxy and PostgreSQL containers. Each piece registers its stop on `teardown` as soon as it runs, so a start that
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
  /** Where the trace collector also sends every batch of spans. */
  traceForwarding?: { name: string; endpoint: string }[];
}): Promise<Infrastructure> {
  const { client, images, identity, startTimeoutMs, teardown } = options;
  const network = await new Network({ nextUuid: () => identity.networkName }).start();
  teardown.defer(() => network.stop().then(() => undefined));
  const gateway = await networkGateway(client, network);
  // The lab's DNS server listens on the network's gateway: the host's address as containers see it.
  const dnsServer = teardown.use(await startDnsServer(gateway));
  // Registered before the deployments' stop, so it stops after them and their last spans land.
  const traces = teardown.use(
    await startTraceCollector({ host: gateway, forwardTo: options.traceForwarding }),
  );
  const postgresPassword = randomBytes(18).toString('base64url');
  const [toxiproxy, postgres] = await allStarted([
    startToxiproxy(images, network, identity, startTimeoutMs).then((started) => {
      teardown.defer(() => started.stop().then(() => undefined));
      return started;
    }),
    startPostgres(images, network, identity, startTimeoutMs, postgresPassword).then((started) => {
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
    toxiproxyClient: new Toxiproxy(`http://${LOOPBACK}:${toxiproxy.getMappedPort(TOXIPROXY_API_PORT)}`),
    toxiproxyAddress: toxiproxy.getIpAddress(network.getName()),
    postgres,
    postgresPassword,
    postgresFromHost: {
      host: LOOPBACK,
      port: postgres.getPort(),
      user: POSTGRES_USER,
      password: postgresPassword,
    },
    dnsServer,
    traces,
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
    return await new LoopbackToxiProxyContainer(images.toxiproxy.name)
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
  password: string,
): Promise<StartedPostgreSqlContainer> {
  let container = new LoopbackPostgreSqlContainer(images.postgres.name)
    .withName(`${identity.networkName}-postgres`)
    .withNetwork(network)
    .withNetworkAliases(POSTGRES_ALIAS)
    .withLabels(identity.labels)
    .withUsername(POSTGRES_USER)
    // The official image's entrypoint gives the user this password when it initialises the database.
    .withPassword(password)
    .withDatabase('postgres')
    .withCommand(['postgres', ...POSTGRES_FLAGS])
    .withStartupTimeout(startTimeoutMs);
  if (images.postgres.origin === 'built locally') {
    // The local image was initialised at build time with a fixed password: PostgreSQL in single-user
    // mode (no network) sets this run's from POSTGRES_PASSWORD before the server listens (~0.1 s).
    container = container.withCommand([
      '/bin/sh',
      '-c',
      `echo "ALTER ROLE ${POSTGRES_USER} PASSWORD '$POSTGRES_PASSWORD'" | postgres --single -D "$PGDATA" postgres > /dev/null && exec postgres ${POSTGRES_FLAGS.map((flag) => `'${flag}'`).join(' ')}`,
    ]);
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
