import type { Toxiproxy } from 'toxiproxy-node-client';
import { LabError } from '../errors.ts';
import { ROUTE_TARGETS, type LinkName, type RouteName } from '../vocabulary/topology.ts';
import type { ServiceVersion } from '../../services/runtime/service-version.ts';
import {
  applyRuntimeAction,
  describeDeploy,
  observeRuntimeAction,
  type DeployReport,
  type RunningVersion,
  type RuntimeActionTarget,
  type ServiceState,
} from './apply-runtime-action.ts';
import type { DeploymentWiring } from './deployment-wiring.ts';
import type { DnsControl } from './dns-control.ts';
import { waitForHealthy } from './health.ts';
import type { LabLog, RuntimeAction, ServiceLogLine, StartedDeployment, Undo } from './runtime.ts';
import { stopCalmly } from './stop-calmly.ts';

/** What a runtime supplies to run a planned deployment: its own start, and addresses. */
export interface DeploymentParts {
  wiring: DeploymentWiring;
  /** Everything the start creates registers its undo here; a start that fails disposes it at once. */
  teardown: AsyncDisposableStack;
  toxiproxy: Toxiproxy;
  dnsServer: DnsControl;
  startTimeoutMs: number;
  /** Creates the links and starts the services: everything up to the health check. */
  start(): Promise<void>;
  /** `http://host:port` where an edge link listens for the load generator. */
  edgeUrl(link: LinkName): string;
  /** The same, as a load generator inside the runtime's own network reaches it (containers runtime). */
  edgeUrlInNetwork?(link: LinkName): string;
  /** Direct (not proxied) URL of a service's /metrics. */
  metricsUrl(service: string): string;
  /** Direct connection string of a database, for the audit. */
  auditUrl(database: string): string;
  /** What a service may use, as the report shows it. */
  resources(service: string): string;
  /** Kills the service (SIGKILL) and returns how to start it again; waiting for health is done here. */
  kill(service: string): Promise<() => Promise<void>>;
  /** The service's process (local) or container (containers) state, for `observe`. */
  serviceState(service: string): Promise<ServiceState>;
  /** Freezes the service (SIGSTOP / docker pause) and returns how to thaw it. */
  stall(service: string): Promise<() => Promise<void>>;
  /**
   * Stops the service's current process or container with SIGTERM, SIGKILL after `drainMs`, and starts a
   * new one with SERVICE_VERSION=`version` (unchanged when not given) on the same address; waiting for
   * health is done here. Later crashes, stalls and deploys act on the new one.
   */
  redeploy(
    service: string,
    options: { version?: ServiceVersion; drainMs: number },
  ): Promise<{ stoppedAfterMs: number; drained: boolean; oldEnded: string }>;
  /** Where a teardown that went wrong says so, once. */
  log: LabLog;
  /** What of the deployment is still there: named in that one line. */
  leftovers(): Promise<string[]>;
  /** Where the runtime puts each stderr line its services write, across restarts. */
  logs: ServiceLogBook;
}

/**
 * Lines kept per service. Services log only what goes wrong, throttled (services/runtime/log.ts), so a
 * run writes hundreds; the cap bounds memory when one logs in a loop (about 300 bytes a line).
 */
export const SERVICE_LOG_LINES_KEPT = 20_000;

/** The stderr lines of one deployment's services: the first SERVICE_LOG_LINES_KEPT of each, the rest counted. */
export interface ServiceLogBook {
  add(service: string, line: string): void;
  lines(): ServiceLogLine[];
  /** Per service: lines beyond the cap, which were counted and not kept. */
  dropped(): Record<string, number>;
}

/**
 * @example
 *   const logs = createServiceLogBook(['payment-service', 'signup-service']);
 *   logs.add('payment-service', '{"time":"…","event":"stopping"}');
 */
export function createServiceLogBook(
  services: readonly string[],
  keptPerService = SERVICE_LOG_LINES_KEPT,
): ServiceLogBook {
  // One list in arrival order, so the services' lines stay interleaved as they happened.
  const kept: ServiceLogLine[] = [];
  const counts = new Map<string, { kept: number; dropped: number }>(
    services.map((service) => [service, { kept: 0, dropped: 0 }]),
  );
  return {
    add: (service, line) => {
      let count = counts.get(service);
      if (!count) counts.set(service, (count = { kept: 0, dropped: 0 }));
      if (count.kept >= keptPerService) {
        count.dropped += 1;
        return;
      }
      count.kept += 1;
      kept.push({ service, line });
    },
    lines: () => [...kept],
    dropped: () => Object.fromEntries([...counts].map(([service, count]) => [service, count.dropped])),
  };
}

