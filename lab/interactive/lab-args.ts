/**
 * The arguments of `npm run lab`: one flag table per command (parseArgs reads it, `--help` lists it), and
 * the fault a `fault` command asks for, built and checked before anything is sent to the running lab.
 */
import { parseArgs } from 'node:util';
import { LabError } from '../errors.ts';
import {
  formatFlags,
  parseRuntimeChoice,
  RUNTIME_FLAG,
  toUsageError,
  type CliFlag,
  type RuntimeChoice,
} from '../cli/scenario-args.ts';
import { FAULT_KINDS, type Fault } from '../vocabulary/faults.ts';
import { DEPLOYMENTS, linksOf, ROUTES, type DeploymentName } from '../vocabulary/topology.ts';
import {
  allTargets,
  buildFault,
  FAULT_OPTION_NAMES,
  faultSynopsis,
  parseFaultKind,
  type FaultOptionName,
  type FaultOptionValues,
} from './hand-fault.ts';

export type LabCommand =
  | { command: 'help' }
  | {
      command: 'up';
      deployment: DeploymentName;
      runtime: RuntimeChoice;
      load: boolean;
      /** Set when the live view is wanted (`--live`, or `--live-port`/`--live-host` alone). */
      live?: { port: number; host: string };
    }
  | { command: 'status'; json: boolean }
  | { command: 'fault'; fault: Fault }
  | { command: 'heal'; which?: { kind: string; target: string } };

/** `npm run lab -- up`'s flags. */
export const UP_FLAGS = {
  help: { type: 'boolean', short: 'h' },
  deployment: {
    type: 'string',
    usage: '--deployment <name>',
    description: ['monolith, modular or split (default: split): the one deployment that runs'],
  },
  runtime: RUNTIME_FLAG,
  load: {
    type: 'boolean',
    usage: '--load',
    description: [
      "the scenarios' steady load (signup 4/s, pay 20/s, checkout 8/s) until the lab stops,",
      'so the live view and `status` show what each fault does',
    ],
  },
  live: {
    type: 'boolean',
    usage: '--live',
    description: ['serve the live view (a page that follows the lab in a browser) and print its URL'],
  },
  'live-port': {
    type: 'string',
    usage: '--live-port <port>',
    description: ['its port (default 0: any free port); implies --live'],
  },
  'live-host': {
    type: 'string',
    usage: '--live-host <host>',
    description: ['its address (default 127.0.0.1: this machine only); implies --live'],
  },
} as const satisfies Record<string, CliFlag>;

export const STATUS_FLAGS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean', usage: '--json', description: ["the lab's state as JSON, for scripts"] },
} as const satisfies Record<string, CliFlag>;

const FAULT_OPTION_HELP: Record<FaultOptionName, { usage: string; description: string }> = {
  ms: { usage: '--ms <ms>', description: 'added delay, milliseconds (latency, dbLatency)' },
  'jitter-ms': { usage: '--jitter-ms <ms>', description: '± random part of the delay (default 0)' },
  direction: {
    usage: '--direction <direction>',
    description:
      'both, upstream (towards the callee) or downstream (back to the caller); default both for partition, downstream otherwise',
  },
  'after-ms': {
    usage: '--after-ms <ms>',
    description: 'reset: reset connections after this long (default 0)',
  },
  'kilobytes-per-second': {
    usage: '--kilobytes-per-second <n>',
    description: 'bandwidth: the rate the link is limited to',
  },
  'delay-ms': { usage: '--delay-ms <ms>', description: 'slowClose: how long each close is held back' },
  'average-bytes': { usage: '--average-bytes <n>', description: 'slicer: average size of each piece' },
  'variation-bytes': {
    usage: '--variation-bytes <n>',
    description: 'slicer: ± variation of the size (default 0)',
  },
  'delay-micros': { usage: '--delay-micros <µs>', description: 'slicer: pause between pieces (default 0)' },
  bytes: { usage: '--bytes <n>', description: 'limitData: close each connection after this many bytes' },
  mode: { usage: '--mode <mode>', description: 'dnsFailure: nxdomain, servfail or timeout' },
  'rate-per-second': {
    usage: '--rate-per-second <n>',
    description: 'flood: extra requests per second on the route (more than 0, at most 1000)',
  },
  version: {
    usage: '--version <version>',
    description:
      'deploy: v1, v2 or v2-expand (default: the version running); a deploy stays, heal does not undo it',
  },
  'drain-ms': {
    usage: '--drain-ms <ms>',
    description: 'deploy: how long the old process may drain after SIGTERM before SIGKILL (default 10000)',
  },
};

