import { randomBytes } from 'node:crypto';
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
import { Toxiproxy } from 'toxiproxy-node-client';
import { LabError } from '../../errors.ts';
import { startTraceCollector, type TraceCollector } from '../../tracing/trace-collector.ts';
import { LINKS, type LinkName } from '../../vocabulary/topology.ts';
import { DNS_CONTROL_PORT, DNS_PORT, TRACE_RELAY_PORT } from '../../agent/agent-ports.ts';
import { controlOverHttp, type DnsControl } from '../dns-control.ts';
import type { PostgresConnection } from '../postgres-admin.ts';
import { allStarted } from './all-started.ts';
import { POSTGRES_USER } from './image-recipes.ts';
import type { RunIdentity } from './labels.ts';
import { LINK_PORTS, POSTGRES_ALIAS, TOXIPROXY_ALIAS, TOXIPROXY_API_PORT } from './network-addresses.ts';
import { publishedPortsAddress } from './docker.ts';
import { publishedToLab } from './published-to-lab.ts';
import type { LabImages } from './resolve-images.ts';
import { pumpTraceRelay } from './trace-relay.ts';

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
const LabFacingToxiProxyContainer = publishedToLab(ToxiProxyContainer, HOST_REACHED_TOXIPROXY_PORTS);
const LabFacingPostgreSqlContainer = publishedToLab(PostgreSqlContainer);
const LabFacingContainer = publishedToLab(GenericContainer);

/** As the local runtime: hundreds of connections through Toxiproxy; durability is not under test. */
const POSTGRES_FLAGS = ['-c', 'listen_addresses=*', '-c', 'max_connections=300', '-c', 'fsync=off'];

/** What both deployments share on the containers runtime. */
export interface Infrastructure {
  client: ContainerRuntimeClient;
  identity: RunIdentity;
  images: LabImages;
  network: StartedNetwork;
  toxiproxy: StartedToxiProxyContainer;
  /** Where the lab reaches every published port: 127.0.0.1, or a remote engine's address. */
  engineAddress: string;
  /** Toxiproxy's API through its published port. */
  toxiproxyClient: Toxiproxy;
  /** The Toxiproxy container's address on the lab network: where `payment-service` resolves to. */
  toxiproxyAddress: string;
  postgres: StartedPostgreSqlContainer;
  /** Random per run: nobody else can guess their way into the lab's databases. */
  postgresPassword: string;
  /** PostgreSQL as the host (the lab, the audit) reaches it: through its mapped port. */
  postgresFromHost: PostgresConnection;
  /** The lab's DNS server: a container on the lab network, driven over its published control port. */
  dnsServer: DnsControl;
  dnsContainer: StartedTestContainer;
  /** The lab's OTLP receiver, in the lab's process: the trace relay's batches are moved into it. */
  traces: TraceCollector;
  /** Where the services export their spans: the trace relay container, by its address on the network. */
  traceRelayEndpoint: string;
  traceRelayContainer: StartedTestContainer;
}

