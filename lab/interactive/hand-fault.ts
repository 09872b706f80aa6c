/**
 * Faults by hand: `npm run lab -- fault <kind> <target> [options]` turned into the same `Fault` a scenario
 * writes (built with the factories of lab/vocabulary/faults.ts), and checked before anything is sent:
 * the kind, the target, every option's value, and whether the target exists in the deployment that runs.
 * Pure, so every message is unit-tested.
 */
import { LabError } from '../errors.ts';
import {
  bandwidth,
  crash,
  DATABASE_TARGETS,
  dbLatency,
  dbOutage,
  describeFault,
  DIRECTIONS,
  deploy,
  dnsFailure,
  DNS_FAILURE_MODES,
  DNS_NAMES,
  FAULT_KINDS,
  faultTargetName,
  flood,
  isLinkFault,
  latency,
  limitData,
  outage,
  partition,
  reset,
  resolveFault,
  SERVICES,
  slicer,
  slowClose,
  stall,
  type DatabaseTarget,
  type Direction,
  type DnsFailureMode,
  type DnsName,
  type Fault,
  type FaultKind,
  type ServiceName,
} from '../vocabulary/faults.ts';
import { SERVICE_VERSIONS, type ServiceVersion } from '../../services/runtime/service-version.ts';
import {
  DEPLOYMENTS,
  LINKS,
  linksOf,
  ROUTES,
  type DeploymentName,
  type LinkName,
  type RouteName,
} from '../vocabulary/topology.ts';

/** What a fault of each kind is aimed at. */
export type TargetKind = 'link' | 'dns' | 'service' | 'database' | 'route';

/** The options a fault may take on the command line, as `--<name>`. */
export const FAULT_OPTION_NAMES = [
  'ms',
  'jitter-ms',
  'direction',
  'after-ms',
  'kilobytes-per-second',
  'delay-ms',
  'average-bytes',
  'variation-bytes',
  'delay-micros',
  'bytes',
  'mode',
  'rate-per-second',
  'version',
  'drain-ms',
] as const;
export type FaultOptionName = (typeof FAULT_OPTION_NAMES)[number];

/** The values of the fault options as `parseArgs` returns them: strings, or absent. */
export type FaultOptionValues = Partial<Record<FaultOptionName, string>>;

interface FaultSpec {
  target: TargetKind;
  /** Options the kind takes; the required ones are not written in brackets in the help. */
  options: readonly FaultOptionName[];
  required: readonly FaultOptionName[];
}

/** Per kind: what it is aimed at and which options it takes (the factories' options, in kebab-case). */
export const FAULT_SPECS = {
  latency: { target: 'link', options: ['ms', 'jitter-ms', 'direction'], required: ['ms'] },
  partition: { target: 'link', options: ['direction'], required: [] },
  outage: { target: 'link', options: [], required: [] },
  reset: { target: 'link', options: ['after-ms'], required: [] },
  bandwidth: {
    target: 'link',
    options: ['kilobytes-per-second', 'direction'],
    required: ['kilobytes-per-second'],
  },
  slowClose: { target: 'link', options: ['delay-ms'], required: ['delay-ms'] },
  slicer: {
    target: 'link',
    options: ['average-bytes', 'variation-bytes', 'delay-micros'],
    required: ['average-bytes'],
  },
  limitData: { target: 'link', options: ['bytes'], required: ['bytes'] },
  dnsFailure: { target: 'dns', options: ['mode'], required: ['mode'] },
  crash: { target: 'service', options: [], required: [] },
  stall: { target: 'service', options: [], required: [] },
  deploy: { target: 'service', options: ['version', 'drain-ms'], required: [] },
  dbOutage: { target: 'database', options: [], required: [] },
  dbLatency: { target: 'database', options: ['ms', 'jitter-ms'], required: ['ms'] },
  flood: { target: 'route', options: ['rate-per-second'], required: ['rate-per-second'] },
} as const satisfies Record<FaultKind, FaultSpec>;