function faultOptionFlags(): Record<FaultOptionName, CliFlag & { type: 'string' }> {
  const flags = {} as Record<FaultOptionName, CliFlag & { type: 'string' }>;
  for (const name of FAULT_OPTION_NAMES) {
    const help = FAULT_OPTION_HELP[name];
    flags[name] = { type: 'string', usage: help.usage, description: [help.description] };
  }
  return flags;
}

/** `npm run lab -- fault`'s flags: every option of every fault kind, each checked against the kind. */
export const FAULT_FLAGS = {
  help: { type: 'boolean', short: 'h' },
  ...faultOptionFlags(),
} satisfies Record<string, CliFlag>;

const HELP_ONLY = { help: { type: 'boolean', short: 'h' } } as const satisfies Record<string, CliFlag>;

const COMMANDS = ['up', 'status', 'fault', 'heal'] as const;

const targetLines = [
  `  links      ${DEPLOYMENTS.map((deployment) => `${deployment}: ${linksOf(deployment).join(', ')}`).join('; ')}`,
  `  services   monolith: monolith; modular: modular; split: signup-service, payment-service`,
  `  DNS names  ${allTargets('dns').join(', ')} (split only: the monolith and modular resolve no names)`,
  `  databases  monolith, modular or split (every database of that deployment), signup or payment (the domain's)`,
  `  routes     ${ROUTES.join(', ')}`,
].join('\n');

export const USAGE = `splitlab interactive lab: one deployment that keeps running while you break it by hand.

Usage:
  npm run lab -- up [options]                   start the lab; it runs until Ctrl-C (or SIGTERM)
  npm run lab -- status [--json]                what runs, where to reach it, the faults in effect
  npm run lab -- fault <kind> <target> [opts]   apply a fault, read it back from the tools, then answer
  npm run lab -- heal [<kind> <target>]         undo one fault, or every fault (the newest first)
  npm run lab -- --help                         this text

Options of up:
${formatFlags(UP_FLAGS)}

Faults (the kinds and options of scenarios; kinds may also be written in kebab-case, e.g. slow-close):
${FAULT_KINDS.map((kind) => `  ${faultSynopsis(kind)}`).join('\n')}

Targets:
${targetLines}

Fault options:
${formatFlags(FAULT_FLAGS)}

A flood needs up --load: it is an extra load stream on top of the steady load, until healed.

Exit codes: 0 done (for up: stopped by Ctrl-C or SIGTERM and everything torn down), 1 no lab is up,
2 usage or set-up error (a bad fault, a second up), 3 the lab could not do what was asked (a fault it
applied was not observed in effect and was undone again; a dependency of the lab died), 130 a second
Ctrl-C (exits at once).
Example: npm run lab -- up --deployment split --load --live
         npm run lab -- fault partition payment-api
         npm run lab -- heal`;

/** True when `--help` or `-h` comes before any `--`. */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

function parseWith<T extends Record<string, CliFlag>>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw toUsageError(error, 'npm run lab');
  }
}

function parseDeployment(value: string | undefined): DeploymentName {
  if (value === undefined) return 'split';
  if (!(DEPLOYMENTS as readonly string[]).includes(value))
    throw new LabError(
      'USAGE',
      `--deployment ${value} is not known; use monolith, modular or split (the default).`,
    );
  return value as DeploymentName;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new LabError('USAGE', `--live-port ${value}: must be a port from 0 to 65535 (0: any free port)`);
  return port;
}

