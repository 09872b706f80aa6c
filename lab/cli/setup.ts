/**
 * `npm run setup`: installs the tools the local runtime needs that npm does not bring
 * (toxiproxy-server, built with `go install` into .lab/bin), and reports what it found.
 * A scenario run does the same on first use; this lets CI do it before the clock of any test starts.
 * `--jaeger` also builds Jaeger into .lab/bin (optional: only for browsing traces in Jaeger's UI).
 */
import { access, constants, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { postgresBinaries } from '../runtime/local/embedded-postgres.ts';
import { EXIT_USAGE_OR_SETUP, isLabError } from '../errors.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { locateToxiproxy } from '../runtime/local/toxiproxy-binary.ts';
import { ensureJaegerInstalled, JAEGER_VERSION, locateJaeger } from '../tracing/jaeger.ts';
import { formatFlags, toUsageError, type CliFlag } from './scenario-args.ts';

const SETUP_FLAGS = {
  help: { type: 'boolean', short: 'h', usage: '--help', description: ['this text'] },
  jaeger: {
    type: 'boolean',
    usage: '--jaeger',
    description: [
      `also build Jaeger ${JAEGER_VERSION} into .lab/bin (Go, the network and a few minutes),`,
      'for browsing traces in its UI',
    ],
  },
} as const satisfies Record<string, CliFlag>;

const SETUP_USAGE = `setup: install what the local runtime needs that npm does not bring, and say what was found.

Usage: npm run setup -- [options]

Options:
${formatFlags(SETUP_FLAGS)}`;

function readFlags(): { jaeger: boolean } {
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options: SETUP_FLAGS, strict: true });
    if (values.help) {
      console.log(SETUP_USAGE);
      process.exit(0);
    }
    return { jaeger: values.jaeger ?? false };
  } catch (caught) {
    const error = toUsageError(caught, 'npm run setup');
    if (!isLabError(error)) throw error;
    console.error(`splitlab setup: ${error.message}`);
    process.exit(EXIT_USAGE_OR_SETUP);
  }
}

const flags = readFlags();
try {
  const toxiproxy = await locateToxiproxy(PROJECT_ROOT, { install: true, log: (line) => console.log(line) });
  console.log(`toxiproxy-server: ${toxiproxy}`);
  // Missing when npm ran with --ignore-scripts: the package's postinstall unpacks the binaries.
  const { postgres } = await postgresBinaries();
  await access(postgres, constants.X_OK);
  console.log(`postgres: ${postgres}`);
  console.log(`node: ${process.version}`);
  if (flags.jaeger) {
    const installed = await locateJaeger();
    const started = performance.now();
    const jaeger = await ensureJaegerInstalled((line) => console.log(line));
    const megabytes = ((await stat(jaeger)).size / 1024 / 1024).toFixed(0);
    const built = installed ? '' : `; built in ${((performance.now() - started) / 1000).toFixed(0)} s`;
    console.log(`jaeger: ${jaeger} (${megabytes} MiB${built})`);
  }
} catch (error) {
  console.error(`splitlab setup: ${isLabError(error) ? error.message : String(error)}`);
  process.exitCode = EXIT_USAGE_OR_SETUP;
}