/** How each option's value is written in the help text. */
const OPTION_VALUE: Record<FaultOptionName, string> = {
  ms: '<ms>',
  'jitter-ms': '<ms>',
  direction: `<${DIRECTIONS.join('|')}>`,
  'after-ms': '<ms>',
  'kilobytes-per-second': '<KB/s>',
  'delay-ms': '<ms>',
  'average-bytes': '<bytes>',
  'variation-bytes': '<bytes>',
  'delay-micros': '<µs>',
  bytes: '<bytes>',
  mode: `<${DNS_FAILURE_MODES.join('|')}>`,
  'rate-per-second': '<n>',
  version: `<${SERVICE_VERSIONS.join('|')}>`,
  'drain-ms': '<ms>',
};

/** The longest drain a deploy by hand may give: the control channel waits 90 s for the whole deploy. */
export const MAX_HAND_DRAIN_MS = 60_000;

/** A flood adds at most this many requests per second, as in scenarios. */
export const MAX_FLOOD_RATE = 1000;

/**
 * The kind as the catalogue names it; `slow-close`, `SLOWCLOSE` and `slowClose` all name slowClose.
 *
 * @example
 *   parseFaultKind('dns-failure') // 'dnsFailure'
 */
export function parseFaultKind(text: string): FaultKind {
  const wanted = text.replaceAll('-', '').toLowerCase();
  const kind = FAULT_KINDS.find((candidate) => candidate.toLowerCase() === wanted);
  if (!kind)
    throw new LabError(
      'USAGE',
      `"${text}" is not a fault kind; kinds: ${FAULT_KINDS.join(', ')}. See npm run lab -- --help.`,
    );
  return kind;
}

/** `latency <link> --ms <ms> [--jitter-ms <ms>] [--direction <both|upstream|downstream>]`: one help line. */
export function faultSynopsis(kind: FaultKind): string {
  const spec: FaultSpec = FAULT_SPECS[kind];
  const options = spec.options.map((name) => {
    const written = `--${name} ${OPTION_VALUE[name]}`;
    return spec.required.includes(name) ? written : `[${written}]`;
  });
  return [kind, `<${spec.target}>`, ...options].join(' ');
}

/** Every target of a kind in every deployment, as the help and the messages list them. */
export function allTargets(target: TargetKind): readonly string[] {
  switch (target) {
    case 'link':
      return DEPLOYMENTS.flatMap((deployment) => linksOf(deployment));
    case 'dns':
      return DNS_NAMES;
    case 'service':
      return SERVICES;
    case 'database':
      return DATABASE_TARGETS;
    case 'route':
      return ROUTES;
    default:
      return target satisfies never;
  }
}

const TARGET_WORD: Record<TargetKind, string> = {
  link: 'a link',
  dns: 'a DNS name the lab answers',
  service: 'a service',
  database: 'a database target',
  route: 'a route',
};

function checkTarget<T extends string>(kind: FaultKind, values: readonly string[], text: string): T {
  if (values.includes(text)) return text as T;
  const spec: FaultSpec = FAULT_SPECS[kind];
  const known =
    spec.target === 'link'
      ? DEPLOYMENTS.map((deployment) => `${deployment}: ${linksOf(deployment).join(', ')}`).join('; ')
      : values.join(', ');
  throw new LabError('USAGE', `${kind} needs ${TARGET_WORD[spec.target]}; "${text}" is not one (${known})`);
}

/** A whole number of 0 or more (Toxiproxy's attributes are integers). */
function wholeNumber(name: FaultOptionName, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < 0)
    throw new LabError('USAGE', `--${name} ${text}: must be a whole number, 0 or more`);
  return value;
}

function floodRate(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > MAX_FLOOD_RATE)
    throw new LabError(
      'USAGE',
      `--rate-per-second ${text}: must be more than 0 and at most ${MAX_FLOOD_RATE} requests per second`,
    );
  return value;
}

function oneOf<T extends string>(name: FaultOptionName, values: readonly T[], text: string): T {
  if ((values as readonly string[]).includes(text)) return text as T;
  throw new LabError('USAGE', `--${name} ${text}: must be one of ${values.join(', ')}`);
}

