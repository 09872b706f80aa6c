/**
 * Every tunable default of the lab, in one place. The services own theirs (services/runtime/service-defaults.ts),
 * and each service's CPU and memory quota is part of the topology (lab/vocabulary/quotas.ts).
 */
export const DEFAULTS = {
  /** The load generator gives up on a request after this long (longer than the services' 5 s deadline). */
  clientTimeoutMs: 15_000,
  /** A guard against unbounded pile-ups in the generator itself, per route. */
  maxInFlightPerRoute: 500,
  /** Pause after the load stops before the audit reads the databases ... */
  settleMs: 1000,
  /** ... longer while an outbox relay or a saga reconciler still has work, but never longer than this. */
  settleTimeoutMs: 30_000,
  /**
   * How long a process, a container or a whole deployment may take to start and become healthy, per
   * runtime: containers also wait for Docker to create and start each container.
   */
  startTimeoutMs: { local: 20_000, containers: 30_000 },
  reportsDir: 'reports',
  /**
   * How long the runner reads a fault's state back after applying or undoing it, and how often, until
   * the tools show it in effect (or gone). Toxiproxy and the DNS server answer in about 1 ms; a crash
   * undo waits for the service to be healthy before it returns.
   */
  observeTimeoutMs: 2000,
  observeIntervalMs: 50,
  /** A flood counts as observed when the generator sent at least this share of its due requests. */
  floodObservedShare: 0.9,
  /**
   * After an error in a deployment, how long the runner waits for the lab's own watchdog to say that
   * a dependency died, before blaming the error itself: the watchdog notices within 1-2 s.
   */
  dependencyGraceMs: 2000,
  /** How often the health sampler reads the machine's CPU and looks for other labs. */
  machineSampleMs: 1000,
  /**
   * When a phase's measurement is degraded (see docs/measurements.md#load-health). The generator is
   * late when it sends requests behind their due time; its event loop, and so every timestamp it
   * takes, is late by its event-loop delay; the scraper's samples are planned 1000 ms apart.
   */
  /**
   * `npm run bench`: the generator "sustains" a rate against a trivial endpoint while its lag p99 stays
   * under this: stricter than the scenarios' health check, since nothing else runs on that route.
   */
  benchSustainedLagP99Ms: 10,
  health: {
    /**
     * Set from the spread measured on a quiet 2-core machine: over the 100 phases of one `all` run
     * (local runtime, nothing else running) the generator's lag p99 per phase had a median of 5 ms, a
     * p90 of 10.7 ms and a maximum of 27.3 ms; beside another lab it read 35-81 ms. At 10 ms, 7 of 11
     * scenarios of that quiet run were called degraded with no cause to name.
     */
    scheduleLagP99Ms: 30,
    eventLoopDelayP99Ms: 20,
    scrapeIntervalMaxMs: 1500,
    /** Share of the machine's CPU busy with something besides this lab. */
    otherCpuShare: 0.25,
    /** A machine this busy is saturated: whatever is late, this is the likely cause. */
    saturatedCpuShare: 0.9,
  },
} as const;
