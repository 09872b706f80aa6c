import { parseArgs, type ParseArgsOptionDescriptor } from 'node:util';
import { LabError } from '../errors.ts';
import {
  DEFAULT_GENERATOR_PLACEMENT,
  GENERATOR_PLACEMENTS,
  type GeneratorPlacement,
} from '../runtime/runtime.ts';

export const RUNTIME_CHOICES = ['local', 'containers', 'auto'] as const;
export type RuntimeChoice = (typeof RUNTIME_CHOICES)[number];

export interface CliOptions {
  command: 'help' | 'list' | 'run' | 'all';
  scenario?: string;
  runtime: RuntimeChoice;
  reportsDir?: string;
  scenariosDir?: string;
  /** `--predict`: ask for a prediction of each claim on the terminal before the run. */
  predict?: boolean;
  /** `--predictions <file>`: read the predictions from a JSON file. */
  predictionsFile?: string;
  /** `--live`: serve the live view of the run on this address (port 0: any free port). */
  live?: { host: string; port: number };
  /** `--junit <file>`: write the claims as JUnit XML there. */
  junitFile?: string;
  /** `--summary-md <file>`: write the Markdown summary there. */
  summaryMarkdownFile?: string;
  /** `--repeat <n>`: run each scenario n times and write a page of their spread (1: once, no page). */
  repeat?: number;
  /** `--jaeger`: start Jaeger for the run and send it every span the services export. */
  jaeger?: boolean;
  /** `--generator`: where the containers runtime runs the load generator. */
  generator?: GeneratorPlacement;
}

/** The most `--repeat` takes: a typo of 1000 should not start a day-long run. */
export const MAX_REPEAT = 50;

/** Where `--live` listens when `--live-host` and `--live-port` are not given: this machine only, any free port. */
export const LIVE_DEFAULTS = { host: '127.0.0.1', port: 0 } as const;

/** A flag: what `parseArgs` needs, and how `--help` shows it (flags without `usage` are shown elsewhere). */
export interface CliFlag extends ParseArgsOptionDescriptor {
  /** How the flag is written in the help text, e.g. `--runtime <runtime>`. */
  usage?: string;
  /** Its description in the help text, one entry per line. */
  description?: readonly string[];
}

/** `--runtime`, the same for `npm run scenario` and `npm run bench`. */
export const RUNTIME_FLAG = {
  type: 'string',
  usage: '--runtime <runtime>',
  description: [
    'where the topology runs: local (child processes; the default, no Docker),',
    'containers (Docker via testcontainers, a CPU/memory quota per service),',
    'auto (containers when a Docker engine answers, local otherwise)',
  ],
} as const satisfies CliFlag;

