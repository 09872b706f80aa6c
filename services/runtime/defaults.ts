/** Every tunable number of the services, in one place. Environment variables override some of them. */
export const SERVICE_DEFAULTS = {
  host: '127.0.0.1',
  /** 0 lets the kernel pick a free port; the service reports it in its `listening` line. */
  port: 0,
  /** scrypt cost that takes tens of milliseconds of CPU per hash, like a real signup does. */
  scrypt: { N: 16_384, r: 8, p: 1 },
  poolMax: 20,
  /**
   * Upper bound for getting a pooled connection and for one query. Without it a partitioned database
   * holds every request forever instead of failing it as `cause: 'database'`.
   */
  databaseTimeoutMs: 5_000,
  /** How long a service keeps retrying its database at start before it gives up with exit code 1. */
  startupTimeoutMs: 15_000,
  bodyLimitBytes: 64 * 1024,
  /** Budget for one signup-service -> payment-service call, including connect and DNS. */
  paymentDeadlineMs: 5_000,
  /** On shutdown, in-flight requests get this long before their connections are cut. */
  shutdownGraceMs: 2_000,
  /** Event-loop delay sampling resolution for /metrics. */
  eventLoopResolutionMs: 10,
  dns: { timeoutMs: 500, tries: 1 },
  /**
   * signup-service closes a connection to payment-service after this many requests, as connection
   * lifetimes behind real load balancers do. Without it, one keep-alive socket would serve forever and
   * never look the name up again, so a DNS change or failure would never reach the caller.
   */
  paymentRequestsPerConnection: 50,
} as const;
