import type { DependencyWatchdog } from '../dependency-watchdog.ts';
import type { Infrastructure } from './infrastructure.ts';
import { RUN_LABEL } from './labels.ts';

/** One `die` event of Docker's event stream, as much of it as the watchdog reads. */
interface DieEvent {
  id?: string;
  Actor?: { Attributes?: { name?: string; exitCode?: string } };
}

/** Docker names carry a leading slash in its API: `/splitlab-1234-ab12cd-toxiproxy`. */
const nameOf = (container: { getName(): string }): string => container.getName().replace(/^\//, '');

/**
 * Points the dependency watchdog at what the containers runtime depends on: the Docker engine (a ping
 * every poll), the Toxiproxy, PostgreSQL, DNS server and trace relay containers (Docker's `die` events, and
 * their state at every poll in case the event stream missed one) and Toxiproxy's API. Returns how to
 * stop listening.
 *
 * @example
 *   const stopWatching = await watchInfrastructure(watchdog, infrastructure);
 *   teardown.defer(() => { watchdog.standDown(); stopWatching(); });
 */
export async function watchInfrastructure(
  watchdog: DependencyWatchdog,
  infrastructure: Pick<
    Infrastructure,
    | 'client'
    | 'identity'
    | 'toxiproxy'
    | 'toxiproxyClient'
    | 'postgres'
    | 'dnsContainer'
    | 'traceRelayContainer'
  >,
  /** The load generator's container, when the lab runs one in its network. */
  generator?: { containerId: string; where: string },
): Promise<() => void> {
  const docker = infrastructure.client.container.dockerode;
  const watched = new Map([
    [infrastructure.toxiproxy.getId(), `the Toxiproxy container ${nameOf(infrastructure.toxiproxy)}`],
    [infrastructure.postgres.getId(), `the PostgreSQL container ${nameOf(infrastructure.postgres)}`],
    [
      infrastructure.dnsContainer.getId(),
      `the lab's DNS server container ${nameOf(infrastructure.dnsContainer)}`,
    ],
    [
      infrastructure.traceRelayContainer.getId(),
      `the lab's trace relay container ${nameOf(infrastructure.traceRelayContainer)}`,
    ],
  ]);
  if (generator) watched.set(generator.containerId, `the lab's load generator (${generator.where})`);
  watchdog.poll('the Docker engine', async (signal) => {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
    ]);
  });
  // Docker reports a death only once it has unpublished the container's ports (0.8-1.6 s after
  // `docker kill` here); the API through its published port fails sooner.
  watchdog.poll(`Toxiproxy's API (${infrastructure.toxiproxyClient.host})`, async (signal) => {
    const response = await fetch(`${infrastructure.toxiproxyClient.host}/version`, { signal });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`status ${response.status}`);
  });
  for (const [id, what] of watched) {
    watchdog.poll(what, async () => {
      // Only a container that the engine reports stopped or gone counts here; an engine that does not
      // answer is the engine's poll's business.
      const state = await docker
        .getContainer(id)
        .inspect()
        .then(
          (info: { State: { Running: boolean; ExitCode: number } }) => info.State,
          (error: { statusCode?: number }) => {
            if (error.statusCode === 404) return { Running: false, ExitCode: -1 };
            return undefined;
          },
        );
      if (state && !state.Running) throw new Error(`docker inspect: not running, ExitCode ${state.ExitCode}`);
    });
  }
  const events = await docker.getEvents({
    filters: {
      type: ['container'],
      event: ['die'],
      label: [`${RUN_LABEL}=${infrastructure.identity.runId}`],
    },
  });
  let listening = true;
  let buffered = '';
  events.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line === '') continue;
      const event = JSON.parse(line) as DieEvent;
      const what = watched.get(event.id ?? '');
      if (what) {
        const exitCode = event.Actor?.Attributes?.exitCode ?? '?';
        watchdog.watch(what, Promise.resolve(`Docker reported it died (exit code ${exitCode})`));
      }
    }
  });
  const streamEnded = (): void => {
    if (listening) watchdog.watch('the Docker engine', Promise.resolve('its event stream ended'));
  };
  events.on('end', streamEnded);
  events.on('error', streamEnded);
  return () => {
    listening = false;
    (events as unknown as { destroy?: () => void }).destroy?.();
  };
}
