import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Toxiproxy } from 'toxiproxy-node-client';
import { DEFAULTS } from '../../defaults.ts';
import { LabError } from '../../errors.ts';
import { PROJECT_ROOT } from '../../project-root.ts';
import { startTraceCollector, type TraceCollector } from '../../tracing/trace-collector.ts';
import type { LinkName } from '../../vocabulary/topology.ts';
import type { ServiceState } from '../apply-runtime-action.ts';
import { startProcess, type GroupKeeper, type StartedProcess } from '../child-process.ts';
import { startDependencyWatchdog } from '../dependency-watchdog.ts';
import { allDatabases, planWiring, serviceEnvironment, type DeploymentWiring } from '../deployment-wiring.ts';
import { controlInProcess, type DnsControl } from '../dns-control.ts';
import { startDnsServer } from '../dns-server.ts';
import { reapDeadLabsTempDirs } from '../lab-temp-dirs.ts';
import type { LabLog, Runtime, RuntimeStartOptions, StartedDeployment, StartedLab } from '../runtime.ts';
import {
  createServiceLogBook,
  startWiredDeployment,
  type ServiceLogBook,
} from '../start-wired-deployment.ts';
import { stopCalmly } from '../stop-calmly.ts';
import { createLink, removeLink, type CreatedLink } from '../toxiproxy-links.ts';
import { planCpuPinning } from './cpu-pinning.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { startLifeline } from './lifeline.ts';
import { locateToxiproxy } from './toxiproxy-binary.ts';
import { startToxiproxyServer } from './toxiproxy-server.ts';

const SERVICES_DIR = path.join(PROJECT_ROOT, 'services');
const LOOPBACK = '127.0.0.1';

export interface LocalRuntimeOptions {
  /** Install toxiproxy-server with `go install` when it is missing (default true). */
  installTools?: boolean;
  /** Extra environment for every service, e.g. a cheaper SCRYPT_N in tests. */
  serviceEnv?: Record<string, string>;
  /** Default: DEFAULTS.startTimeoutMs.local. */
  startTimeoutMs?: number;
  /** Give each split service its own half of the CPUs (default true; see cpu-pinning.ts). */
  pinCpus?: boolean;
}

/**
 * The default runtime: services as child processes on loopback ports, PostgreSQL from
 * `embedded-postgres`, the real `toxiproxy-server`, the lab's DNS server and its trace collector on
 * loopback. Needs no Docker.
 *
 * @example
 *   await using lab = await localRuntime().start({ log: console.log });
 *   await using monolith = await lab.startDeployment('monolith');
 */
export function localRuntime(options: LocalRuntimeOptions = {}): Runtime {
  return {
    name: 'local',
    start: (startOptions) => startLocalLab(options, startOptions),
  };
}

