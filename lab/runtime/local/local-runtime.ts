import path from 'node:path';
import { startProcess, type StartedProcess } from '../child-process.ts';
import { startDnsServer, type StartedDnsServer } from '../dns-server.ts';
import { LabError } from '../../errors.ts';
import { PROJECT_ROOT } from '../../project-root.ts';
import { waitForHealthy } from '../health.ts';
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
  ROUTE_TARGETS,
  linksOf,
  type LinkName,
} from '../../vocabulary/topology.ts';
import { applyRuntimeAction, deploymentDatabases } from '../apply-runtime-action.ts';
import { createLink, removeLink, type CreatedLink } from '../toxiproxy-links.ts';
import { planCpuPinning } from './cpu-pinning.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { locateToxiproxy } from './toxiproxy-binary.ts';
import { startToxiproxyServer } from './toxiproxy-server.ts';

export { PROJECT_ROOT };
const SERVICES_DIR = path.join(PROJECT_ROOT, 'services');
const LOOPBACK = '127.0.0.1';

export interface LocalRuntimeOptions {
  /** Install toxiproxy-server with `go install` when it is missing (default true). */
  installTools?: boolean;
  /** Extra environment for every service, e.g. a cheaper SCRYPT_N in tests. */
  serviceEnv?: Record<string, string>;
  startTimeoutMs?: number;
  /** Give each split service its own half of the CPUs (default true; see cpu-pinning.ts). */
  pinCpus?: boolean;
}

/**
 * The default runtime: services as child processes on loopback ports, PostgreSQL from
 * `embedded-postgres`, the real `toxiproxy-server`, and the lab's DNS server. Needs no Docker.
 *
 * @example
 *   await using lab = await localRuntime().start({ log: console.log });
 *   await using monolith = await lab.startDeployment('monolith');
 */
export function localRuntime(options: LocalRuntimeOptions = {}): Runtime {
  return {
    name: 'local',
    start: (startOptions) => startLocalLab(options, startOptions.log),
  };
}

