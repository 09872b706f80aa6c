import type { MetricsSnapshot } from '../../services/metrics/service-metrics.ts';
import type { ServiceResult, ServiceSample } from '../results.ts';
import type { ServiceEndpoint } from '../runtime/runtime.ts';

/** What a service answers at /metrics.json; read field by field, so a partial answer leaves gaps, not errors. */
type ScrapedMetrics = Partial<MetricsSnapshot>;

/**
 * Where a service serves the JSON snapshot the lab reads: `/metrics.json`, beside the Prometheus text
 * format at the `/metrics` a runtime names (`ServiceEndpoint.metricsUrl`).
 *
 * @example
 *   snapshotUrl('http://127.0.0.1:41234/metrics'); // 'http://127.0.0.1:41234/metrics.json'
 */
export function snapshotUrl(metricsUrl: string): string {
  const url = new URL(metricsUrl);
  if (!url.pathname.endsWith('.json')) url.pathname = `${url.pathname.replace(/\/$/, '')}.json`;
  return url.href;
}

export interface MetricsScraper {
  /** Stops scraping and returns one series per service. */
  stop(): Promise<ServiceResult[]>;
  /**
   * When each round of scrapes really started, in ms from `startedAtMs`: planned 1000 ms apart, further
   * when the lab's own event loop was late (the load health reports the intervals per phase).
   */
  sampleTimesMs(): readonly number[];
}

/**
 * Reads every service's JSON /metrics.json once a second, directly (not through Toxiproxy), so the
 * observation never suffers the fault it observes. A missed scrape (crashed service) is a gap.
 */
export function scrapeMetrics(
  services: readonly ServiceEndpoint[],
  startedAtMs: number,
  onSample?: (service: string, sample: ServiceSample) => void,
  /** False for an open-ended session (`lab up`): samples go only to `onSample`, so hours of it use no memory. */
  keepSamples = true,
): MetricsScraper {
  const results: ServiceResult[] = services.map((service) => ({ service: service.name, samples: [] }));
  const sampleTimesMs: number[] = [];
  let running = true;
  const scrapeOnce = async (): Promise<void> => {
    const sinceStartMs = performance.now() - startedAtMs;
    if (keepSamples) sampleTimesMs.push(Math.round(sinceStartMs * 10) / 10);
    const t = Math.round(sinceStartMs / 100) / 10;
    await Promise.all(
      services.map(async (service, index) => {
        let metrics: ScrapedMetrics | undefined;
        try {
          const response = await fetch(snapshotUrl(service.metricsUrl), { signal: AbortSignal.timeout(900) });
          metrics = (await response.json()) as ScrapedMetrics;
        } catch {
          metrics = undefined;
        }
        const sample: ServiceSample = {
          t,
          eventLoopDelayP99Ms: metrics?.eventLoopDelayMs?.p99 ?? null,
          requestsInFlight: metrics?.requestsInFlight ?? null,
          outboundInFlight: metrics?.outboundInFlight ?? null,
          requestsTotal: metrics?.counters?.requests ?? null,
          outboundCallsTotal: metrics?.counters?.outboundCalls ?? null,
          outboundAttemptsTotal: metrics?.counters?.outboundAttempts ?? null,
          bulkheadRejectionsTotal: metrics?.counters?.bulkheadRejections ?? null,
          circuitState: metrics?.circuitState ?? null,
        };
        if (keepSamples) results[index]?.samples.push(sample);
        onSample?.(service.name, sample);
      }),
    );
  };
  let wakeUp = (): void => undefined;
  const loop = (async () => {
    while (running) {
      const next = performance.now() + 1000;
      await scrapeOnce();
      if (!running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, next - performance.now()));
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  return {
    // Safe to call twice: the second call returns the same series.
    stop: async () => {
      running = false;
      wakeUp();
      await loop;
      return results;
    },
    sampleTimesMs: () => sampleTimesMs,
  };
}
