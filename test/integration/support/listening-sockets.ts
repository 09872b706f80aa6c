import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

export interface ListeningSocket {
  protocol: 'tcp' | 'udp';
  /** The local address without brackets: `127.0.0.1`, `::1`, `*` (every address). */
  address: string;
  port: number;
  /** The processes holding it, from `ss -p`: `{ name: 'docker-proxy', pid: 1234 }`. */
  owners: { name: string; pid: number }[];
}

/**
 * One line of `ss -ltnuHp` as a socket, e.g.
 * `tcp LISTEN 0 4096 127.0.0.1:44805 0.0.0.0:* users:(("docker-proxy",pid=13684,fd=4))`.
 */
export function parseSsLine(line: string): ListeningSocket | undefined {
  const columns = line.trim().split(/\s+/);
  const [protocol, , , , local] = columns;
  if ((protocol !== 'tcp' && protocol !== 'udp') || !local) return undefined;
  const colon = local.lastIndexOf(':');
  // An address may carry an interface (`127.0.0.53%lo`); the address is what matters.
  const address = local
    .slice(0, colon)
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '');
  const owners = [...line.matchAll(/\("([^"]+)",pid=(\d+)/g)].map((match) => ({
    name: match[1] ?? '',
    pid: Number(match[2]),
  }));
  return { protocol, address, port: Number(local.slice(colon + 1)), owners };
}

/** Every TCP and UDP socket listening on this machine, with its owners (needs root to see others'). */
export function listeningSockets(): ListeningSocket[] {
  return execFileSync('ss', ['-ltnuHp'], { encoding: 'utf8' })
    .split('\n')
    .map(parseSsLine)
    .filter((socket) => socket !== undefined);
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  const v4 = address.replace(/^::ffff:/, '');
  if (net.isIPv4(v4)) return v4.startsWith('127.');
  return address === '::1';
}

/** The container address a docker-proxy forwards to (`-container-ip 172.18.0.2`), from its command line. */
export function dockerProxyTarget(pid: number): string | undefined {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const index = args.indexOf('-container-ip');
    return index >= 0 ? args[index + 1] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The sockets of one lab: those of its process (`ownerPid`) and its descendants, and those of the
 * docker-proxy processes that publish the ports of containers on its networks (`containerAddresses`).
 * Only these, because other labs on the machine (other test runs) open and close ports meanwhile.
 */
export function labSockets(
  labPids: ReadonlySet<number>,
  containerAddresses: readonly string[] = [],
): ListeningSocket[] {
  return listeningSockets().filter((socket) =>
    socket.owners.some(
      (owner) =>
        labPids.has(owner.pid) ||
        (owner.name === 'docker-proxy' && containerAddresses.includes(dockerProxyTarget(owner.pid) ?? '')),
    ),
  );
}
