import type { RequestContext } from './request-context.ts';

/** What a handler answers: JSON, or text as it is when `body` is a TextBody (see send-json.ts). */
export interface JsonReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (context: RequestContext) => Promise<JsonReply>;

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly handler: Handler;
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly handler: Handler; readonly path: string }
  | { readonly kind: 'not_found'; readonly path: string }
  | { readonly kind: 'method_not_allowed'; readonly path: string; readonly allow: readonly string[] };

/**
 * Exact-path routing: the services have a handful of fixed paths, so no patterns or parameters.
 * The query string is ignored.
 *
 * @example
 *   const match = createRouter([{ method: 'POST', path: '/pay', handler }]);
 *   match('GET', '/pay?x=1'); // { kind: 'method_not_allowed', path: '/pay', allow: ['POST'] }
 */
export function createRouter(routes: readonly Route[]): (method: string, url: string) => RouteMatch {
  const byPath = new Map<string, Map<string, Handler>>();
  for (const route of routes) {
    const methods = byPath.get(route.path) ?? new Map<string, Handler>();
    if (methods.has(route.method)) throw new Error(`duplicate route ${route.method} ${route.path}`);
    methods.set(route.method, route.handler);
    byPath.set(route.path, methods);
  }
  return (method, url) => {
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const methods = byPath.get(path);
    if (!methods) return { kind: 'not_found', path };
    const handler = methods.get(method);
    if (!handler) return { kind: 'method_not_allowed', path, allow: [...methods.keys()].sort() };
    return { kind: 'found', handler, path };
  };
}