/**
 * Starts a planned deployment with a runtime's parts and waits until every service is healthy through
 * its edge link. A start that fails removes whatever it created and throws a LabError (STARTUP_TIMEOUT
 * unless the failure already was one).
 *
 * @example
 *   const teardown = new AsyncDisposableStack();
 *   return await startWiredDeployment({ wiring: planWiring('split'), teardown, start, edgeUrl, ... });
 */
export async function startWiredDeployment(parts: DeploymentParts): Promise<StartedDeployment> {
  const { wiring, teardown } = parts;
  const { deployment } = wiring;
  const healthOf = (services: readonly string[]): { name: string; url: string }[] =>
    wiring.health
      .filter((check) => services.includes(check.service))
      .map((check) => ({ name: check.name, url: `${parts.edgeUrl(check.link)}/healthz` }));
  const serviceNames = wiring.services.map((service) => service.name);
  try {
    await parts.start();
    await waitForHealthy(healthOf(serviceNames), parts.startTimeoutMs);
  } catch (error) {
    await teardown.disposeAsync();
    throw error instanceof LabError
      ? error
      : new LabError('STARTUP_TIMEOUT', `${deployment} did not start: ${String(error)}`, { cause: error });
  }
  const stop = stopCalmly(teardown, { log: parts.log, what: deployment, leftovers: parts.leftovers });
  const deploys = new Map<string, DeployReport>();
  const runningVersion = async (name: string): Promise<RunningVersion> => {
    // The direct address, like the metrics: a fault on the links in front must not hide the answer.
    const url = parts.metricsUrl(name).replace(/\/metrics$/, '/healthz');
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      const body = (await response.json().catch(() => ({}))) as { status?: unknown; version?: unknown };
      const version = typeof body.version === 'string' ? body.version : undefined;
      return {
        healthy: response.ok,
        version: response.ok ? version : undefined,
        evidence: `/healthz HTTP ${response.status}, version ${version ?? 'not reported'}`,
      };
    } catch (error) {
      return {
        healthy: false,
        version: undefined,
        evidence: `/healthz did not answer (${(error as Error).message})`,
      };
    }
  };
  const target: RuntimeActionTarget = {
    deployment,
    links: new Set(wiring.links),
    toxiproxy: parts.toxiproxy,
    dnsServer: parts.dnsServer,
    services: new Set(serviceNames),
    kill: async (name) => {
      const restart = await parts.kill(name);
      return async () => {
        await restart();
        await waitForHealthy(healthOf([name]), parts.startTimeoutMs);
      };
    },
    serviceState: (name) => parts.serviceState(name),
    stall: (name) => parts.stall(name),
    deploy: async (name, options) => {
      const startedAtMs = performance.now();
      const stopped = await parts.redeploy(name, options);
      await waitForHealthy(healthOf([name]), parts.startTimeoutMs);
      const healthyAfterMs = performance.now() - startedAtMs;
      const running = await runningVersion(name);
      const report: DeployReport = {
        service: name,
        version: running.version ?? options.version ?? 'the same version',
        ...stopped,
        stoppedAfterMs: Math.round(stopped.stoppedAfterMs),
        healthyAfterMs: Math.round(healthyAfterMs),
      };
      deploys.set(name, report);
      parts.log(`[${deployment}] ${describeDeploy(report)}`);
      return report;
    },
    runningVersion,
    lastDeploy: (name) => deploys.get(name),
  };
  return {
    deployment,
    routeUrl: (route: RouteName) => {
      const target = ROUTE_TARGETS[deployment][route];
      return `${parts.edgeUrl(target.link)}${target.path}`;
    },
    ...(parts.edgeUrlInNetwork
      ? {
          routeUrlInNetwork: (route: RouteName) => {
            const target = ROUTE_TARGETS[deployment][route];
            return `${parts.edgeUrlInNetwork?.(target.link) ?? ''}${target.path}`;
          },
        }
      : {}),
    services: serviceNames.map((name) => ({ name, metricsUrl: parts.metricsUrl(name) })),
    databases: {
      users: parts.auditUrl(wiring.audit.users),
      payments: parts.auditUrl(wiring.audit.payments),
    },
    resources: Object.fromEntries(serviceNames.map((name) => [name, parts.resources(name)])),
    dnsQueryCount: (name) => parts.dnsServer.queryCount(name),
    serviceLogs: () => parts.logs.lines(),
    droppedLogLines: () => parts.logs.dropped(),
    apply: (action: RuntimeAction): Promise<Undo> => applyRuntimeAction(target, action),
    observe: (action: RuntimeAction) => observeRuntimeAction(target, action),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
