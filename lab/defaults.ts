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
} as const;