/** Every flag of `npm run scenario`, once: `parseArgs` reads this table and `--help` lists it. */
export const SCENARIO_FLAGS = {
  // --help and --list are commands: the Usage lines of the help text show them.
  help: { type: 'boolean', short: 'h' },
  list: { type: 'boolean' },
  runtime: RUNTIME_FLAG,
  'reports-dir': {
    type: 'string',
    usage: '--reports-dir <dir>',
    description: ['where reports go (default: reports/)'],
  },
  'scenarios-dir': {
    type: 'string',
    usage: '--scenarios-dir <dir>',
    description: ['where scenario files are read from (default: scenarios/)'],
  },
  predict: {
    type: 'boolean',
    usage: '--predict',
    description: [
      "before anything starts, ask on the terminal for a guess at each claim's metric;",
      'the report sets each guess beside what was measured (needs a terminal)',
    ],
  },
  predictions: {
    type: 'string',
    usage: '--predictions <file>',
    description: [
      'the same guesses from a JSON file: { "<claim id>": <number>, ... } in the',
      "claim's unit (a ratio as 0..1); for all, keyed by scenario name",
    ],
  },
  jaeger: {
    type: 'boolean',
    usage: '--jaeger',
    description: [
      "start Jaeger (in memory, for the run's length) and send it every span; its UI's URL is",
      'printed first. Install it once with npm run setup -- --jaeger. OTEL_EXPORTER_OTLP_ENDPOINT',
      'in the environment sends the spans to that backend too',
    ],
  },
  generator: {
    type: 'string',
    usage: '--generator <where>',
    description: [
      "containers runtime: where the load generator runs. network: a container in the lab's Docker",
      "network, next to the system; host: the lab's process, through the ports the engine publishes;",
      `${DEFAULT_GENERATOR_PLACEMENT} (the default): network when DOCKER_HOST names another machine, host otherwise`,
    ],
  },
  live: {
    type: 'boolean',
    usage: '--live',
    description: ['serve a live view of the run in the browser; its URL is printed first'],
  },
  'live-port': {
    type: 'string',
    usage: '--live-port <port>',
    description: [`the live view's port, 0 to 65535 (default ${LIVE_DEFAULTS.port}: any free port)`],
  },
  'live-host': {
    type: 'string',
    usage: '--live-host <addr>',
    description: [
      `the address the live view listens on (default ${LIVE_DEFAULTS.host}: this machine only;`,
      '0.0.0.0 lets others on the network watch)',
    ],
  },
  repeat: {
    type: 'string',
    usage: '--repeat <n>',
    description: [
      'run each scenario n times (2..50) and also write one page of the runs together: each',
      "claim's min / median / max, held in k of n, unstable verdicts, every phase's spread",
    ],
  },
  junit: {
    type: 'string',
    usage: '--junit <file>',
    description: [
      'also write the verdict as JUnit XML for CI: one testsuite per scenario, one testcase',
      'per claim (a failure when it did not hold, an error when the run is invalid)',
    ],
  },
  'summary-md': {
    type: 'string',
    usage: '--summary-md <file>',
    description: [
      'also write a Markdown summary: verdict, claims table, warnings, report path',
      "(appended to GitHub's job summary too whenever GITHUB_STEP_SUMMARY is set)",
    ],
  },
} as const satisfies Record<string, CliFlag>;

/**
 * The help text's lines for the flags that have a `usage`, descriptions aligned in one column.
 *
 * @example
 *   formatFlags({ 'reports-dir': { type: 'string', usage: '--reports-dir <dir>', description: ['where reports go'] } })
 *   // '  --reports-dir <dir>  where reports go'
 */
export function formatFlags(flags: Readonly<Record<string, CliFlag>>): string {
  const shown = Object.values(flags).filter((flag) => flag.usage !== undefined);
  const width = Math.max(...shown.map((flag) => flag.usage?.length ?? 0)) + 2;
  return shown
    .flatMap((flag) =>
      (flag.description ?? ['']).map((line, index) =>
        `  ${(index === 0 ? (flag.usage ?? '') : '').padEnd(width)}${line}`.trimEnd(),
      ),
    )
    .join('\n');
}

export const USAGE = `splitlab: measure what happens when a monolith is split into services and the network fails.

Usage:
  npm run scenario -- <scenario> [options]   run one scenario on both deployments and write a report
  npm run scenario -- all [options]          run every scenario, one after the other, and write a page
                                             linking every report with its verdict
  npm run scenario -- --list                 list the scenarios, one line each
  npm run scenario -- --help                 this text

Options:
${formatFlags(SCENARIO_FLAGS)}

On a terminal, a status block at the bottom shows the scenario, column and phase, the elapsed time and
an ETA, and what each route did in the last second; without a terminal only the log lines are printed.

Exit codes: 0 the hypothesis held, 1 it did not, 2 usage or set-up error, 3 the run is invalid\n(the lab could not do what the scenario asked; report written), 130 interrupted.
Example: npm run scenario -- partition
         npm run scenario -- partition --predict --live
         npm run scenario -- partition --junit test-results/splitlab.xml   (in CI; see docs/ci.md)`;