async function startLocalLab(
  options: LocalRuntimeOptions,
  { log, traceForwarding }: RuntimeStartOptions,
): Promise<StartedLab> {
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULTS.startTimeoutMs.local;
  // What a lab that died (kill -9) left: its processes died with its lifeline, its directories remain.
  await reapDeadLabsTempDirs(log);
  const teardown = new AsyncDisposableStack();
  try {
    const binary = await locateToxiproxy(PROJECT_ROOT, { install: options.installTools ?? true, log });
    // Cut last: every child is stopped in order first; what is still held then dies with the lifeline.
    const lifeline = teardown.use(await startLifeline());
    const toxiproxy = teardown.use(await startToxiproxyServer(binary, { lifeline }));
    const postgres = teardown.use(await startEmbeddedPostgres(allDatabases(), { lifeline }));
    const inProcessDns = teardown.use(await startDnsServer());
    const dnsServer = controlInProcess(inProcessDns, `the lab's process, udp ${inProcessDns.address}`);
    // Before the deployments' stop is registered, so it stops after them and their last spans land.
    const traces = teardown.use(await startTraceCollector({ host: LOOPBACK, forwardTo: traceForwarding }));
    const cpuPinning = options.pinCpus === false ? undefined : planCpuPinning();
    const deployments = new Set<StartedDeployment>();
    teardown.defer(async () => {
      for (const deployment of deployments) await deployment.stop();
    });
    const watchdog = startDependencyWatchdog();
    watchdog.watch(`toxiproxy-server (pid ${toxiproxy.process.pid})`, toxiproxy.process.ended);
    watchdog.watch(`PostgreSQL (postmaster pid ${postgres.server.pid})`, postgres.server.ended);
    watchdog.watch(`the lab's DNS server (udp ${inProcessDns.address})`, inProcessDns.lost);
    watchdog.poll(`toxiproxy-server's API (${toxiproxy.apiUrl})`, async (signal) => {
      const response = await fetch(`${toxiproxy.apiUrl}/version`, { signal });
      await response.body?.cancel();
    });
    // Registered last, so it runs first: stopping the dependencies on purpose is no death.
    teardown.defer(() => watchdog.standDown());
    const stop = stopCalmly(teardown, {
      log,
      what: 'the local lab',
      leftovers: async () => [
        ...[toxiproxy.process, postgres.server]
          .filter((child) => child.isRunning())
          .map((child) => `${child.name} (pid ${child.pid})`),
        ...(existsSync(postgres.dataDir) ? [postgres.dataDir] : []),
      ],
    });
    return {
      runtime: 'local',
      details: {
        toxiproxy: binary,
        toxiproxyApi: toxiproxy.apiUrl,
        postgres: `embedded-postgres 18 on ${postgres.host}:${postgres.port}`,
        dns: `lab DNS server on udp ${dnsServer.address}`,
        traces: `OTLP/HTTP receiver on ${traces.endpoint}`,
        loadGenerator: "the lab's process, on this machine's loopback",
        node: process.version,
        cpuPinning: cpuPinning
          ? Object.entries(cpuPinning)
              .map(([service, cpus]) => `${service} on CPU ${cpus}`)
              .join(', ')
          : 'none (one CPU or no taskset): services share every CPU',
      },
      startDeployment: async (deployment, deploymentOptions) => {
        const wiring = planWiring(deployment);
        // A fresh start for every deployment (and every variant of one): no rows of an earlier run.
        await postgres.recreateDatabases(wiring.databases);
        const started = await startLocalDeployment({
          wiring,
          settings: deploymentOptions?.settings ?? {},
          tracing: deploymentOptions?.tracing ?? true,
          toxiproxy: toxiproxy.client,
          postgresUrl: (database, via) => postgres.urlFor(database, via),
          dnsServer,
          traces,
          cpuPinning,
          serviceEnv: options.serviceEnv ?? {},
          startTimeoutMs,
          log,
          lifeline,
        });
        // A deployment's stop is idempotent, so the lab may stop it again on its way out.
        deployments.add(started);
        return started;
      },
      failed: watchdog.failed,
      traces,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await teardown.disposeAsync();
    throw error;
  }
}

interface DeploymentContext {
  wiring: DeploymentWiring;
  toxiproxy: Toxiproxy;
  postgresUrl: (database: string, via?: { host: string; port: number }) => string;
  dnsServer: DnsControl;
  traces: TraceCollector;
  /** False: an empty OTEL_EXPORTER_OTLP_ENDPOINT, which turns the services' tracing off. */
  tracing: boolean;
  cpuPinning: Record<string, string> | undefined;
  serviceEnv: Record<string, string>;
  /** The variant's settings, applied to every service after the lab's own environment. */
  settings: Record<string, string>;
  startTimeoutMs: number;
  log: LabLog;
  lifeline: GroupKeeper;
}

async function startService(
  context: DeploymentContext,
  service: string,
  env: Record<string, string>,
  logs: ServiceLogBook,
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
      // After the settings: the lab reads every span from its own collector (it forwards them on).
      OTEL_EXPORTER_OTLP_ENDPOINT: context.tracing ? context.traces.endpoint : '',
      OTEL_SERVICE_NAME: service,
      ...env,
    },
    cwd: PROJECT_ROOT,
    onStderrLine: (line) => logs.add(service, line),
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
    lifeline: context.lifeline,
  });
  return { process: started, port: ready };
}

