import type { ServiceVersion } from '../../services/runtime/service-version.ts';
import { describeRouteLoad, type RouteLoadModel } from './load-models.ts';
import { type DeploymentName, type RouteName, LINKS, type LinkName } from './topology.ts';

/**
 * The fault vocabulary. Each factory returns plain data; a runtime backend turns it into Toxiproxy
 * toxics, DNS answers or process actions, and the report shows the same names.
 *
 * @example
 *   partition('payment-api')            // data dropped both ways, connections hang
 *   latency('payment-api', { ms: 200 }) // +200 ms each way
 *   dnsFailure('payment-service', 'nxdomain')
 *   crash('signup-service')             // SIGKILL; restarted when the phase ends
 *   stall('payment-service')            // frozen (SIGSTOP / docker pause); thawed when the phase ends
 *   deploy('payment-service', { version: 'v2' }) // SIGTERM, drain, the new version on the same address
 */
export const DIRECTIONS = ['both', 'upstream', 'downstream'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Faults that are toxics (or a disabled proxy) on one Toxiproxy link. */
export type LinkFault =
  | { kind: 'latency'; link: LinkName; ms: number; jitterMs: number; direction: Direction }
  | { kind: 'partition'; link: LinkName; direction: Direction }
  | { kind: 'outage'; link: LinkName }
  | { kind: 'reset'; link: LinkName; afterMs: number }
  | { kind: 'bandwidth'; link: LinkName; kilobytesPerSecond: number; direction: Direction }
  | { kind: 'slowClose'; link: LinkName; delayMs: number }
  | { kind: 'slicer'; link: LinkName; averageBytes: number; variationBytes: number; delayMicros: number }
  | { kind: 'limitData'; link: LinkName; bytes: number };

export const DNS_FAILURE_MODES = ['nxdomain', 'servfail', 'timeout'] as const;
export type DnsFailureMode = (typeof DNS_FAILURE_MODES)[number];

/** Names the lab's DNS server answers for: only split resolves anything. */
export const DNS_NAMES = ['payment-service'] as const;
export type DnsName = (typeof DNS_NAMES)[number];

export const SERVICES = ['monolith', 'modular', 'signup-service', 'payment-service'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** A database fault names a deployment (all its databases) or a domain (the database holding its data). */
export const DATABASE_TARGETS = ['monolith', 'modular', 'split', 'signup', 'payment'] as const;
export type DatabaseTarget = (typeof DATABASE_TARGETS)[number];

export type Fault =
  | LinkFault
  | { kind: 'dnsFailure'; name: DnsName; mode: DnsFailureMode }
  | { kind: 'crash'; service: ServiceName }
  | { kind: 'stall'; service: ServiceName }
  | { kind: 'deploy'; service: ServiceName; version?: ServiceVersion; drainMs: number }
  | { kind: 'dbOutage'; target: DatabaseTarget }
  | { kind: 'dbLatency'; target: DatabaseTarget; ms: number; jitterMs: number }
  | { kind: 'flood'; route: RouteName; load: RouteLoadModel };

export type FaultKind = Fault['kind'];

export type LinkFaultKind = LinkFault['kind'];

// Tables rather than lists: `satisfies Record<...>` makes the compiler reject a kind that is missing
// here or that no fault type has, so a new kind cannot be half declared.
const LINK_FAULT_KIND_TABLE = {
  latency: true,
  partition: true,
  outage: true,
  reset: true,
  bandwidth: true,
  slowClose: true,
  slicer: true,
  limitData: true,
} as const satisfies Record<LinkFaultKind, true>;

const OTHER_FAULT_KIND_TABLE = {
  dnsFailure: true,
  crash: true,
  stall: true,
  deploy: true,
  dbOutage: true,
  dbLatency: true,
  flood: true,
} as const satisfies Record<Exclude<FaultKind, LinkFaultKind>, true>;

/** The kinds of fault that are toxics (or a disabled proxy) on one link. */
export const LINK_FAULT_KINDS = Object.keys(LINK_FAULT_KIND_TABLE) as readonly LinkFaultKind[];

/** Every kind of fault, the link faults first. */
export const FAULT_KINDS: readonly FaultKind[] = [
  ...LINK_FAULT_KINDS,
  ...(Object.keys(OTHER_FAULT_KIND_TABLE) as (keyof typeof OTHER_FAULT_KIND_TABLE)[]),
];

export function isLinkFault(fault: Fault): fault is LinkFault {
  return Object.hasOwn(LINK_FAULT_KIND_TABLE, fault.kind);
}

/** The `default` of an exhaustive switch: the compiler rejects the call while a kind is unhandled. */
function unhandledFault(fault: never): never {
  throw new Error(`bug: unhandled fault ${JSON.stringify(fault)}`);
}

/** Adds `ms` (± `jitterMs`) to data crossing the link; with `direction: 'both'` a round trip pays it twice. */
export function latency(
  link: LinkName,
  options: { ms: number; jitterMs?: number; direction?: Direction },
): LinkFault {
  return {
    kind: 'latency',
    link,
    ms: options.ms,
    jitterMs: options.jitterMs ?? 0,
    direction: options.direction ?? 'downstream',
  };
}

/** Drops all data on the link and keeps connections open: callers hang until their own deadline. */
export function partition(link: LinkName, options: { direction?: Direction } = {}): LinkFault {
  return { kind: 'partition', link, direction: options.direction ?? 'both' };
}

/** Takes the link down: new connections are refused and live ones are cut. */
export function outage(link: LinkName): LinkFault {
  return { kind: 'outage', link };
}

/** Resets connections (TCP RST) after `afterMs` of data. */
export function reset(link: LinkName, options: { afterMs?: number } = {}): LinkFault {
  return { kind: 'reset', link, afterMs: options.afterMs ?? 0 };
}

/** Limits the data rate over the link to `kilobytesPerSecond`. */
export function bandwidth(
  link: LinkName,
  options: { kilobytesPerSecond: number; direction?: Direction },
): LinkFault {
  return {
    kind: 'bandwidth',
    link,
    kilobytesPerSecond: options.kilobytesPerSecond,
    direction: options.direction ?? 'downstream',
  };
}

/** Holds back the close of each socket by `delayMs`: the other side sees the end of the stream late. */
export function slowClose(link: LinkName, options: { delayMs: number }): LinkFault {
  return { kind: 'slowClose', link, delayMs: options.delayMs };
}

/**
 * Cuts data into pieces of about `averageBytes` (± `variationBytes`), `delayMicros` apart: it catches
 * readers that assume one read returns a whole message.
 */
export function slicer(
  link: LinkName,
  options: { averageBytes: number; variationBytes?: number; delayMicros?: number },
): LinkFault {
  return {
    kind: 'slicer',
    link,
    averageBytes: options.averageBytes,
    variationBytes: options.variationBytes ?? 0,
    delayMicros: options.delayMicros ?? 0,
  };
}

/** Closes each connection once `bytes` have crossed it. */
export function limitData(link: LinkName, options: { bytes: number }): LinkFault {
  return { kind: 'limitData', link, bytes: options.bytes };
}

/**
 * The lab's DNS server stops answering `name` properly. Callers that cached the last good answer keep
 * using it until its TTL runs out, and connections already open need no lookup at all.
 */
export function dnsFailure(name: DnsName, mode: DnsFailureMode): Fault {
  return { kind: 'dnsFailure', name, mode };
}

/** Kills the service's process with SIGKILL (no goodbye); it is restarted when the phase ends. */
export function crash(service: ServiceName): Fault {
  return { kind: 'crash', service };
}

/**
 * Freezes the service's process (SIGSTOP on the local runtime, `docker pause` on containers) for the phase,
 * as a long garbage-collection pause or an overloaded host would: connections stay open, nothing is
 * answered, and everything queued is answered at once when it thaws at the phase end.
 */
export function stall(service: ServiceName): Fault {
  return { kind: 'stall', service };
}

/** How long a deploy lets the old process drain after SIGTERM before it is killed (as Kubernetes' grace period). */
export const DEFAULT_DEPLOY_DRAIN_MS = 10_000;

/**
 * Deploys the service the way a deploy does: SIGTERM to the running process (it stops accepting, finishes
 * its in-flight requests, exits; SIGKILL after `drainMs`), then a new process (or container) of `version`
 * (default: the version running) on the same address, healthy before the deploy counts as done. A deploy
 * is not undone when its phase ends: the new version stays, as after a real deploy.
 *
 * @example
 *   deploy('monolith')                             // a redeploy of the same code
 *   deploy('payment-service', { version: 'v2' })   // a breaking /charge contract, before its caller
 */
export function deploy(
  service: ServiceName,
  options: { version?: ServiceVersion; drainMs?: number } = {},
): Fault {
  return {
    kind: 'deploy',
    service,
    ...(options.version ? { version: options.version } : {}),
    drainMs: options.drainMs ?? DEFAULT_DEPLOY_DRAIN_MS,
  };
}

/** Takes the database link(s) of a deployment or of a domain down. */
export function dbOutage(target: DatabaseTarget): Fault {
  return { kind: 'dbOutage', target };
}

/** Adds latency to every answer from the database(s) of a deployment or a domain. */
export function dbLatency(target: DatabaseTarget, options: { ms: number; jitterMs?: number }): Fault {
  return { kind: 'dbLatency', target, ms: options.ms, jitterMs: options.jitterMs ?? 0 };
}

/**
 * Extra load on one route for the phase, on top of the scenario's steady load: an open-model stream of
 * `ratePerSecond`, or a closed-model one of `connections` kept busy by autocannon (as many requests as
 * the system will answer).
 *
 * @example
 *   flood('signup', { ratePerSecond: 120 })
 *   flood('signup', { connections: 32 })
 */
export function flood(route: RouteName, options: { ratePerSecond: number } | { connections: number }): Fault {
  const load: RouteLoadModel =
    'connections' in options
      ? { model: 'closed', connections: options.connections }
      : { model: 'open', ratePerSecond: options.ratePerSecond };
  return { kind: 'flood', route, load };
}

/** What a fault is aimed at, for the report's timeline: a link, a DNS name, a process, a route. */
export function faultTarget(fault: Fault): string {
  if (isLinkFault(fault)) return fault.link;
  switch (fault.kind) {
    case 'dnsFailure':
      return `${fault.name} (DNS)`;
    case 'crash':
    case 'stall':
    case 'deploy':
      return fault.service;
    case 'dbOutage':
    case 'dbLatency':
      return `${fault.target} database`;
    case 'flood':
      return `${fault.route} route`;
    default:
      return unhandledFault(fault);
  }
}

/** What a fault is aimed at, in one bare word, as `npm run lab -- fault` takes it and the live banner shows it: `payment-api`, `payment`, `pay`. */
export function faultTargetName(fault: Fault): string {
  if (isLinkFault(fault)) return fault.link;
  switch (fault.kind) {
    case 'dnsFailure':
      return fault.name;
    case 'crash':
    case 'stall':
    case 'deploy':
      return fault.service;
    case 'dbOutage':
    case 'dbLatency':
      return fault.target;
    case 'flood':
      return fault.route;
    default:
      return unhandledFault(fault);
  }
}

/** What a runtime (or the load generator, for floods) must do in one deployment. */
export type FaultAction =
  | { type: 'link'; fault: LinkFault }
  | { type: 'dns'; name: DnsName; mode: DnsFailureMode }
  | { type: 'crash'; service: ServiceName }
  | { type: 'stall'; service: ServiceName }
  | { type: 'deploy'; service: ServiceName; version?: ServiceVersion; drainMs: number }
  | { type: 'flood'; route: RouteName; load: RouteLoadModel };

const DATABASE_LINKS: Record<DeploymentName, Record<DatabaseTarget, LinkName[]>> = {
  monolith: {
    monolith: ['monolith-db'],
    modular: [],
    split: [],
    signup: ['monolith-db'],
    payment: ['monolith-db'],
  },
  // One PostgreSQL server and one network path to it: each module's own pool and schema share both.
  modular: {
    monolith: [],
    modular: ['modular-db'],
    split: [],
    signup: ['modular-db'],
    payment: ['modular-db'],
  },
  split: {
    monolith: [],
    modular: [],
    split: ['signup-db', 'payment-db'],
    signup: ['signup-db'],
    payment: ['payment-db'],
  },
};

const SERVICES_OF: Record<DeploymentName, readonly ServiceName[]> = {
  monolith: ['monolith'],
  modular: ['modular'],
  split: ['signup-service', 'payment-service'],
};

/**
 * Resolves a fault for one deployment. Pure. An empty list means the fault does not touch that
 * deployment (a `payment-api` partition in the monolith, which has no such link).
 *
 * @example
 *   resolveFault(dbOutage('payment'), 'monolith') // [{ type: 'link', fault: outage('monolith-db') }]
 */
export function resolveFault(fault: Fault, deployment: DeploymentName): FaultAction[] {
  if (isLinkFault(fault)) return LINKS[fault.link].deployment === deployment ? [{ type: 'link', fault }] : [];
  switch (fault.kind) {
    case 'dnsFailure':
      // Only split resolves names; the monolith calls payment in-process.
      return deployment === 'split' ? [{ type: 'dns', name: fault.name, mode: fault.mode }] : [];
    case 'crash':
    case 'stall':
      return SERVICES_OF[deployment].includes(fault.service)
        ? [{ type: fault.kind, service: fault.service }]
        : [];
    case 'deploy':
      return SERVICES_OF[deployment].includes(fault.service)
        ? [
            {
              type: 'deploy',
              service: fault.service,
              ...(fault.version ? { version: fault.version } : {}),
              drainMs: fault.drainMs,
            },
          ]
        : [];
    case 'dbOutage':
      return DATABASE_LINKS[deployment][fault.target].map((link) => ({ type: 'link', fault: outage(link) }));
    case 'dbLatency':
      return DATABASE_LINKS[deployment][fault.target].map((link) => ({
        type: 'link',
        fault: latency(link, { ms: fault.ms, jitterMs: fault.jitterMs }),
      }));
    case 'flood':
      return [{ type: 'flood', route: fault.route, load: fault.load }];
    default:
      return unhandledFault(fault);
  }
}

/** A one-line description for timelines and reports. */
export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'dnsFailure':
      return `DNS for ${fault.name} answers ${fault.mode === 'timeout' ? 'nothing (timeout)' : fault.mode.toUpperCase()}`;
    case 'crash':
      return `${fault.service} killed (SIGKILL); restarted when the phase ends`;
    case 'stall':
      return `${fault.service} frozen (nothing answered); thawed when the phase ends`;
    case 'deploy':
      return `${fault.service} redeployed${fault.version ? ` as ${fault.version}` : ''} (SIGTERM, up to ${fault.drainMs / 1000} s to drain, same address)`;
    case 'dbOutage':
      return `${fault.target} database link down`;
    case 'dbLatency':
      return `+${fault.ms} ms on every answer from the ${fault.target} database`;
    case 'flood':
      return fault.load.model === 'open'
        ? `flood: +${fault.load.ratePerSecond} requests/s on ${fault.route}`
        : `flood: ${describeRouteLoad(fault.load)} on ${fault.route}`;
    case 'latency':
      return `+${fault.ms} ms${fault.jitterMs ? ` ± ${fault.jitterMs} ms` : ''} (${fault.direction}) on ${fault.link}`;
    case 'partition':
      return `${fault.link} partitioned (${fault.direction}): data dropped, connections hang`;
    case 'outage':
      return `${fault.link} down: connections refused, live ones cut`;
    case 'reset':
      return `${fault.link} resets connections after ${fault.afterMs} ms`;
    case 'bandwidth':
      return `${fault.link} limited to ${fault.kilobytesPerSecond} KB/s (${fault.direction})`;
    case 'slowClose':
      return `${fault.link} delays closing sockets by ${fault.delayMs} ms`;
    case 'slicer':
      return `${fault.link} slices data into ~${fault.averageBytes}-byte pieces`;
    case 'limitData':
      return `${fault.link} closes connections after ${fault.bytes} bytes`;
    default:
      return unhandledFault(fault);
  }
}

