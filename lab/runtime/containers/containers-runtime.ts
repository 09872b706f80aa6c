import { DEFAULTS } from '../../defaults.ts';
import { DEFAULT_QUOTAS, describeQuota, type QuotaOverrides } from '../../vocabulary/quotas.ts';
import type { LinkName } from '../../vocabulary/topology.ts';
import { startDependencyWatchdog } from '../dependency-watchdog.ts';
import { planWiring, serviceEnvironment, type DeploymentWiring } from '../deployment-wiring.ts';
import { reapDeadLabsTempDirs } from '../lab-temp-dirs.ts';
import { postgresUrl, recreateDatabases } from '../postgres-admin.ts';
import {
  DEFAULT_GENERATOR_PLACEMENT,
  type GeneratorPlacement,
  type LabLog,
  type Runtime,
  type RuntimeStartOptions,
  type StartedDeployment,
  type StartedLab,
} from '../runtime.ts';
import { createServiceLogBook, startWiredDeployment } from '../start-wired-deployment.ts';
import { stopCalmly } from '../stop-calmly.ts';
import { createLink, removeLink } from '../toxiproxy-links.ts';
import { allStarted } from './all-started.ts';
import { connectDocker, LOOPBACK } from './docker.ts';
import { POSTGRES_USER } from './image-recipes.ts';
import { startInfrastructure, type Infrastructure } from './infrastructure.ts';
import { LAB_LABEL, newRunIdentity, reapLeftovers, RUN_LABEL, type RunIdentity } from './labels.ts';
import { LINK_PORTS, TOXIPROXY_ALIAS, upstreamOf } from './network-addresses.ts';
import { describeImage, resolveLabImages, type ImageSource } from './resolve-images.ts';
import {
  killServiceContainer,
  pauseServiceContainer,
  redeployServiceContainer,
  serviceContainerState,
  startServiceContainer,
  type RunningService,
  type ServiceContainerOptions,
} from './service-containers.ts';
import { watchInfrastructure } from './watch-infrastructure.ts';
import { startGeneratorContainer } from './generator-container.ts';

export interface ContainersRuntimeOptions {
  /** Extra environment for every service, e.g. a cheaper SCRYPT_N in tests. */
  serviceEnv?: Record<string, string>;
  /** Default: DEFAULTS.startTimeoutMs.containers. */
  startTimeoutMs?: number;
  /** Quotas over the defaults of lab/vocabulary/quotas.ts for every deployment (a scenario can override again). */
  quotas?: QuotaOverrides;
  imageSource?: ImageSource;
  /**
   * Where the load generator runs: `network`, a container on the lab network next to the system;
   * `host`, the lab's process, through the ports the engine publishes; `auto` (default), `network` for
   * an engine on another machine and `host` for one on this machine.
   */
  generator?: GeneratorPlacement;
}

/**
 * The topology in Docker through testcontainers: one network, Toxiproxy and PostgreSQL containers, and
 * each service in its own container with its own CPU and memory quota. Images are the official ones when
 * the engine has them or can pull them, otherwise equivalents built locally (lab/runtime/containers/image-recipes.ts).
 *
 * @example
 *   await using lab = await containersRuntime().start({ log: console.log });
 *   await using split = await lab.startDeployment('split', { quotas: { 'payment-service': { cpu: 0.5 } } });
 */
export function containersRuntime(options: ContainersRuntimeOptions = {}): Runtime {
  return {
    name: 'containers',
    start: (startOptions) => startContainersLab(options, startOptions),
  };
}

async function startContainersLab(
  options: ContainersRuntimeOptions,
  { log, traceForwarding }: RuntimeStartOptions,
): Promise<StartedLab> {
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULTS.startTimeoutMs.containers;
  const client = await connectDocker();
  await reapLeftovers(client, log);
  await reapDeadLabsTempDirs(log);
  const images = await resolveLabImages(client, {
    log,
    ...(options.imageSource ? { source: options.imageSource } : {}),
  });
  const identity = newRunIdentity();
  const teardown = new AsyncDisposableStack();
  try {
    const infrastructure = await startInfrastructure({
      client,
      images,
      identity,
      startTimeoutMs,
      teardown,
      traceForwarding,
    });
    const { network, dnsServer, traces } = infrastructure;
    const placement = options.generator ?? DEFAULT_GENERATOR_PLACEMENT;
    const engineIsRemote = infrastructure.engineAddress !== LOOPBACK;
    const generator =
      placement === 'network' || (placement === 'auto' && engineIsRemote)
        ? await startGeneratorContainer({
            client,
            image: images.agent.name,
            network,
            identity,
            startTimeoutMs,
            teardown,
          })
        : undefined;
    const deployments = new Set<StartedDeployment>();
    teardown.defer(async () => {
      for (const deployment of deployments) await deployment.stop();
    });
    const watchdog = startDependencyWatchdog();
    const stopWatching = await watchInfrastructure(watchdog, infrastructure, generator);
    // Registered last, so it runs first: stopping the containers on purpose is no death.
    teardown.defer(() => {
      watchdog.standDown();
      stopWatching();
    });
    const stop = stopCalmly(teardown, {
      log,
      what: 'the containers lab',
      leftovers: () => labLeftovers(client, identity),
    });
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
        agentImage: describeImage(images.agent),
        engineAddress: `${infrastructure.engineAddress} (where the lab reaches every published port)`,
        dns: `lab DNS server on udp ${dnsServer.address} (${dnsServer.where})`,
        traces: `services export to the trace relay ${infrastructure.traceRelayEndpoint}; the lab moves each batch to its OTLP/HTTP receiver on ${traces.endpoint}`,
        toxiproxyApi: infrastructure.toxiproxyClient.host,
        loadGenerator: `${generator?.where ?? "the lab's process, through the ports the engine publishes"} (--generator ${placement}${
          placement === 'auto'
            ? `: the engine is ${engineIsRemote ? 'on another machine' : 'on this one'}`
            : ''
        })`,
        quotas: `defaults ${Object.entries(DEFAULT_QUOTAS)
          .map(([service, quota]) => `${service} ${describeQuota(quota)}`)
          .join('; ')}; each deployment's own are under Services per phase`,
      },
      startDeployment: async (deployment, deploymentOptions) => {
        const wiring = planWiring(deployment);
        await recreateDatabases(infrastructure.postgresFromHost, wiring.databases);
        const started = await startContainersDeployment(wiring, {
          infrastructure,
          settings: deploymentOptions?.settings ?? {},
          tracing: deploymentOptions?.tracing ?? true,
          quotas: mergeQuotas(options.quotas, deploymentOptions?.quotas),
          serviceEnv: options.serviceEnv ?? {},
          startTimeoutMs,
          log,
          logs: createServiceLogBook(wiring.services.map((service) => service.name)),
        });
        deployments.add(started);
        return started;
      },
      failed: watchdog.failed,
      traces,
      ...(generator ? { generator } : {}),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await teardown.disposeAsync();
    throw error;
  }
}