/**
 * Builds the fault `npm run lab -- fault <kind> <target> [options]` asks for. Every mistake is a USAGE
 * error naming the argument and what it may be: an unknown kind (lists the kinds), a target that does
 * not exist (lists the targets), an option the kind does not take, a missing or bad value.
 *
 * @example
 *   buildFault('latency', 'payment-api', { ms: '200', 'jitter-ms': '20' })
 *   // { kind: 'latency', link: 'payment-api', ms: 200, jitterMs: 20, direction: 'downstream' }
 */
export function buildFault(kindText: string, targetText: string, values: FaultOptionValues): Fault {
  const kind = parseFaultKind(kindText);
  const spec: FaultSpec = FAULT_SPECS[kind];
  const given = FAULT_OPTION_NAMES.filter((name) => values[name] !== undefined);
  const foreign = given.filter((name) => !spec.options.includes(name));
  if (foreign.length > 0) {
    const takes =
      spec.options.length > 0
        ? `it takes ${spec.options.map((name) => `--${name}`).join(', ')}`
        : 'it takes none';
    throw new LabError(
      'USAGE',
      `${kind} does not take ${foreign.map((name) => `--${name}`).join(', ')}; ${takes} (${faultSynopsis(kind)})`,
    );
  }
  const missing = spec.required.filter((name) => values[name] === undefined);
  if (missing.length > 0)
    throw new LabError(
      'USAGE',
      `${kind} needs ${missing.map((name) => `--${name}`).join(', ')}, e.g. npm run lab -- fault ${faultSynopsis(kind)}`,
    );
  const whole = (name: FaultOptionName): number | undefined => {
    const text = values[name];
    return text === undefined ? undefined : wholeNumber(name, text);
  };
  const required = (name: FaultOptionName): number => whole(name) ?? 0;
  const direction = (): { direction?: Direction } => {
    const text = values.direction;
    return text === undefined ? {} : { direction: oneOf('direction', DIRECTIONS, text) };
  };
  const optional = <K extends string>(key: K, name: FaultOptionName): Partial<Record<K, number>> => {
    const value = whole(name);
    return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
  };
  const link = (): LinkName => checkTarget<LinkName>(kind, allTargets('link'), targetText);
  switch (kind) {
    case 'latency':
      return latency(link(), { ms: required('ms'), ...optional('jitterMs', 'jitter-ms'), ...direction() });
    case 'partition':
      return partition(link(), direction());
    case 'outage':
      return outage(link());
    case 'reset':
      return reset(link(), optional('afterMs', 'after-ms'));
    case 'bandwidth':
      return bandwidth(link(), { kilobytesPerSecond: required('kilobytes-per-second'), ...direction() });
    case 'slowClose':
      return slowClose(link(), { delayMs: required('delay-ms') });
    case 'slicer':
      return slicer(link(), {
        averageBytes: required('average-bytes'),
        ...optional('variationBytes', 'variation-bytes'),
        ...optional('delayMicros', 'delay-micros'),
      });
    case 'limitData':
      return limitData(link(), { bytes: required('bytes') });
    case 'dnsFailure':
      return dnsFailure(
        checkTarget<DnsName>(kind, DNS_NAMES, targetText),
        oneOf<DnsFailureMode>('mode', DNS_FAILURE_MODES, values.mode ?? ''),
      );
    case 'crash':
      return crash(checkTarget<ServiceName>(kind, SERVICES, targetText));
    case 'stall':
      return stall(checkTarget<ServiceName>(kind, SERVICES, targetText));
    case 'deploy': {
      const service = checkTarget<ServiceName>(kind, SERVICES, targetText);
      const version = values.version;
      const drainMs = whole('drain-ms');
      if (drainMs !== undefined && drainMs > MAX_HAND_DRAIN_MS)
        throw new LabError(
          'USAGE',
          `--drain-ms ${drainMs}: at most ${MAX_HAND_DRAIN_MS} (the answer to a fault comes within 90 s, the new process's start included)`,
        );
      return deploy(service, {
        ...(version === undefined
          ? {}
          : { version: oneOf<ServiceVersion>('version', SERVICE_VERSIONS, version) }),
        ...(drainMs === undefined ? {} : { drainMs }),
      });
    }
    case 'dbOutage':
      return dbOutage(checkTarget<DatabaseTarget>(kind, DATABASE_TARGETS, targetText));
    case 'dbLatency':
      return dbLatency(checkTarget<DatabaseTarget>(kind, DATABASE_TARGETS, targetText), {
        ms: required('ms'),
        ...optional('jitterMs', 'jitter-ms'),
      });
    case 'flood':
      return flood(checkTarget<RouteName>(kind, ROUTES, targetText), {
        ratePerSecond: floodRate(values['rate-per-second'] ?? ''),
      });
    default:
      return kind satisfies never;
  }
}

