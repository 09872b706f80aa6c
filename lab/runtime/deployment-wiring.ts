import {
  DEPLOYMENTS,
  LINKS,
  ROUTE_TARGETS,
  linksOf,
  type DeploymentName,
  type LinkName,
} from '../vocabulary/topology.ts';

/** One environment variable of a service, before any address is known. */
export type WiredValue =
  /** A PostgreSQL URL for `database`, reached through `link`. */
  | { kind: 'database-url'; link: LinkName; database: string }
  /** `http://<service>:<port where link listens>`: the name goes through the lab's DNS server. */
  | { kind: 'service-url'; service: string; link: LinkName }
  /** `ip:port` of the lab's DNS server. */
  | { kind: 'dns-server' };

export interface ServiceWiring {
  name: string;
  /** Links from the load generator to this service. */
  edgeLinks: LinkName[];
  /** Links from other services to this one. */
  callerLinks: LinkName[];
  /** The one link to its database, and that database's name. */
  database: { link: LinkName; name: string };
  /** What the service must be told, by variable name. */
  env: Record<string, WiredValue>;
}

export interface DeploymentWiring {
  deployment: DeploymentName;
  /** Every link of the deployment; each is either a service's database link or in front of a service. */
  links: LinkName[];
  /** In start order: a service starts after every service it calls. */
  services: ServiceWiring[];
  /** The databases the deployment's services use, emptied before each start. */
  databases: string[];
  /** The lab's DNS server answers `name` with the address where `link` listens. */
  dnsRecords: { name: string; link: LinkName }[];
  /** Each service's /healthz through its edge link: proves the service, its database link and its edge. */
  health: { service: string; link: LinkName; name: string }[];
  /** Which databases the audit reads users and payments from. */
  audit: { users: string; payments: string };
}

/** The variable that tells a caller where a service is; every service another one calls needs an entry. */
const SERVICE_URL_VARIABLES: Readonly<Record<string, string>> = { 'payment-service': 'PAYMENT_URL' };

/** Where the load generator's links start. */
const LOAD = 'load';
/** How the topology names a database endpoint: `postgres (signup)`. */
const DATABASE_ENDPOINT = /^postgres \((?<database>.+)\)$/;

interface LinkEnds {
  link: LinkName;
  from: string;
  to: string;
  /** The database's name when the link leads to one. */
  database: string | undefined;
}

/**
 * How a deployment is wired, from the topology vocabulary alone: which services it runs and in which
 * order, the links in front of each and to its database, the environment each needs, the DNS records,
 * the health checks and the audit's databases. Both runtimes consume it and only supply addresses.
 *
 * @example
 *   planWiring('split').services.map((service) => service.name) // ['payment-service', 'signup-service']
 *   planWiring('split').dnsRecords // [{ name: 'payment-service', link: 'payment-api' }]
 */
export function planWiring(deployment: DeploymentName): DeploymentWiring {
  const links = linksOf(deployment);
  const ends: LinkEnds[] = links.map((link) => {
    const { from, to }: { from: string; to: string } = LINKS[link];
    return { link, from, to, database: DATABASE_ENDPOINT.exec(to)?.groups?.database };
  });
  // Every end but the load generator and a database is a service, in the order the links name them.
  const names = new Set(
    ends.flatMap((end) => (end.database === undefined ? [end.from, end.to] : [end.from])),
  );
  names.delete(LOAD);
  const services = startOrder([...names].map((name) => wireService(name, ends)));
  const databaseOf = (name: string): string => {
    const service = services.find((candidate) => candidate.name === name);
    if (!service) throw new Error(`bug: no service ${name} in ${deployment}`);
    return service.database.name;
  };
  const targets = ROUTE_TARGETS[deployment];
  return {
    deployment,
    links,
    services,
    databases: services.map((service) => service.database.name),
    dnsRecords: ends
      .filter((end) => end.from !== LOAD && end.database === undefined)
      .map((end) => ({ name: end.to, link: end.link })),
    health: services.map((service) => {
      const link = service.edgeLinks[0];
      if (!link) throw new Error(`bug: ${service.name} has no edge link in ${deployment}`);
      return { service: service.name, link, name: `${service.name} (via ${link})` };
    }),
    audit: { users: databaseOf(targets.signup.service), payments: databaseOf(targets.pay.service) },
  };
}

