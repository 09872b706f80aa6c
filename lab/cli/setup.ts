/**
 * `npm run setup`: installs the tools the local runtime needs that npm does not bring
 * (toxiproxy-server, built with `go install` into .lab/bin), and reports what it found.
 * A scenario run does the same on first use; this lets CI do it before the clock of any test starts.
 */
import { access, constants } from 'node:fs/promises';
import { postgresBinaries } from '../runtime/local/embedded-postgres.ts';
import { isLabError } from '../errors.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { locateToxiproxy } from '../runtime/local/toxiproxy-binary.ts';

try {
  const toxiproxy = await locateToxiproxy(PROJECT_ROOT, { install: true, log: (line) => console.log(line) });
  console.log(`toxiproxy-server: ${toxiproxy}`);
  // Missing when npm ran with --ignore-scripts: the package's postinstall unpacks the binaries.
  const { postgres } = await postgresBinaries();
  await access(postgres, constants.X_OK);
  console.log(`postgres: ${postgres}`);
  console.log(`node: ${process.version}`);
} catch (error) {
  console.error(`splitlab setup: ${isLabError(error) ? error.message : String(error)}`);
  process.exitCode = 2;
}
