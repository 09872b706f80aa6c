/** Every tunable default of the lab, in one place. */
export const DEFAULTS = {
  /** The load generator gives up on a request after this long (longer than the services' 5 s deadline). */
  clientTimeoutMs: 15_000,
  /** A guard against unbounded pile-ups in the generator itself, per route. */
  maxInFlightPerRoute: 500,
  /** Pause after the load stops before the audit reads the databases ... */
  settleMs: 1000,
  /** ... longer while an outbox relay or a saga reconciler still has work, but never longer than this. */
  settleTimeoutMs: 30_000,
  /** How long a service or the whole topology may take to become healthy. */
  startTimeoutMs: 20_000,
  /** The deadline signup-service gives each call to payment-service. */
  paymentDeadlineMs: 5000,
  reportsDir: 'reports',
} as const;