/**
 * Starts the lab's network and, on it, everything the topology needs: Toxiproxy, PostgreSQL, the lab's DNS
 * server and the trace relay, so that nothing has to run on the lab's machine, which may be far from the
 * engine. The lab reaches each through a port published on the engine's address. Each piece registers its
 * stop on `teardown` as soon as it runs, so a start that fails halfway leaves nothing behind once the
 * caller disposes it.
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
  // In the lab's process, reached only by the relay pump: the services cannot reach this machine.
  const traces = teardown.use(await startTraceCollector({ forwardTo: options.traceForwarding }));
  const postgresPassword = randomBytes(18).toString('base64url');
  const started = <T extends { stop(): Promise<unknown> }>(container: T): T => {
    teardown.defer(() => container.stop().then(() => undefined));
    return container;
  };
  const [toxiproxy, postgres, dnsContainer, traceRelayContainer] = await allStarted([
    startToxiproxy(images, network, identity, startTimeoutMs).then(started),
    startPostgres(images, network, identity, startTimeoutMs, postgresPassword).then(started),
    startAgent(images, network, identity, startTimeoutMs, {
      role: 'dns',
      entry: 'lab/agent/dns-main.ts',
      ports: [DNS_CONTROL_PORT],
    }).then(started),
    startAgent(images, network, identity, startTimeoutMs, {
      role: 'trace-relay',
      entry: 'lab/agent/trace-relay-main.ts',
      ports: [TRACE_RELAY_PORT],
    }).then(started),
  ]);
  const engineAddress = publishedPortsAddress();
  const pump = pumpTraceRelay({
    relayUrl: `http://${engineAddress}:${traceRelayContainer.getMappedPort(TRACE_RELAY_PORT)}`,
    collectorEndpoint: traces.endpoint,
  });
  // Deferred after the services' stops are registered by the deployments (LIFO), so it runs after them and
  // moves the spans they flushed on the way out.
  teardown.defer(() => pump.stop());
  const dnsAddress = `${dnsContainer.getIpAddress(network.getName())}:${DNS_PORT}`;
  return {
    client,
    identity,
    images,
    network,
    engineAddress,
    toxiproxy,
    toxiproxyClient: new Toxiproxy(`http://${engineAddress}:${toxiproxy.getMappedPort(TOXIPROXY_API_PORT)}`),
    toxiproxyAddress: toxiproxy.getIpAddress(network.getName()),
    postgres,
    postgresPassword,
    postgresFromHost: {
      host: engineAddress,
      port: postgres.getPort(),
      user: POSTGRES_USER,
      password: postgresPassword,
    },
    dnsServer: controlOverHttp({
      address: dnsAddress,
      controlUrl: `http://${engineAddress}:${dnsContainer.getMappedPort(DNS_CONTROL_PORT)}`,
      where: `container ${dnsContainer.getName().replace(/^\//, '')}, control API http://${engineAddress}:${dnsContainer.getMappedPort(DNS_CONTROL_PORT)}`,
    }),
    dnsContainer,
    traces,
    traceRelayEndpoint: `http://${traceRelayContainer.getIpAddress(network.getName())}:${TRACE_RELAY_PORT}`,
    traceRelayContainer,
  };
}

/** One of the lab's own parts (lab/agent/*-main.ts) as a container on the lab network. */
async function startAgent(
  images: LabImages,
  network: StartedNetwork,
  identity: RunIdentity,
  startTimeoutMs: number,
  agent: { role: string; entry: string; ports: number[] },
): Promise<StartedTestContainer> {
  try {
    return await new LabFacingContainer(images.agent.name)
      .withName(`${identity.networkName}-${agent.role}`)
      .withCommand(['node', agent.entry])
      .withNetwork(network)
      .withNetworkAliases(`lab-${agent.role}`)
      .withLabels({ ...identity.labels, 'io.splitlab.agent': agent.role })
      .withExposedPorts(...agent.ports)
      // Small next to the services: a DNS answer or a batch of spans is little work.
      .withResourcesQuota({ cpu: 0.25, memory: 128 / 1024 })
      .withWaitStrategy(Wait.forHttp('/healthz', agent.ports[0] ?? 0).withReadTimeout(100))
      .withStartupTimeout(startTimeoutMs)
      .start();
  } catch (error) {
    throw new LabError(
      'CONTAINER_START',
      `the lab's ${agent.role} container did not start: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
}

async function startToxiproxy(
  images: LabImages,
  network: StartedNetwork,
  identity: RunIdentity,
  startTimeoutMs: number,
): Promise<StartedToxiProxyContainer> {
  try {
    return await new LabFacingToxiProxyContainer(images.toxiproxy.name)
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
  let container = new LabFacingPostgreSqlContainer(images.postgres.name)
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