/**
 * Turns an error of `parseArgs` into a USAGE error that names the flag and where help is; any other
 * error comes back unchanged. `command` is how the help is asked for, e.g. `npm run scenario`.
 *
 * @example
 *   toUsageError(errorOf(['--x']), 'npm run scenario').message // 'unknown option --x. See npm run scenario -- --help.'
 */
export function toUsageError(error: unknown, command: string): unknown {
  if (!(error instanceof Error)) return error;
  // parseArgs names the argument in quotes: '--bogus', '--runtime <value>', '-h, --help', 'extra'.
  const quoted = /'([^']*)'/.exec(error.message)?.[1] ?? '';
  const flag =
    quoted
      .split(/[ ,]+/)
      .filter((part) => part.startsWith('-'))
      .at(-1) ?? quoted;
  const usage = (message: string): LabError => new LabError('USAGE', message, { cause: error });
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return usage(`unknown option ${flag}. See ${command} -- --help.`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // A flag without its value, or a value that looks like a flag ('--runtime --list'); or a value
      // given to a flag that takes none ('--list=yes').
      return usage(
        error.message.includes('does not take an argument')
          ? `${flag} takes no value. See --help.`
          : `${flag} needs a value. See --help.`,
      );
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return usage(`unexpected argument ${quoted}. See ${command} -- --help.`);
    default:
      return error;
  }
}

/** The value of `--runtime`, checked; `local` when it is not given. */
export function parseRuntimeChoice(value: string | undefined): RuntimeChoice {
  if (value === undefined) return 'local';
  if (!(RUNTIME_CHOICES as readonly string[]).includes(value)) {
    throw new LabError(
      'USAGE',
      `--runtime ${value} is not known; use local (the default), containers or auto.`,
    );
  }
  return value as RuntimeChoice;
}

/** True when `--help` or `-h` comes before any `--` (after which everything is a positional argument). */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/**
 * Parses the CLI's arguments; every mistake is a USAGE error that names the argument and the fix.
 * `--help` wins over everything else on the line.
 *
 * @example
 *   parseCliArgs(['partition', '--runtime', 'local']) // { command: 'run', scenario: 'partition', runtime: 'local' }
 */
export function parseCliArgs(argv: readonly string[]): CliOptions {
  if (asksForHelp(argv)) return { command: 'help', runtime: 'local' };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: SCENARIO_FLAGS, strict: true, allowPositionals: true });
  } catch (error) {
    throw toUsageError(error, 'npm run scenario');
  }
  const { values, positionals } = parsed;
  const options: CliOptions = { command: 'run', runtime: parseRuntimeChoice(values.runtime) };
  if (values['reports-dir'] !== undefined) options.reportsDir = values['reports-dir'];
  if (values['scenarios-dir'] !== undefined) options.scenariosDir = values['scenarios-dir'];
  Object.assign(options, parsePredictionFlags(values.predict, values.predictions));
  const live = parseLiveFlags(values.live, values['live-port'], values['live-host']);
  if (live) options.live = live;
  Object.assign(options, parseCiOutputFlags(values.junit, values['summary-md']));
  if (values.repeat !== undefined) options.repeat = parseRepeat(values.repeat);
  if (values.jaeger) options.jaeger = true;
  if (values.generator !== undefined)
    options.generator = parseGeneratorPlacement(values.generator, options.runtime);
  if (values.list) return { ...options, command: 'list' };
  if (positionals.length === 0)
    throw new LabError('USAGE', 'which scenario? e.g. npm run scenario -- partition (see --list)');
  if (positionals.length > 1)
    throw new LabError('USAGE', `one scenario at a time; got ${positionals.join(', ')}`);
  if (positionals[0] === 'all') return { ...options, command: 'all' };
  return { ...options, scenario: positionals[0] };
}

