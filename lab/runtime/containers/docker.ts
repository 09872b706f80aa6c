import type { ContainerRuntimeClient } from 'testcontainers';
import { LabError } from '../../errors.ts';

/**
 * Ryuk (testcontainers' reaper) is an image that has to be pulled, and finding the host address pulls
 * `alpine`; neither works without a registry. The lab removes what it creates itself (see labels.ts),
 * so both are turned off unless the user chose otherwise.
 */
function configureTestcontainers(): void {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
}

export const HOW_TO_GET_DOCKER =
  'Start a Docker engine (on Debian: apt-get install docker.io && dockerd &), or set DOCKER_HOST, ' +
  'or use --runtime local, which needs no Docker.';

let connected: Promise<ContainerRuntimeClient> | undefined;

/**
 * Connects to the Docker engine the way testcontainers finds it (DOCKER_HOST, ~/.testcontainers.properties,
 * /var/run/docker.sock, rootless socket). Throws DOCKER_UNAVAILABLE naming the fix when none answers.
 */
export async function connectDocker(timeoutMs = 5_000): Promise<ContainerRuntimeClient> {
  configureTestcontainers();
  connected ??= (async () => {
    const { getContainerRuntimeClient } = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        getContainerRuntimeClient(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the engine did not answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  })().catch((error: unknown) => {
    connected = undefined;
    throw new LabError(
      'DOCKER_UNAVAILABLE',
      `no Docker engine answers (${errorText(error)}). ${HOW_TO_GET_DOCKER}`,
      {
        cause: error,
      },
    );
  });
  return await connected;
}

/** Whether a Docker engine answers, and if not, why: what `--runtime auto` and the test suite decide on. */
export async function probeDocker(
  timeoutMs = 5_000,
): Promise<{ available: true; version: string } | { available: false; reason: string }> {
  try {
    const client = await connectDocker(timeoutMs);
    const runtime = client.info.containerRuntime;
    return { available: true, version: `Docker API ${runtime.serverVersion} on ${runtime.operatingSystem}` };
  } catch (error) {
    return { available: false, reason: errorText(error) };
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