async function startLocalDeployment(context: DeploymentContext): Promise<StartedDeployment> {
  const { wiring, toxiproxy, dnsServer } = context;
  const teardown = new AsyncDisposableStack();
  const links = new Map<LinkName, CreatedLink>();
  // Each service remembers how it was started, so a crash can be undone by starting it again on the
  // same port: the proxies in front of it keep pointing at the right place.
  const services = new Map<string, { port: number; env: Record<string, string>; process: StartedProcess }>();
  // One book for the deployment's life: a restarted service writes on after the crashed one.
  const logs = createServiceLogBook(wiring.services.map((service) => service.name));
  const created = (name: LinkName): CreatedLink => {
    const link = links.get(name);
    if (!link) throw new Error(`bug: link ${name} not created in ${wiring.deployment}`);
    return link;
  };
  const running = (name: string) => {
    const service = services.get(name);
    if (!service) throw new Error(`bug: no process for ${name}`);
    return service;
  };
  const link = async (name: LinkName, upstreamPort: number): Promise<void> => {
    links.set(name, await createLink(toxiproxy, name, `${LOOPBACK}:0`, `${LOOPBACK}:${upstreamPort}`));
    teardown.defer(() => removeLink(toxiproxy, name));
  };
  // Stops whichever process currently runs each service (the original or a restarted one). A stalled
  // one is thawed first: a frozen process would only take the SIGTERM once thawed.
  // Set once the deployment stops: a deploy under way then starts no new process (nothing would stop it).
  let stopping = false;
  teardown.defer(async () => {
    stopping = true;
    await Promise.all(
      [...services.values()].map((service) => {
        signalIfRunning(service.process, 'SIGCONT');
        return service.process.stop();
      }),
    );
  });

  return await startWiredDeployment({
    wiring,
    teardown,
    toxiproxy,
    dnsServer,
    startTimeoutMs: context.startTimeoutMs,
    start: async () => {
      const postgresPort = Number(new URL(context.postgresUrl('postgres')).port);
      // Every link listens on loopback, so a service name resolves to loopback and the port picks the link.
      for (const record of wiring.dnsRecords) await dnsServer.setRecord(record.name, { address: LOOPBACK });
      // Loopback ports are known only once something listens: each service's database link first, then
      // the service, then the links in front of it, which its callers are told about.
      for (const service of wiring.services) {
        await link(service.database.link, postgresPort);
        const env = serviceEnvironment(service, {
          databaseUrl: (via, database) =>
            context.postgresUrl(database, { host: LOOPBACK, port: created(via).port }),
          linkPort: (name) => created(name).port,
          dnsServer: dnsServer.address,
        });
        const { process: started, port } = await startService(context, service.name, env, logs);
        services.set(service.name, { port, env, process: started });
        for (const inFront of [...service.edgeLinks, ...service.callerLinks]) await link(inFront, port);
      }
    },
    log: context.log,
    logs,
    leftovers: async () =>
      [...services.entries()]
        .filter(([, service]) => service.process.isRunning())
        .map(([name, service]) => `${name} (pid ${service.process.pid})`),
    edgeUrl: (name) => `http://${created(name).listen}`,
    metricsUrl: (name) => `http://${LOOPBACK}:${running(name).port}/metrics`,
    auditUrl: (database) => context.postgresUrl(database),
    resources: (name) => {
      const cpus = context.cpuPinning?.[name];
      return cpus ? `CPU ${cpus} (taskset), no memory limit` : 'all CPUs, no memory limit';
    },
    serviceState: async (name): Promise<ServiceState> => {
      const { process: current } = running(name);
      if (!current.isRunning())
        return { running: false, stalled: false, evidence: `pid ${current.pid} ${await current.ended}` };
      const state = await processState(current.pid);
      return {
        running: true,
        stalled: state === 'T',
        evidence: `pid ${current.pid} running, /proc state ${state ?? 'unreadable'}`,
      };
    },
    stall: async (name) => {
      // The pid is node's own (node is spawned directly, or exec'd in place by taskset), so the signal
      // freezes the service and not a wrapper.
      const frozen = running(name).process;
      signalIfRunning(frozen, 'SIGSTOP');
      return async () => signalIfRunning(frozen, 'SIGCONT');
    },
    redeploy: async (name, { version, drainMs }) => {
      const service = running(name);
      const old = service.process;
      const startedAtMs = performance.now();
      // A stalled process cannot drain; thawed, it takes the SIGTERM as any other.
      signalIfRunning(old, 'SIGCONT');
      await old.stop(drainMs);
      const stoppedAfterMs = performance.now() - startedAtMs;
      const oldEnded = await old.ended;
      // The version stays in the service's environment, so a later crash restarts the deployed one.
      const env = version ? { ...service.env, SERVICE_VERSION: version } : service.env;
      const notNow = (): LabError =>
        new LabError(
          'INTERRUPTED',
          `deploy of ${name} stopped: the ${wiring.deployment} deployment is stopping`,
        );
      if (stopping) throw notNow();
      const { process: next } = await startService(
        context,
        name,
        { ...env, PORT: String(service.port) },
        logs,
      );
      if (stopping) {
        await next.stop();
        throw notNow();
      }
      service.process = next;
      service.env = env;
      return { stoppedAfterMs, drained: !oldEnded.includes('SIGKILL'), oldEnded };
    },
    kill: async (name) => {
      const service = running(name);
      await service.process.kill();
      // Started again on the same port: the proxies in front of it keep pointing at the right place.
      return async () => {
        const { process: again } = await startService(
          context,
          name,
          { ...service.env, PORT: String(service.port) },
          logs,
        );
        service.process = again;
      };
    },
  });
}

/** Sends a signal unless the process is gone already (then there is nothing to freeze or thaw). */
function signalIfRunning(child: StartedProcess, signal: NodeJS.Signals): void {
  if (!child.isRunning()) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // ESRCH: it ended between the check and the signal
  }
}

/** The state letter of /proc/<pid>/stat (`R`, `S`, `T` stopped, ...), after the command name in parentheses. */
async function processState(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}
