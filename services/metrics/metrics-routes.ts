import type { Route } from '../http/router.ts';
import { TextBody } from '../http/send-json.ts';
import type { ScrapeExtra, ServiceMetrics } from './service-metrics.ts';

/** Where the metrics are served; kept out of the request metrics, so scraping does not show up as load. */
export const METRICS_PATHS = ['/metrics', '/metrics.json'] as const;

/** Media types that mean "the Prometheus text format" in an Accept header. */
const PROMETHEUS_TYPES = new Set(['text/plain', 'text/*', 'application/openmetrics-text']);

/**
 * GET /metrics: the Prometheus text format (what Prometheus, Grafana Alloy or an OpenTelemetry collector
 * scrape), or the JSON snapshot to a client that asks for JSON. GET /metrics.json: the JSON snapshot, which
 * the lab reads once a second. `readExtra` is read at each scrape.
 *
 * @example
 *   routes.push(...metricsRoutes(metrics, () => ({ databasePool: { total: 2, idle: 2, waiting: 0 } })));
 */
export function metricsRoutes(metrics: ServiceMetrics, readExtra: () => ScrapeExtra): Route[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      handler: async (context) => {
        if (prefersJson(context.header('accept'))) return { status: 200, body: metrics.scrape(readExtra()) };
        const text = await metrics.exposition(readExtra());
        return { status: 200, body: new TextBody(text, metrics.expositionContentType) };
      },
    },
    {
      method: 'GET',
      path: '/metrics.json',
      handler: async () => ({ status: 200, body: metrics.scrape(readExtra()) }),
    },
  ];
}

/**
 * Whether an Accept header ranks `application/json` above every Prometheus text type. A Prometheus
 * scraper never names JSON and a browser or bare curl sends `*∕*`: both get the text format.
 *
 * @example
 *   prefersJson('application/json'); // true
 *   prefersJson('application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*∕*;q=0.2'); // false
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let json = 0;
  let text = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const qualityParameter = parameters.find((parameter) => parameter.startsWith('q='));
    const quality = qualityParameter === undefined ? 1 : Number(qualityParameter.slice(2));
    if (!Number.isFinite(quality)) continue;
    if (type === 'application/json') json = Math.max(json, quality);
    else if (PROMETHEUS_TYPES.has(type)) text = Math.max(text, quality);
  }
  return json > 0 && json > text;
}
