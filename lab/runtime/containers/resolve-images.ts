import { ImageName, type ContainerRuntimeClient } from 'testcontainers';
import { LabError } from '../../errors.ts';
import type { LabLog } from '../runtime.ts';
import { agentRecipe } from './agent-image.ts';
import { buildByContentHash } from './build-by-content-hash.ts';
import { BASE_IMAGE_RECIPES, OFFICIAL_IMAGES, servicesRecipe, type BaseImageKind } from './image-recipes.ts';

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
  /** The lab's in-network parts (DNS server, trace relay, load generator), on top of `node`. */
  agent: ResolvedImage;
}

/**
 * Where images come from. `auto`: an official image already on the engine or pullable, otherwise the
 * locally built equivalent. `local`: always the locally built ones (air-gapped; no pull is attempted).
 * `official`: the official images or an error.
 */
export type ImageSource = 'auto' | 'local' | 'official';

/** Reads SPLITLAB_IMAGES (unset means `auto`). */
export function imageSourceFromEnv(value = process.env.SPLITLAB_IMAGES): ImageSource {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'local' || value === 'official') return value;
  throw new LabError(
    'USAGE',
    `SPLITLAB_IMAGES=${value} is not known; use auto (the default), local or official.`,
  );
}

async function imageSize(client: ContainerRuntimeClient, name: string): Promise<number> {
  const info = await client.image.inspect(ImageName.fromString(name));
  return info.Size;
}

async function imageExists(client: ContainerRuntimeClient, name: string): Promise<boolean> {
  return await client.image.exists(ImageName.fromString(name));
}

/** Whether the official image is on the engine or could be pulled; `official` turns a failed pull into an error. */
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
  const name = await buildByContentHash(client, kind, BASE_IMAGE_RECIPES[kind], { log });
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
  const servicesName = await buildByContentHash(client, 'services', servicesRecipe, {
    log: options.log,
    buildArgs: { NODE_IMAGE: node.name },
    hashExtra: baseId,
  });
  const agentName = await buildByContentHash(client, 'agent', agentRecipe, {
    log: options.log,
    buildArgs: { NODE_IMAGE: node.name },
    hashExtra: baseId,
  });
  const builtLocally = async (name: string): Promise<ResolvedImage> => ({
    name,
    origin: 'built locally',
    sizeBytes: await imageSize(client, name),
  });
  return {
    node,
    postgres,
    toxiproxy,
    services: await builtLocally(servicesName),
    agent: await builtLocally(agentName),
  };
}

export function describeImage(image: ResolvedImage): string {
  return `${image.name} (${image.origin}, ${(image.sizeBytes / 1_000_000).toFixed(0)} MB)`;
}
