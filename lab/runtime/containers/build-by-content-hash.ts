import { rm } from 'node:fs/promises';
import { GenericContainer, ImageName, type ContainerRuntimeClient } from 'testcontainers';
import { LabError } from '../../errors.ts';
import { makeLabTempDir } from '../lab-temp-dirs.ts';
import type { LabLog } from '../runtime.ts';
import { ImageContext } from './image-context.ts';

/** The repository of every locally built image: `splitlab/<name>:<content hash>`. */
const LOCAL_REPOSITORY = 'splitlab';

/**
 * Assembles a context, hashes it and builds `splitlab/<name>:<hash>` unless an image with that tag
 * exists already. Older tags of the same image are removed once the new one is built.
 */
export async function buildByContentHash(
  client: ContainerRuntimeClient,
  name: string,
  fill: (context: ImageContext) => Promise<void>,
  options: { log: LabLog; buildArgs?: Record<string, string>; hashExtra?: string },
): Promise<string> {
  const context = new ImageContext();
  await fill(context);
  const hash = await context.contentHash(JSON.stringify(options.buildArgs ?? {}) + (options.hashExtra ?? ''));
  const tag = `${LOCAL_REPOSITORY}/${name}:${hash}`;
  if (await client.image.exists(ImageName.fromString(tag))) return tag;
  options.log(`building image ${tag} (offline, from files on this machine) ...`);
  const started = performance.now();
  const dir = await makeLabTempDir(`image-${name}`);
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