/** `--generator <where>`: only where it means something, the containers runtime (or auto). */
function parseGeneratorPlacement(value: string, runtime: RuntimeChoice): GeneratorPlacement {
  const placement = GENERATOR_PLACEMENTS.find((known) => known === value);
  if (!placement)
    throw new LabError(
      'USAGE',
      `--generator ${value} is not known; use auto (the default), network (a container next to the system) or host (the lab's process).`,
    );
  if (runtime === 'local')
    throw new LabError(
      'USAGE',
      "--generator is for the containers runtime; on the local runtime the load generator always runs in the lab's process. Add --runtime containers, or leave --generator out.",
    );
  return placement;
}

/** `--predict` or `--predictions <file>`, not both. */
function parsePredictionFlags(
  predict: boolean | undefined,
  file: string | undefined,
): Pick<CliOptions, 'predict' | 'predictionsFile'> {
  if (predict && file !== undefined)
    throw new LabError(
      'USAGE',
      '--predict and --predictions both give predictions; use one: --predict to type them, --predictions <file> to read them',
    );
  if (file === '') throw new LabError('USAGE', '--predictions needs a file name. See --help.');
  if (predict) return { predict: true };
  return file === undefined ? {} : { predictionsFile: file };
}

/** `--junit <file>` and `--summary-md <file>`, each needing a file name. */
export function parseCiOutputFlags(
  junit: string | undefined,
  summaryMarkdown: string | undefined,
): Pick<CliOptions, 'junitFile' | 'summaryMarkdownFile'> {
  if (junit !== undefined && junit.trim() === '')
    throw new LabError('USAGE', '--junit needs a file name, e.g. --junit test-results/splitlab.xml');
  if (summaryMarkdown !== undefined && summaryMarkdown.trim() === '')
    throw new LabError('USAGE', '--summary-md needs a file name, e.g. --summary-md splitlab-summary.md');
  if (junit !== undefined && junit === summaryMarkdown)
    throw new LabError(
      'USAGE',
      `--junit and --summary-md both name ${junit}; give each its own file, e.g. splitlab.xml and splitlab.md`,
    );
  return {
    ...(junit !== undefined ? { junitFile: junit } : {}),
    ...(summaryMarkdown !== undefined ? { summaryMarkdownFile: summaryMarkdown } : {}),
  };
}

/**
 * `--live` with its address, checked; `--live-port` or `--live-host` without `--live` is a mistake.
 *
 * @example parseLiveFlags(true, '8080', undefined) // { host: '127.0.0.1', port: 8080 }
 */
export function parseLiveFlags(
  live: boolean | undefined,
  port: string | undefined,
  host: string | undefined,
): CliOptions['live'] {
  if (!live) {
    const given = port !== undefined ? '--live-port' : host !== undefined ? '--live-host' : undefined;
    if (given) throw new LabError('USAGE', `${given} only applies to the live view; add --live to serve it`);
    return undefined;
  }
  if (port === '')
    throw new LabError('USAGE', '--live-port needs a port number, 0 to 65535 (0: any free port)');
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535))
    throw new LabError(
      'USAGE',
      `--live-port ${port} is not a port; use a whole number from 0 to 65535 (0, the default: any free port)`,
    );
  if (host !== undefined && host.trim() === '')
    throw new LabError('USAGE', '--live-host needs an address, e.g. 127.0.0.1 (the default) or 0.0.0.0');
  return { host: host ?? LIVE_DEFAULTS.host, port: port === undefined ? LIVE_DEFAULTS.port : Number(port) };
}

/** The value of `--repeat`: a whole number from 1 to MAX_REPEAT. */
export function parseRepeat(value: string): number {
  const repeat = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(repeat) || repeat < 1 || repeat > MAX_REPEAT)
    throw new LabError(
      'USAGE',
      `--repeat ${value} is not a number of runs; give a whole number from 1 to ${MAX_REPEAT}, e.g. --repeat 5.`,
    );
  return repeat;
}