function noPositionals(command: string, positionals: readonly string[]): void {
  if (positionals.length > 0)
    throw new LabError(
      'USAGE',
      `unexpected argument ${positionals[0]} after ${command}. See npm run lab -- --help.`,
    );
}

/**
 * Parses `npm run lab`'s arguments: the command first, then its arguments. Every mistake is a USAGE
 * error naming the argument and the fix; `--help` wins over everything else on the line.
 *
 * @example
 *   parseLabArgs(['fault', 'latency', 'payment-api', '--ms', '200'])
 *   // { command: 'fault', fault: { kind: 'latency', link: 'payment-api', ms: 200, jitterMs: 0, direction: 'downstream' } }
 */
export function parseLabArgs(argv: readonly string[]): LabCommand {
  if (asksForHelp(argv)) return { command: 'help' };
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const { values, positionals } = parseWith(rest, UP_FLAGS);
      noPositionals('up', positionals);
      const wantsLive =
        values.live === true || values['live-port'] !== undefined || values['live-host'] !== undefined;
      const host = values['live-host'] ?? '127.0.0.1';
      if (host.trim() === '') throw new LabError('USAGE', '--live-host needs an address, e.g. 127.0.0.1');
      return {
        command: 'up',
        deployment: parseDeployment(values.deployment),
        runtime: parseRuntimeChoice(values.runtime),
        load: values.load === true,
        ...(wantsLive ? { live: { port: parsePort(values['live-port'] ?? '0'), host } } : {}),
      };
    }
    case 'status': {
      const { values, positionals } = parseWith(rest, STATUS_FLAGS);
      noPositionals('status', positionals);
      return { command: 'status', json: values.json === true };
    }
    case 'fault': {
      const { values, positionals } = parseWith(rest, FAULT_FLAGS);
      const [kind, target, ...extra] = positionals;
      if (kind === undefined)
        throw new LabError(
          'USAGE',
          `which fault? npm run lab -- fault <kind> <target> [options], e.g. fault partition payment-api; kinds: ${FAULT_KINDS.join(', ')}`,
        );
      // The kind first: an unknown kind lists the kinds, whatever else is wrong on the line.
      const known = parseFaultKind(kind);
      if (target === undefined)
        throw new LabError('USAGE', `${known} needs a target: npm run lab -- fault ${faultSynopsis(known)}`);
      if (extra.length > 0)
        throw new LabError(
          'USAGE',
          `unexpected argument ${extra[0]}: one fault at a time, npm run lab -- fault ${faultSynopsis(known)}`,
        );
      const options: FaultOptionValues = {};
      for (const name of FAULT_OPTION_NAMES) {
        const value = values[name];
        if (typeof value === 'string') options[name] = value;
      }
      return { command: 'fault', fault: buildFault(kind, target, options) };
    }
    case 'heal': {
      const { positionals } = parseWith(rest, HELP_ONLY);
      if (positionals.length === 0) return { command: 'heal' };
      const [kind, target, ...extra] = positionals;
      if (kind === undefined || target === undefined || extra.length > 0)
        throw new LabError(
          'USAGE',
          'heal takes nothing (every fault) or <kind> <target> (one fault), e.g. npm run lab -- heal partition payment-api',
        );
      parseFaultKind(kind);
      return { command: 'heal', which: { kind, target } };
    }
    case undefined:
      throw new LabError('USAGE', `which command? ${COMMANDS.join(', ')}. See npm run lab -- --help.`);
    default:
      throw new LabError(
        'USAGE',
        `${command.startsWith('-') ? `${command} before the command` : `unknown command ${command}`}; ` +
          `commands: ${COMMANDS.join(', ')}. See npm run lab -- --help.`,
      );
  }
}
