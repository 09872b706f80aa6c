import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopDelaySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface EventLoopDelaySampler {
  /** Summarises the delay since the previous call (or since start) in milliseconds, then starts over. */
  takeInterval(): EventLoopDelaySummary;
  stop(): void;
}

/**
 * Event-loop delay is the symptom of CPU starvation (e.g. a flood of scrypt signups): every request on the
 * process waits behind it. Each scrape covers only the interval since the previous one, so a chart of
 * scrapes shows when the delay happened, not a lifetime average.
 *
 * @example
 *   const sampler = startEventLoopDelaySampler(10);
 *   sampler.takeInterval(); // { p50: 10.1, p90: 10.3, p99: 12.0, max: 15.2 }
 */
export function startEventLoopDelaySampler(resolutionMs: number): EventLoopDelaySampler {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  // Node records the time between samples, which includes the sampling interval itself; an idle loop
  // would read as `resolutionMs` of delay. Report only the lateness.
  const ms = (nanoseconds: number): number =>
    Math.max(0, Math.round((nanoseconds / 1e6 - resolutionMs) * 100) / 100);
  return {
    takeInterval() {
      const empty = histogram.count === 0;
      const summary = {
        p50: empty ? 0 : ms(histogram.percentile(50)),
        p90: empty ? 0 : ms(histogram.percentile(90)),
        p99: empty ? 0 : ms(histogram.percentile(99)),
        max: empty ? 0 : ms(histogram.max),
      };
      histogram.reset();
      return summary;
    },
    stop() {
      histogram.disable();
    },
  };
}
