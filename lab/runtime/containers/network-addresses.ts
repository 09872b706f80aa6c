import { LINKS, type LinkName } from '../../vocabulary/topology.ts';

/** Every service listens on this port in its own network namespace. */
export const SERVICE_PORT = 8080;
export const POSTGRES_PORT = 5432;
export const TOXIPROXY_API_PORT = 8474;
/** The Toxiproxy container's name on the lab network: every link listens there. */
export const TOXIPROXY_ALIAS = 'toxiproxy';
export const POSTGRES_ALIAS = 'postgres';

/**
 * Each link listens on its own fixed port inside the Toxiproxy container (in the range the
 * @testcontainers/toxiproxy container exposes), so services can be given `toxiproxy:<port>` before
 * anything starts, and the edge links' mapped ports are known to the load generator.
 */
export const LINK_PORTS: Record<LinkName, number> = {
  'edge-monolith': 8666,
  'monolith-db': 8667,
  'edge-signup': 8668,
  'edge-payment': 8669,
  'payment-api': 8670,
  'signup-db': 8671,
  'payment-db': 8672,
  'edge-modular': 8673,
  'modular-db': 8674,
};

/** Where each link leads, by network alias: Docker's DNS resolves it at every new connection. */
export function upstreamOf(link: LinkName): string {
  const to: string = LINKS[link].to;
  return to.startsWith('postgres') ? `${POSTGRES_ALIAS}:${POSTGRES_PORT}` : `${to}:${SERVICE_PORT}`;
}
