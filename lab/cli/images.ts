/**
 * `npm run images`: builds (or finds) every image the containers runtime needs, without a registry,
 * and prints what it will use. A scenario run does the same on first use; running it ahead keeps the
 * build out of the first run's clock (and out of CI's test timings).
 */
import { connectDocker } from '../runtime/containers/docker.ts';
import { describeImage, resolveLabImages } from '../runtime/containers/resolve-images.ts';
import { reapLeftovers } from '../runtime/containers/labels.ts';
import { reapDeadLabsTempDirs } from '../runtime/lab-temp-dirs.ts';
import { isLabError } from '../errors.ts';

const log = (line: string): void => console.log(line);
try {
  const client = await connectDocker();
  await reapLeftovers(client, log);
  // Build contexts of an image build that was killed are temp dirs like any other lab run's.
  await reapDeadLabsTempDirs(log);
  const started = performance.now();
  const images = await resolveLabImages(client, { log });
  for (const [role, image] of Object.entries(images))
    console.log(`${role.padEnd(10)} ${describeImage(image)}`);
  console.log(`images ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  console.error(`splitlab images: ${isLabError(error) ? error.message : String(error)}`);
  process.exitCode = 2;
}
