import { Resolver } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import CacheableLookup from 'cacheable-lookup';
import { SERVICE_DEFAULTS } from '../runtime/service-defaults.ts';

/**
 * Asks only for A records. The lab's networks are IPv4; an AAAA query that the lab's DNS server ignores
 * would otherwise hold every lookup for a full resolver timeout and fail it.
 */
class Ipv4OnlyResolver extends Resolver {
  override resolve6 = (() => Promise.resolve([])) as unknown as Resolver['resolve6'];
}

/**
 * A `lookup` for sockets that resolves names only through the given DNS server (`host:port`, an IP
 * address), never /etc/hosts or the system resolver, and caches answers for their TTL like a real client
 * library would, so a scenario can show a stale answer outliving a DNS change.
 *
 * @example
 *   const agent = new Agent({ connect: { lookup: createDnsLookup('127.0.0.1:5353') } });
 */
export function createDnsLookup(server: string, options = SERVICE_DEFAULTS.dns): LookupFunction {
  const resolver = new Ipv4OnlyResolver({ timeout: options.timeoutMs, tries: options.tries });
  resolver.setServers([server]);
  const cache = new CacheableLookup({ resolver, lookup: false });
  return cache.lookup as unknown as LookupFunction;
}