/**
 * A fault in one line, as the live view, `status` and the answers show it: the report's words, except
 * that a service crashed or frozen by hand comes back when it is healed, not at the end of a phase, and
 * that a deploy is not healed at all.
 */
export function describeHandFault(fault: Fault): string {
  switch (fault.kind) {
    case 'crash':
      return `${fault.service} killed (SIGKILL); restarted when healed`;
    case 'stall':
      return `${fault.service} frozen (nothing answered); thawed when healed`;
    case 'deploy':
      return `${describeFault(fault)}; it stays: heal does not undo a deploy (deploy again with --version to roll back)`;
    default:
      return describeFault(fault);
  }
}

/** The targets a kind can hit in `deployment`: what the message offers instead of a wrong one. */
export function targetsIn(kind: FaultKind, deployment: DeploymentName): string[] {
  const target = FAULT_SPECS[kind].target;
  const probe = (text: string): boolean => {
    try {
      return resolveFault(buildProbe(kind, text), deployment).length > 0;
    } catch {
      return false;
    }
  };
  return allTargets(target).filter(probe);
}

/** A fault of `kind` at `target` with made-up option values: only to ask what it would touch. */
function buildProbe(kind: FaultKind, target: string): Fault {
  const spec: FaultSpec = FAULT_SPECS[kind];
  const values: FaultOptionValues = {};
  for (const name of spec.required) values[name] = name === 'mode' ? 'nxdomain' : '1';
  return buildFault(kind, target, values);
}

/**
 * Throws a USAGE error when `fault` touches nothing in `deployment`, saying where its target exists and
 * what to aim at instead, e.g. `payment-api is a link of split; this lab runs monolith`.
 */
export function checkFaultFits(fault: Fault, deployment: DeploymentName): void {
  if (resolveFault(fault, deployment).length > 0) return;
  const target = faultTargetName(fault);
  const here = targetsIn(fault.kind, deployment);
  const instead = here.length > 0 ? `; here: ${here.join(', ')}` : '';
  // Where the target does exist: the first other deployment the same fault touches.
  const home =
    DEPLOYMENTS.find((candidate) => candidate !== deployment && resolveFault(fault, candidate).length > 0) ??
    deployment;
  let where: string;
  if (isLinkFault(fault)) where = `${target} is a link of ${LINKS[fault.link].deployment}`;
  else if (fault.kind === 'dnsFailure')
    where = `${fault.kind} ${target} touches only split (the monolith calls payment in-process and resolves no names)`;
  else if (fault.kind === 'crash' || fault.kind === 'stall' || fault.kind === 'deploy')
    where = `${target} is a service of ${home}`;
  else where = `${fault.kind} ${target} names the databases of the ${home} deployment`;
  throw new LabError('USAGE', `${where}; this lab runs ${deployment}${instead}`);
}

/** Whether the user's words `<kind> <target>` name this fault (the kind in any of its spellings). */
export function faultMatches(fault: Fault, kindText: string, targetText: string): boolean {
  return fault.kind === parseFaultKind(kindText) && faultTargetName(fault) === targetText;
}