async function startLocalLab(options: LocalRuntimeOptions, log: LabLog): Promise<StartedLab> {
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const teardown = new AsyncDisposableStack();
  try {
    const binary = await locateToxiproxy(PROJECT_ROOT, { install: options.installTools ?? true, log });
    const toxiproxy = teardown.use(await startToxiproxyServer(binary));
    const postgres = teardown.use(await startEmbeddedPostgres(['monolith', 'signup', 'payment']));
    const dnsServer = teardown.use(await startDnsServer());
    const cpuPinning = options.pinCpus === false ? undefined : planCpuPinning();
    const deployments = new Set<StartedDeployment>();
    teardown.defer(async () => {
      for (const deployment of deployments) await deployment.stop();
    });
    const stop = stopOnce(teardown);
    return {
      runtime: 'local',
      details: {
        toxiproxy: binary,
        toxiproxyApi: toxiproxy.apiUrl,
        postgres: `embedded-postgres 18 on ${postgres.host}:${postgres.port}`,
        dns: `lab DNS server on udp ${dnsServer.address}`,
        node: process.version,
        cpuPinning: cpuPinning
          ? Object.entries(cpuPinning)
              .map(([service, cpus]) => `${service} on CPU ${cpus}`)
              .join(', ')
          : 'none (one CPU or no taskset): services share every CPU',
      },
      startDeployment: async (deployment, deploymentOptions) => {
        // A fresh start for every deployment (and every variant of one): no rows of an earlier run.
        await postgres.recreateDatabases(deployment === 'monolith' ? ['monolith'] : ['signup', 'payment']);
        const started = await startLocalDeployment({
          deployment,
          settings: deploymentOptions?.settings ?? {},
          toxiproxy: toxiproxy.client,
          postgresUrl: (database, via) => postgres.urlFor(database, via),
          dnsServer,
          cpuPinning,
          serviceEnv: options.serviceEnv ?? {},
          startTimeoutMs,
          log,
        });
        // A deployment's stop is idempotent, so the lab may stop it again on its way out.
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

interface DeploymentContext {
  deployment: DeploymentName;
  toxiproxy: import('toxiproxy-node-client').Toxiproxy;
  postgresUrl: (database: string, via?: { host: string; port: number }) => string;
  dnsServer: StartedDnsServer;
  cpuPinning: Record<string, string> | undefined;
  serviceEnv: Record<string, string>;
  /** The variant's settings, applied to every service after the lab's own environment. */
  settings: Record<string, string>;
  startTimeoutMs: number;
  log: LabLog;
}

async function startService(
  context: DeploymentContext,
  service: string,
  env: Record<string, string>,
): Promise<{ process: StartedProcess; port: number }> {
  const cpus = context.cpuPinning?.[service];
  const entryPoint = [process.execPath, path.join(SERVICES_DIR, `${service}.ts`)];
  const { process: started, ready } = await startProcess({
    name: service,
    // taskset execs node in place, so the pid we hold is the service's own.
    command: cpus ? 'taskset' : process.execPath,
    args: cpus ? ['--cpu-list', cpus, ...entryPoint] : entryPoint.slice(1),
    env: {
      HOST: LOOPBACK,
      PORT: '0',
      SERVICE_NAME: service,
      ...context.serviceEnv,
      ...context.settings,
      ...env,
    },
    cwd: PROJECT_ROOT,
    readyWhen: (line) => {
      if (!line.startsWith('{')) return undefined;
      try {
        const event = JSON.parse(line) as { event?: string; port?: number };
        return event.event === 'listening' && typeof event.port === 'number' ? event.port : undefined;
      } catch {
        return undefined;
      }
    },
    timeoutMs: context.startTimeoutMs,
  });
  return { process: started, port: ready };
}

async function startLocalDeployment(context: DeploymentContext): Promise<StartedDeployment> {
  const { deployment, toxiproxy } = context;
  const teardown = new AsyncDisposableStack();
  const links = new Map<LinkName, CreatedLink>();
  // Each service remembers how it was started, so a crash can be undone by starting it again on the
  // same port: the proxies in front of it keep pointing at the right place.
  const services = new Map<string, { port: number; env: Record<string, string>; process: StartedProcess }>();
  const link = async (name: LinkName, upstreamPort: number): Promise<CreatedLink> => {
    const created = await createLink(toxiproxy, name, `${LOOPBACK}:0`, `${LOOPBACK}:${upstreamPort}`);
    teardown.defer(() => removeLink(toxiproxy, name));
    links.set(name, created);
    return created;
  };
  const postgresPort = Number(new URL(context.postgresUrl('postgres')).port);
  const spawnService = async (name: string, env: Record<string, string>): Promise<number> => {
    const { process: started, port } = await startService(context, name, env);
    services.set(name, { port, env, process: started });
    return port;
  };
  // Stops whichever process currently runs each service (the original or a restarted one).
  teardown.defer(async () => {
    await Promise.all([...services.values()].map((service) => service.process.stop()));
  });
  const healthUrl = (service: string, port: number): { name: string; url: string } => {
    const edge = [...links.values()].find(
      (candidate) => candidate.upstream.endsWith(`:${port}`) && candidate.name.startsWith('edge-'),
    );
    return {
      name: `${service} (via ${edge?.name ?? 'direct'})`,
      url: `http://${edge?.listen ?? `${LOOPBACK}:${port}`}/healthz`,
    };
  };

  try {
    if (deployment === 'monolith') {
      const db = await link('monolith-db', postgresPort);
      const port = await spawnService('monolith', {
        DATABASE_URL: context.postgresUrl('monolith', { host: LOOPBACK, port: db.port }),
      });
      await link('edge-monolith', port);
    } else {
      const paymentDb = await link('payment-db', postgresPort);
      const paymentPort = await spawnService('payment-service', {
        DATABASE_URL: context.postgresUrl('payment', { host: LOOPBACK, port: paymentDb.port }),
      });
      await link('edge-payment', paymentPort);
      const paymentApi = await link('payment-api', paymentPort);
      // Signup-service finds payment-service by name, through the lab's DNS server.
      context.dnsServer.setRecord('payment-service', { address: LOOPBACK });
      const signupDb = await link('signup-db', postgresPort);
      const signupPort = await spawnService('signup-service', {
        DATABASE_URL: context.postgresUrl('signup', { host: LOOPBACK, port: signupDb.port }),
        PAYMENT_URL: `http://payment-service:${paymentApi.port}`,
        DNS_SERVER: context.dnsServer.address,
      });
      await link('edge-signup', signupPort);
    }
    const missing = linksOf(deployment).filter((name) => !links.has(name));
    if (missing.length > 0)
      throw new Error(`bug: links not created for ${deployment}: ${missing.join(', ')}`);

    // Health through the edge proxies: proves each service, its database link and its edge link work.
    await waitForHealthy(
      [...services].map(([name, service]) => healthUrl(name, service.port)),
      context.startTimeoutMs,
    );
  } catch (error) {
    await teardown.disposeAsync();
    throw error instanceof LabError
      ? error
      : new LabError('STARTUP_TIMEOUT', `${deployment} did not start: ${String(error)}`, { cause: error });
  }

  const stop = stopOnce(teardown);
  const routeUrl = (route: RouteName): string => {
    const target = ROUTE_TARGETS[deployment][route];
    const edge = links.get(target.link);
    if (!edge) throw new Error(`bug: no edge link ${target.link} in ${deployment}`);
    return `http://${edge.listen}${target.path}`;
  };
  return {
    deployment,
    routeUrl,
    services: [...services].map(([name, service]) => ({
      name,
      metricsUrl: `http://${LOOPBACK}:${service.port}/metrics`,
    })),
    databases: deploymentDatabases(deployment, (database) => context.postgresUrl(database)),
    resources: Object.fromEntries(
      [...services.keys()].map((name) => {
        const cpus = context.cpuPinning?.[name];
        return [name, cpus ? `CPU ${cpus} (taskset), no memory limit` : 'all CPUs, no memory limit'];
      }),
    ),
    dnsQueryCount: (name) => context.dnsServer.queryCount(name),
    apply: (action: RuntimeAction): Promise<Undo> =>
      applyRuntimeAction(
        {
          deployment,
          links: new Set(links.keys()),
          toxiproxy,
          dnsServer: context.dnsServer,
          services: new Set(services.keys()),
          kill: async (name) => {
            const service = services.get(name);
            if (!service) throw new Error(`bug: no process for ${name}`);
            await service.process.kill();
            // Started again on the same port: the proxies in front of it keep pointing at the right place.
            return async () => {
              const { process: again } = await startService(context, name, {
                ...service.env,
                PORT: String(service.port),
              });
              service.process = again;
              await waitForHealthy([healthUrl(name, service.port)], context.startTimeoutMs);
            };
          },
        },
        action,
      ),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
