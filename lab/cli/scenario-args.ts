import { LabError } from '../errors.ts';

export const RUNTIME_CHOICES = ['local', 'containers', 'auto'] as const;
export type RuntimeChoice = (typeof RUNTIME_CHOICES)[number];

export interface CliOptions {
  command: 'help' | 'list' | 'run' | 'all';
  scenario?: string;
  runtime: RuntimeChoice;
  reportsDir?: string;
  scenariosDir?: string;
}

export const USAGE = `splitlab: measure what happens when a monolith is split into services and the network fails.

Usage:
  npm run scenario -- <scenario> [options]   run one scenario on both deployments and write a report
  npm run scenario -- all [options]          run every scenario, one after the other, and write a page
                                             linking every report with its verdict
  npm run scenario -- --list                 list the scenarios, one line each
  npm run scenario -- --help                 this text

Options:
  --runtime <runtime>    where the topology runs: local (child processes; the default, no Docker),
                         containers (Docker via testcontainers, a CPU/memory quota per service),
                         auto (containers when a Docker engine answers, local otherwise)
  --reports-dir <dir>    where reports go (default: reports/)
  --scenarios-dir <dir>  where scenario files are read from (default: scenarios/)

Exit codes: 0 the hypothesis held, 1 it did not, 2 usage or set-up error, 130 interrupted.
Example: npm run scenario -- partition`;

/**
 * Parses the CLI's arguments; every mistake is a USAGE error that names the argument and the fix.
 *
 * @example
 *   parseCliArgs(['partition', '--runtime', 'local']) // { command: 'run', scenario: 'partition', runtime: 'local' }
 */
export function parseCliArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = { command: 'run', runtime: 'local' };
  const positional: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    const value = (): string => {
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('--'))
        throw new LabError('USAGE', `${arg} needs a value. See --help.`);
      index += 1;
      return next;
    };
    if (arg === '--help' || arg === '-h') return { ...options, command: 'help' };
    else if (arg === '--list') options.command = 'list';
    else if (arg === '--runtime') {
      const runtime = value();
      if (!(RUNTIME_CHOICES as readonly string[]).includes(runtime)) {
        throw new LabError(
          'USAGE',
          `--runtime ${runtime} is not known; use local (the default), containers or auto.`,
        );
      }
      options.runtime = runtime as RuntimeChoice;
    } else if (arg === '--reports-dir') options.reportsDir = value();
    else if (arg === '--scenarios-dir') options.scenariosDir = value();
    else if (arg.startsWith('-'))
      throw new LabError('USAGE', `unknown option ${arg}. See npm run scenario -- --help.`);
    else positional.push(arg);
  }
  if (options.command === 'list') return options;
  if (positional.length === 0)
    throw new LabError('USAGE', 'which scenario? e.g. npm run scenario -- partition (see --list)');
  if (positional.length > 1)
    throw new LabError('USAGE', `one scenario at a time; got ${positional.join(', ')}`);
  if (positional[0] === 'all') return { ...options, command: 'all' };
  return { ...options, scenario: positional[0] };
}
