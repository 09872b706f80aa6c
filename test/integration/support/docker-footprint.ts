import { execFileSync } from 'node:child_process';

/**
 * What `docker ps -a` shows of the lab (by its label): the names of its containers, running or not;
 * given an owner pid, only that lab process's (other labs on the machine come and go meanwhile).
 */
export function labContainers(ownerPid?: number): string[] {
  const label = ownerPid === undefined ? 'io.splitlab.lab' : `io.splitlab.owner-pid=${ownerPid}`;
  return dockerLines(['ps', '-a', '--filter', `label=${label}`, '--format', '{{.Names}}']);
}

/** What `docker network ls` shows of the lab (its networks are named splitlab-<pid>-<hex>). */
export function labNetworks(ownerPid?: number): string[] {
  const prefix = ownerPid === undefined ? 'splitlab-' : `splitlab-${ownerPid}-`;
  return dockerLines(['network', 'ls', '--filter', `name=${prefix}`, '--format', '{{.Name}}']).filter(
    (name) => name.startsWith(prefix),
  );
}

function dockerLines(args: string[]): string[] {
  return execFileSync('docker', args, { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** The gateway and the container addresses of the lab's networks: the only non-loopback places it may listen. */
export function labNetworkAddresses(ownerPid?: number): { gateways: string[]; containers: string[] } {
  const gateways: string[] = [];
  const containers: string[] = [];
  for (const name of labNetworks(ownerPid)) {
    const info = JSON.parse(
      execFileSync('docker', ['network', 'inspect', name, '--format', '{{json .}}'], { encoding: 'utf8' }),
    ) as {
      IPAM?: { Config?: { Gateway?: string }[] };
      Containers?: Record<string, { IPv4Address?: string }>;
    };
    for (const config of info.IPAM?.Config ?? []) if (config.Gateway) gateways.push(config.Gateway);
    for (const container of Object.values(info.Containers ?? {})) {
      if (container.IPv4Address) containers.push(container.IPv4Address.split('/')[0] ?? '');
    }
  }
  return { gateways, containers };
}