/** What a Toxiproxy backend must do for a fault: disable the proxy, or add these toxics. */
export type ToxiproxyPlan =
  | { action: 'disable' }
  | {
      action: 'toxics';
      toxics: { type: string; stream: 'upstream' | 'downstream'; attributes: Record<string, number> }[];
    };

function streamsOf(direction: Direction): ('upstream' | 'downstream')[] {
  return direction === 'both' ? ['upstream', 'downstream'] : [direction];
}

/**
 * Pure translation of a link fault into Toxiproxy operations. Every toxic keeps Toxiproxy's default
 * toxicity of 1: Toxiproxy draws toxicity once per connection, not per request, so at 1 every
 * connection gets the toxic. A disabled proxy closes its listener (new connections are refused) and
 * every open connection.
 */
export function planToxiproxy(fault: LinkFault): ToxiproxyPlan {
  const onStreams = (
    direction: Direction,
    type: string,
    attributes: Record<string, number>,
  ): ToxiproxyPlan => ({
    action: 'toxics',
    toxics: streamsOf(direction).map((stream) => ({ type, stream, attributes })),
  });
  switch (fault.kind) {
    case 'outage':
      return { action: 'disable' };
    case 'latency':
      return onStreams(fault.direction, 'latency', { latency: fault.ms, jitter: fault.jitterMs });
    case 'partition':
      // A timeout toxic with timeout 0 drops the data (lost, not delayed) and never closes the
      // connection: callers hang until their own deadline or until the toxic is removed.
      return onStreams(fault.direction, 'timeout', { timeout: 0 });
    case 'reset':
      // reset_peer: the connection is reset (TCP RST) `timeout` ms after the toxic meets it; 0 is at once.
      return onStreams('downstream', 'reset_peer', { timeout: fault.afterMs });
    case 'bandwidth':
      return onStreams(fault.direction, 'bandwidth', { rate: fault.kilobytesPerSecond });
    case 'slowClose':
      return onStreams('downstream', 'slow_close', { delay: fault.delayMs });
    case 'slicer':
      return onStreams('downstream', 'slicer', {
        average_size: fault.averageBytes,
        size_variation: fault.variationBytes,
        delay: fault.delayMicros,
      });
    case 'limitData':
      return onStreams('downstream', 'limit_data', { bytes: fault.bytes });
    default:
      return unhandledFault(fault);
  }
}