function wireService(name: string, ends: readonly LinkEnds[]): ServiceWiring {
  const [database, ...more] = ends.filter((end) => end.from === name && end.database !== undefined);
  if (!database?.database || more.length > 0)
    throw new Error(`bug: ${name} needs exactly one database link, has ${more.length + (database ? 1 : 0)}`);
  const env: Record<string, WiredValue> = {
    DATABASE_URL: { kind: 'database-url', link: database.link, database: database.database },
  };
  for (const callee of ends.filter((end) => end.from === name && end.database === undefined)) {
    const variable = SERVICE_URL_VARIABLES[callee.to];
    if (!variable) throw new Error(`bug: no variable tells ${name} where ${callee.to} is`);
    env[variable] = { kind: 'service-url', service: callee.to, link: callee.link };
    // The callee's name is resolved by the lab's DNS server, so a scenario can make the lookup fail.
    env.DNS_SERVER = { kind: 'dns-server' };
  }
  const inFront = ends.filter((end) => end.to === name);
  return {
    name,
    edgeLinks: inFront.filter((end) => end.from === LOAD).map((end) => end.link),
    callerLinks: inFront.filter((end) => end.from !== LOAD).map((end) => end.link),
    database: { link: database.link, name: database.database },
    env,
  };
}

/** The services a service calls, by name. */
function calleesOf(service: ServiceWiring): string[] {
  return Object.values(service.env).flatMap((value) => (value.kind === 'service-url' ? [value.service] : []));
}

/** Callees before their callers; otherwise in the order given. */
function startOrder(services: readonly ServiceWiring[]): ServiceWiring[] {
  const ordered: ServiceWiring[] = [];
  const placed = new Set<string>();
  while (ordered.length < services.length) {
    const next = services.find(
      (service) => !placed.has(service.name) && calleesOf(service).every((callee) => placed.has(callee)),
    );
    if (!next) throw new Error('bug: the services of a deployment call each other in a circle');
    ordered.push(next);
    placed.add(next.name);
  }
  return ordered;
}

/** Every database any deployment uses: what a lab's PostgreSQL server must hold. */
export function allDatabases(): string[] {
  return [...new Set(DEPLOYMENTS.flatMap((deployment) => planWiring(deployment).databases))];
}

/** What a runtime knows once its links exist: how services reach a database and a link. */
export interface WiringAddresses {
  /** The PostgreSQL URL of `database` through `link`, as a service reaches it. */
  databaseUrl(link: LinkName, database: string): string;
  /** The port `link` listens on, as services reach it. */
  linkPort(link: LinkName): number;
  /** `ip:port` of the lab's DNS server, as services reach it. */
  dnsServer: string;
}

/**
 * A service's environment with the runtime's addresses filled in.
 *
 * @example
 *   serviceEnvironment(signup, { databaseUrl, linkPort: (link) => LINK_PORTS[link], dnsServer: '172.18.0.1:40000' })
 *   // { DATABASE_URL: 'postgres://…@toxiproxy:8671/signup', PAYMENT_URL: 'http://payment-service:8670', DNS_SERVER: '172.18.0.1:40000' }
 */
export function serviceEnvironment(
  service: ServiceWiring,
  addresses: WiringAddresses,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.env).map(([variable, value]) => {
      switch (value.kind) {
        case 'database-url':
          return [variable, addresses.databaseUrl(value.link, value.database)];
        case 'service-url':
          return [variable, `http://${value.service}:${addresses.linkPort(value.link)}`];
        case 'dns-server':
          return [variable, addresses.dnsServer];
      }
    }),
  );
}
