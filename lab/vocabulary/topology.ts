/**
 * The three ways the one domain is deployed: one process and one database pool (`monolith`); one process
 * whose signup and payment modules each own a schema and a connection pool and talk only through the
 * `PaymentGateway` interface (`modular`, the modular monolith); two services over the network (`split`).
 */
export type DeploymentName = 'monolith' | 'modular' | 'split';

/** The routes the load generator drives, the same three in every deployment. */
export type RouteName = 'signup' | 'pay' | 'checkout';

/**
 * What a report column is about: a deployment, possibly with settings, e.g. `monolith`, `split`,
 * `split/retry`. Scenarios without variants use the plain deployment names.
 */
export type VariantName = string;

/**
 * Every network path, including the load generator's own, crosses one named Toxiproxy
 * proxy, so a fault is always "this toxic on this link".
 */
export const LINKS = {
  'edge-monolith': { deployment: 'monolith', from: 'load', to: 'monolith' },
  'monolith-db': { deployment: 'monolith', from: 'monolith', to: 'postgres (monolith)' },
  'edge-modular': { deployment: 'modular', from: 'load', to: 'modular' },
  'modular-db': { deployment: 'modular', from: 'modular', to: 'postgres (modular)' },
  'edge-signup': { deployment: 'split', from: 'load', to: 'signup-service' },
  'edge-payment': { deployment: 'split', from: 'load', to: 'payment-service' },
  'payment-api': { deployment: 'split', from: 'signup-service', to: 'payment-service' },
  'signup-db': { deployment: 'split', from: 'signup-service', to: 'postgres (signup)' },
  'payment-db': { deployment: 'split', from: 'payment-service', to: 'postgres (payment)' },
} as const satisfies Record<string, { deployment: DeploymentName; from: string; to: string }>;

export type LinkName = keyof typeof LINKS;

export const LINK_NAMES = Object.keys(LINKS) as LinkName[];

export function isLinkName(value: string): value is LinkName {
  return Object.hasOwn(LINKS, value);
}

export const DEPLOYMENTS: readonly DeploymentName[] = ['monolith', 'modular', 'split'];

export const ROUTES: readonly RouteName[] = ['signup', 'pay', 'checkout'];

/** Which process answers each route, over which edge link, at which path. */
export const ROUTE_TARGETS: Record<
  DeploymentName,
  Record<RouteName, { service: string; link: LinkName; path: string }>
> = {
  monolith: {
    signup: { service: 'monolith', link: 'edge-monolith', path: '/signup' },
    pay: { service: 'monolith', link: 'edge-monolith', path: '/pay' },
    checkout: { service: 'monolith', link: 'edge-monolith', path: '/checkout' },
  },
  modular: {
    signup: { service: 'modular', link: 'edge-modular', path: '/signup' },
    pay: { service: 'modular', link: 'edge-modular', path: '/pay' },
    checkout: { service: 'modular', link: 'edge-modular', path: '/checkout' },
  },
  split: {
    signup: { service: 'signup-service', link: 'edge-signup', path: '/signup' },
    pay: { service: 'payment-service', link: 'edge-payment', path: '/charge' },
    checkout: { service: 'signup-service', link: 'edge-signup', path: '/checkout' },
  },
};

export function linksOf(deployment: DeploymentName): LinkName[] {
  return LINK_NAMES.filter((link) => LINKS[link].deployment === deployment);
}
