import { getContainerRuntimeClient, type GenericContainer } from 'testcontainers';
import { publishedPortsAddress } from './docker.ts';

/** The part of Docker's HostConfig that publishes ports: `{ '8474/tcp': [{ HostIp, HostPort }] }`. */
export interface PortBindingsConfig {
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[]>;
}

/**
 * Binds every published port on `address` alone (127.0.0.1, or a remote engine's own address), and with
 * `only`, stops publishing the container ports not in it. testcontainers publishes with no host IP, which
 * Docker binds on every interface (0.0.0.0 and ::): on a shared network anyone could reach the lab's
 * Toxiproxy API and inject faults, or its PostgreSQL.
 */
export function bindPublishedPorts(
  hostConfig: PortBindingsConfig,
  address: string,
  only?: readonly number[],
): void {
  for (const [port, bindings] of Object.entries(hostConfig.PortBindings ?? {})) {
    if (only && !only.includes(Number.parseInt(port, 10))) {
      delete hostConfig.PortBindings?.[port];
      continue;
    }
    for (const binding of bindings) binding.HostIp = address;
  }
}

/**
 * A container class like `Base` whose published ports listen only where the lab reaches the engine
 * (127.0.0.1 for an engine on this machine, see publishedPortsAddress; and, given `only`, only
 * those container ports are published). testcontainers 12 takes no host IP in withExposedPorts; its hook
 * just before the container is created can still set one. A container that joins the lab's network
 * under an alias also leaves Docker's default bridge, where testcontainers first puts it: there every
 * container on the machine, another lab's included, could reach it (its Toxiproxy API, its PostgreSQL).
 *
 * @example
 *   const LabFacingPostgres = publishedToLab(PostgreSqlContainer);
 *   await new LabFacingPostgres('postgres:18').start();
 */
export function publishedToLab<
  // A mixin's constructor must take `any[]` (TypeScript's rule for mixin classes).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  T extends new (...args: any[]) => GenericContainer,
>(Base: T, only?: readonly number[]): T {
  class PublishedToLab extends Base {
    protected override async beforeContainerCreated(): Promise<void> {
      await super.beforeContainerCreated?.();
      bindPublishedPorts(this.hostConfig, publishedPortsAddress(), only);
    }

    protected override async containerCreated(containerId: string): Promise<void> {
      await super.containerCreated?.(containerId);
      if (this.networkMode === undefined || this.networkAliases.length === 0) return;
      const client = await getContainerRuntimeClient();
      await client.container.dockerode.getNetwork('bridge').disconnect({ Container: containerId });
    }
  }
  // Only a protected hook differs, so the class is used exactly as `Base` (its builders return `Base`'s types).
  return PublishedToLab;
}
