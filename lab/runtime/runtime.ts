import type { ClosedLoadRun, DriveClosedLoadOptions } from '../load/closed-load.ts';
import type { DriveLoadOptions, LoadRun } from '../load/drive-load.ts';
import type { TraceCollector } from '../tracing/trace-collector.ts';
import type { FaultAction } from '../vocabulary/faults.ts';
import type { QuotaOverrides } from '../vocabulary/quotas.ts';
import type { DeploymentName, RouteName } from '../vocabulary/topology.ts';

export type RuntimeAction = Exclude<FaultAction, { type: 'flood' }>;

/**
 * Where the containers runtime runs the load generator (`--generator`): `auto` puts it in the network
 * when the engine is on another machine (the path there would be measured too) and in the lab's process
 * when the engine is on this one, where the container measured no better (docs/scaling-out.md).
 */
export const GENERATOR_PLACEMENTS = ['auto', 'network', 'host'] as const;
export type GeneratorPlacement = (typeof GENERATOR_PLACEMENTS)[number];
export const DEFAULT_GENERATOR_PLACEMENT: GeneratorPlacement = 'auto';

/** Undoes one applied fault. Safe to call twice. */
export type Undo = () => Promise<void>;

export interface LabLog {
  (line: string): void;
}

/**
 * A backend that can run the topology: `local` (child processes) or `containers` (Docker).
 * The choice is made in one place (`chooseRuntime`); everything else talks to these interfaces.
 */
export interface Runtime {
  readonly name: string;
  /** Starts what both deployments share: PostgreSQL, Toxiproxy, the DNS server, the trace collector. */
  start(options: RuntimeStartOptions): Promise<StartedLab>;
}

export interface RuntimeStartOptions {
  log: LabLog;
  /** Where the trace collector also sends every batch of spans it receives (Jaeger, an OTLP endpoint). */
  traceForwarding?: { name: string; endpoint: string }[];
}

export interface StartedLab extends AsyncDisposable {
  readonly runtime: string;
  /** What the report records about this runtime: versions, binaries, ports. */
  readonly details: Record<string, string>;
  /** Starts one deployment's services and links; only one runs at a time so they never compete for CPU. */
  startDeployment(deployment: DeploymentName, options?: DeploymentOptions): Promise<StartedDeployment>;
  /**
   * Aborts when one of the lab's own dependencies dies during the run (toxiproxy-server, PostgreSQL,
   * the DNS server, the Docker engine): its `reason` is a LabError with code DEPENDENCY_FAILED whose
   * message names what died and when. The runner then stops the load, tears down, and marks the run
   * invalid: the lab never blames the system under test for its own failure.
   */
  readonly failed: AbortSignal;
  /**
   * The OTLP receiver every service of every deployment exports its spans to. It stops after the
   * deployments, so the spans they flush on their way out still land.
   */
  readonly traces: TraceCollector;
  /**
   * The load generator inside the runtime's own network, when it runs one (containers, `--generator
   * network`): scenario load goes through it, to each deployment's `routeUrlInNetwork`. Absent: the
   * lab's process generates the load.
   */
  readonly generator?: InNetworkGenerator;
  /** Stops everything, including any deployment still running. Safe to call twice. */
  stop(): Promise<void>;
}

/** A load generator next to the system, behind the same interfaces as the lab's own. */
export interface InNetworkGenerator {
  /** Where it runs, in words, for the report's runtime details. */
  readonly where: string;
  driveLoad(options: DriveLoadOptions): LoadRun;
  driveClosedLoad(options: DriveClosedLoadOptions): ClosedLoadRun;
}

/**
 * What the lab read back from its own tools to prove that an action took effect (after apply) or was
 * undone (after undo): the toxics and proxy state from Toxiproxy's API, the DNS server's mode and the
 * queries it answered in that mode, the service's process or container state.
 */
export interface ActionObservation {
  /** `performance.now()` when the state was read. */
  atMs: number;
  /** True when the state the action asks for is in place; after an undo, the runner expects false. */
  inEffect: boolean;
  /** What was read, in words: `payment-api: toxics timeout/upstream, timeout/downstream; enabled`. */
  evidence: string;
}

export interface DeploymentOptions {
  /** Extra environment for every service of the deployment: a variant's settings. */
  settings?: Record<string, string>;
  /** CPU and memory per service container, over the defaults (containers runtime only). */
  quotas?: QuotaOverrides;
  /** False: the services do not trace (npm run bench measures what tracing costs). True by default. */
  tracing?: boolean;
}

export interface ServiceEndpoint {
  name: string;
  /**
   * Direct (not proxied) URL of the service's Prometheus /metrics, so scraping never suffers the faults;
   * the lab reads the JSON beside it at /metrics.json.
   */
  metricsUrl: string;
}

export interface StartedDeployment extends AsyncDisposable {
  readonly deployment: DeploymentName;
  /** URL of the route through its edge proxy, e.g. `http://127.0.0.1:40123/checkout`. */
  routeUrl(route: RouteName): string;
  /**
   * The same route as a load generator inside the runtime's own network reaches it (the containers
   * runtime: `http://toxiproxy:8666/checkout`), without the published port in between.
   */
  routeUrlInNetwork?(route: RouteName): string;
  readonly services: readonly ServiceEndpoint[];
  /** Direct connection strings for the audit: where users and payments are stored. */
  readonly databases: { users: string; payments: string };
  /** What each service may use, as the report shows it: `1 CPU, 512 MiB` or `CPU 1 (taskset)`. */
  readonly resources: Record<string, string>;
  /**
   * Applies one resolved fault action (see `resolveFault`) and returns its undo: remove the toxic,
   * answer DNS again, restart the crashed service. Floods are the load generator's business, not the
   * runtime's.
   */
  apply(action: RuntimeAction): Promise<Undo>;
  /** Reads back from the tools whether `action` is in effect right now (see ActionObservation). */
  observe(action: RuntimeAction): Promise<ActionObservation>;
  /** DNS queries the lab's DNS server has received for a name so far (shows TTL caching at work). */
  dnsQueryCount(name: string): Promise<number>;
  /**
   * Every line the deployment's services wrote to stderr (their JSON log lines, unparsed), in the order
   * they arrived, across crashes and restarts; still readable after `stop`. Past
   * SERVICE_LOG_LINES_KEPT lines a service's further lines are only counted (`droppedLogLines`).
   */
  serviceLogs(): ServiceLogLine[];
  /** Per service of the deployment: lines it wrote beyond what `serviceLogs` keeps (0 when none). */
  droppedLogLines(): Record<string, number>;
  stop(): Promise<void>;
}

export interface ServiceLogLine {
  service: string;
  /** As written, without its newline. */
  line: string;
}
