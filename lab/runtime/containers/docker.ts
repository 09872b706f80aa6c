import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ContainerRuntimeClient } from 'testcontainers';
import { LabError } from '../../errors.ts';

/** The engine's address when it is on this machine. */
export const LOOPBACK = '127.0.0.1';

/**
 * Where the lab reaches what the engine publishes, and the only address it publishes on: 127.0.0.1 for
 * an engine on this machine (a unix socket, or DOCKER_HOST naming this machine), the engine's own address
 * for a remote one (DOCKER_HOST=tcp://10.0.0.5:2375), so that neither is open on every interface.
 *
 * @example
 *   await engineAddressOf('tcp://10.231.0.2:2375') // '10.231.0.2'
 *   await engineAddressOf(undefined)               // '127.0.0.1'
 */
export async function engineAddressOf(dockerHost: string | undefined): Promise<string> {
  if (!dockerHost || !/^(tcp|http|https):\/\//.test(dockerHost)) return LOOPBACK;
  const hostname = new URL(dockerHost.replace(/^tcp:/, 'http:')).hostname.replace(/^\[|\]$/g, '');
  const address = isIP(hostname) ? hostname : (await lookup(hostname, { family: 4 })).address;
  return address.startsWith('127.') || hostname === 'localhost' ? LOOPBACK : address;
}

let engineAddress: string | undefined;

/** The engine's address as `engineAddressOf` found it; known once `connectDocker` has answered. */
export function publishedPortsAddress(): string {
  if (!engineAddress) throw new Error('bug: publishedPortsAddress() before connectDocker()');
  return engineAddress;
}

/**
 * Ryuk (testcontainers' reaper) is an image that has to be pulled, and finding the host address pulls
 * `alpine`; neither works without a registry. The lab removes what it creates itself (see labels.ts),
 * so both are turned off unless the user chose otherwise; the host is the engine's address.
 */
async function configureTestcontainers(): Promise<void> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  try {
    engineAddress = await engineAddressOf(process.env.DOCKER_HOST);
  } catch (error) {
    throw new LabError(
      'DOCKER_UNAVAILABLE',
      `DOCKER_HOST=${process.env.DOCKER_HOST} names a host this machine cannot resolve (${String(error)}); ` +
        'give its IP address, e.g. DOCKER_HOST=tcp://10.0.0.5:2375.',
      { cause: error },
    );
  }
  // Always from DOCKER_HOST, never inherited: a test runner's parent process may have set it for
  // another engine.
  process.env.TESTCONTAINERS_HOST_OVERRIDE = engineAddress === LOOPBACK ? 'localhost' : engineAddress;
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
  await configureTestcontainers();
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
