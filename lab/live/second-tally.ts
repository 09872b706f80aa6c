import type { RequestOutcome } from '../load/outcome.ts';
import { percentile } from '../load/percentiles.ts';
import type { ServiceSample } from '../results.ts';
import type { RouteName, VariantName } from '../vocabulary/topology.ts';
import type { RunWatcher, SecondTally } from './run-events.ts';

export interface SecondTallier {
  /** An outcome that just completed. */
  outcome(outcome: RequestOutcome): void;
  /** The latest scrape of a service's /metrics. */
  sample(service: string, sample: ServiceSample): void;
  /** Emits what is left and stops the clock. Safe to call twice. */
  stop(): void;
}

interface RouteTally {
  ok: number;
  failures: Record<string, number>;
  latencies: number[];
}

const emptyTally = (): RouteTally => ({ ok: 0, failures: {}, latencies: [] });

/**
 * Counts outcomes by the second they complete in and sends a `second` event to the watcher once a
 * second: the live view's and the terminal's "this second". Counting is O(1) per outcome; the
 * percentiles are computed once a second over that second's latencies only.
 */
export function tallySeconds(options: {
  label: VariantName;
  routes: readonly RouteName[];
  services: readonly string[];
  /** performance.now() of the deployment's t = 0. */
  startedAtMs: number;
  watcher: RunWatcher;
  intervalMs?: number;
}): SecondTallier {
  let current = new Map<RouteName, RouteTally>(options.routes.map((route) => [route, emptyTally()]));
  const latestSamples = new Map<string, ServiceSample>();
  const flush = (): void => {
    const tallied = current;
    current = new Map(options.routes.map((route) => [route, emptyTally()]));
    const event: SecondTally = {
      type: 'second',
      label: options.label,
      t: Math.round((performance.now() - options.startedAtMs) / 100) / 10,
      routes: options.routes.map((route) => {
        const tally = tallied.get(route) ?? emptyTally();
        const sorted = tally.latencies.sort((a, b) => a - b);
        const at = (p: number): number => Math.round((percentile(sorted, p) ?? 0) * 10) / 10;
        return {
          route,
          ok: tally.ok,
          failures: tally.failures,
          latencyMs: sorted.length === 0 ? null : { p50: at(50), p90: at(90), p99: at(99) },
        };
      }),
      services: options.services.map((service) => {
        const sample = latestSamples.get(service);
        return {
          service,
          requestsInFlight: sample?.requestsInFlight ?? null,
          outboundInFlight: sample?.outboundInFlight ?? null,
          circuitState: sample?.circuitState ?? null,
        };
      }),
    };
    options.watcher.emit(event);
  };
  const timer = setInterval(flush, options.intervalMs ?? 1000);
  // The tally never keeps the process alive on its own.
  timer.unref();
  let stopped = false;
  return {
    outcome(outcome) {
      const tally = current.get(outcome.route);
      if (!tally) return;
      if (outcome.ok) tally.ok += 1;
      else tally.failures[outcome.cause] = (tally.failures[outcome.cause] ?? 0) + 1;
      // generator_limit was never sent: it has no latency worth a percentile.
      if (outcome.cause !== 'generator_limit') tally.latencies.push(outcome.latencyMs);
    },
    sample(service, sample) {
      latestSamples.set(service, sample);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      flush();
    },
  };
}
