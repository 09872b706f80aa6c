/**
 * `npm run doctor`: can this machine run the lab? Checks everything a run needs at once (each check
 * with its own timeout, a few seconds in all), prints one line per check with the fix for each miss,
 * and exits 0 when a local run will work (Docker is optional), 1 when it will not, 2 on a usage error.
 * See docs/preflight.md.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../defaults.ts';
import { EXIT_USAGE_OR_SETUP, isLabError } from '../errors.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { runChecks } from '../doctor/check.ts';
import { doctorChecks, TOXIPROXY_ROOT_ENV } from '../doctor/checks.ts';
import { formatJson, formatReport } from '../doctor/checklist-text.ts';
import { judgeVerdict } from '../doctor/verdict.ts';
import { formatFlags, toUsageError, type CliFlag } from './scenario-args.ts';

const DOCTOR_FLAGS = {
  help: { type: 'boolean', short: 'h', usage: '--help', description: ['this text'] },
  json: { type: 'boolean', usage: '--json', description: ['the results as one JSON object, for machines'] },
  'reports-dir': {
    type: 'string',
    usage: '--reports-dir <dir>',
    description: [
      'where runs write reports (default: reports/): its free space is checked, and the',
      "runs recorded there give the time estimates' start/settle overhead",
    ],
  },
} as const satisfies Record<string, CliFlag>;

const DOCTOR_USAGE = `doctor: can this machine run the lab? One line per check, with the fix for each miss.

Usage: npm run doctor [-- options]

Options:
${formatFlags(DOCTOR_FLAGS)}

Checks: Node and npm, the project's Node 24, npm ci, the lab's code, toxiproxy-server, the PostgreSQL
binaries, loopback ports, CPUs and pinning, disk space; optional: a Docker engine and the lab's images
(only for --runtime containers), chromium (only for the project's browser tests); and how long
npm run scenario -- all takes on each runtime.

Exit codes: 0 a local run will work here (Docker optional), 1 it will not (a check marked ✗), 2 usage error.`;

async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: DOCTOR_FLAGS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw toUsageError(error, 'npm run doctor');
  }
  if (values.help) {
    console.log(DOCTOR_USAGE);
    return 0;
  }
  const started = performance.now();
  const checks = doctorChecks({
    projectRoot: PROJECT_ROOT,
    reportsDir: path.resolve(values['reports-dir'] ?? path.join(PROJECT_ROOT, DEFAULTS.reportsDir)),
    scenariosDir: path.join(PROJECT_ROOT, 'scenarios'),
    ...(process.env[TOXIPROXY_ROOT_ENV] ? { toxiproxyRoot: process.env[TOXIPROXY_ROOT_ENV] } : {}),
  });
  const results = await runChecks(checks);
  const verdict = judgeVerdict(results);
  const context = {
    platform: `${os.platform()}-${os.arch()}, ${os.availableParallelism()} CPUs, Node ${process.version}`,
    elapsedMs: performance.now() - started,
  };
  console.log(values.json ? formatJson(results, verdict, context) : formatReport(results, verdict, context));
  return verdict.exitCode;
}

let exitCode: number;
try {
  exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`splitlab doctor: ${isLabError(error) ? error.message : String(error)}`);
  exitCode = EXIT_USAGE_OR_SETUP;
}
// A check that outlived its timeout (an import, a Docker connection) must not keep doctor alive: the
// answer is printed, so leave once stdout is flushed.
process.stdout.write('', () => process.exit(exitCode));