interface DeploymentContext extends ServiceContainerOptions {
  infrastructure: Infrastructure;
  log: LabLog;
}

/** What of this run is still in Docker: its containers (by the run's label) and its network. */
async function labLeftovers(client: Infrastructure['client'], identity: RunIdentity): Promise<string[]> {
  const docker = client.container.dockerode;
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LAB_LABEL}=true`, `${RUN_LABEL}=${identity.runId}`] },
  });
  const networks = await docker.listNetworks({ filters: { name: [identity.networkName] } });
  return [
    ...containers.map((container) => `container ${container.Names[0]?.replace(/^\//, '') ?? container.Id}`),
    ...networks.map((network) => `network ${network.Name}`),
  ];
}

function mergeQuotas(base: QuotaOverrides = {}, extra: QuotaOverrides = {}): QuotaOverrides {
  const merged: QuotaOverrides = { ...base };
  for (const [service, quota] of Object.entries(extra)) merged[service] = { ...base[service], ...quota };
  return merged;
}

/**
 * Every link listens on its fixed port on the Toxiproxy container, so every address is known before
 * anything starts: all links first, then every service at once.
 */
async function startContainersDeployment(
  wiring: DeploymentWiring,
  context: DeploymentContext,
): Promise<StartedDeployment> {
  const { infrastructure } = context;
  const { toxiproxy, dnsServer } = infrastructure;
  const client = infrastructure.toxiproxyClient;
  const teardown = new AsyncDisposableStack();
  const services = new Map<string, RunningService>();
  const running = (name: string): RunningService => {
    const service = services.get(name);
    if (!service) throw new Error(`bug: no container for ${name}`);
    return service;
  };
  const addresses = {
    databaseUrl: (link: LinkName, database: string) =>
      postgresUrl(
        {
          host: TOXIPROXY_ALIAS,
          port: LINK_PORTS[link],
          user: POSTGRES_USER,
          password: infrastructure.postgresPassword,
        },
        database,
      ),
    linkPort: (link: LinkName) => LINK_PORTS[link],
    dnsServer: dnsServer.address,
  };
  return await startWiredDeployment({
    wiring,
    teardown,
    toxiproxy: client,
    dnsServer,
    startTimeoutMs: context.startTimeoutMs,
    start: async () => {
      for (const link of wiring.links) {
        await createLink(client, link, `0.0.0.0:${LINK_PORTS[link]}`, upstreamOf(link));
        teardown.defer(() => removeLink(client, link));
      }
      // A service finds another through the lab's DNS server, which sends it to the Toxiproxy container,
      // where the link in between listens.
      for (const record of wiring.dnsRecords)
        await dnsServer.setRecord(record.name, { address: infrastructure.toxiproxyAddress });
      await allStarted(
        wiring.services.map(async (service) => {
          const env = serviceEnvironment(service, addresses);
          services.set(service.name, await startServiceContainer(context, service.name, env, teardown));
        }),
      );
    },
    edgeUrl: (link) => `http://${infrastructure.engineAddress}:${toxiproxy.getMappedPort(LINK_PORTS[link])}`,
    edgeUrlInNetwork: (link) => `http://${TOXIPROXY_ALIAS}:${LINK_PORTS[link]}`,
    metricsUrl: (name) => `http://${infrastructure.engineAddress}:${running(name).hostPort}/metrics`,
    auditUrl: (database) => postgresUrl(infrastructure.postgresFromHost, database),
    resources: (name) => running(name).quota,
    kill: (name) => killServiceContainer(infrastructure.client, running(name)),
    serviceState: (name) => serviceContainerState(infrastructure.client, running(name)),
    stall: (name) => pauseServiceContainer(infrastructure.client, running(name)),
    redeploy: (name, options) => redeployServiceContainer(context, name, running(name), options),
    log: context.log,
    logs: context.logs,
    leftovers: async () => {
      const docker = infrastructure.client.container.dockerode;
      const ids = [...services.values()].flatMap((service) => [service.container, service.sandbox]);
      const present = await Promise.all(
        ids.map((container) =>
          docker
            .getContainer(container.getId())
            .inspect()
            .then(
              () => [`container ${container.getName().replace(/^\//, '')}`],
              () => [],
            ),
        ),
      );
      return present.flat();
    },
  });
}
