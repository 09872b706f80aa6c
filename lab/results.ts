/**
 * The serialisable result of one scenario run: `reports/<run>/results.json`.
 *
 * The HTML report is rendered from this object alone, so an old run can be re-rendered and every
 * number on the page can be traced back to a field here. Times are seconds from the start of the
 * deployment's timeline (`t`), durations are milliseconds.
 */

export const RESULTS_SCHEMA_VERSION = 2;

import type { ClaimComparison, ClaimUnit } from './vocabulary/claim-metrics.ts';
import type { DeploymentName, RouteName, VariantName } from './vocabulary/topology.ts';

/** Latency percentiles of the requests in one bucket, in milliseconds; null when no request completed. */
export interface LatencySummary {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** Outcome counts of the requests sent in one bucket (one second, or one phase). */
export interface OutcomeCounts {
  /** Requests that got an answer or an error (bucketed by the second they were sent). */
  completed: number;
  ok: number;
  /** Failures grouped by cause: `deadline`, `refused`, `reset`, `dns`, `upstream_status`, `client_timeout`, `http_500`, ... */
  failures: Record<string, number>;
  /** Latency of every completed request, success or failure. */
  latencyMs: LatencySummary;
  /** Latency of the failed requests only: how long a user waited to learn it failed. */
  failureLatencyMs: LatencySummary;
}

export interface SecondSample extends OutcomeCounts {
  /** Second of the timeline in which these requests were sent. */
  t: number;
}

export interface PhaseSummary extends OutcomeCounts {
  phase: string;
  /** ok / completed, 0..1; null when nothing completed. */
  successRate: number | null;
  /**
   * Seconds from the start of the phase until the first failure of a request due in it was observed
   * (due time + latency); null when none failed. Shows how long a fault takes to surface, e.g. a DNS
   * failure hidden by a cached answer until its TTL runs out.
   */
  firstFailureAfterS: number | null;
}

export interface RouteResult {
  route: RouteName;
  /** What was actually driven, e.g. `POST /checkout on signup-service via edge-signup`. */
  target: string;
  seconds: SecondSample[];
  phases: PhaseSummary[];
}

/** One sample of a service's own `/metrics`, scraped once a second. */
export interface ServiceSample {
  t: number;
  eventLoopDelayP99Ms: number | null;
  requestsInFlight: number | null;
  outboundInFlight: number | null;
  /** Cumulative counters since the service started (null when the scrape failed or the field is absent). */
  requestsTotal?: number | null;
  /** Logical calls to payment-service (one per checkout). */
  outboundCallsTotal?: number | null;
  /** HTTP attempts sent to payment-service: attempts / calls is the retry amplification. */
  outboundAttemptsTotal?: number | null;
  bulkheadRejectionsTotal?: number | null;
  /** `closed`, `open`, `halfOpen`, `isolated` as cockatiel reports it (Open -> HalfOpen only on the next call). */
  circuitState?: string | null;
}

/** What each service did in one phase, from the differences of its counters across the phase. */
export interface ServicePhaseSummary {
  service: string;
  phase: string;
  /** Requests the service received per second: the load it really saw, retries included. */
  requestsPerSecond: number | null;
  /** HTTP attempts per logical outbound call: 1 without retries. */
  attemptsPerCall: number | null;
  bulkheadRejections: number | null;
  /** The most outbound calls the service had in flight at once (sampled once a second). */
  outboundInFlightMax: number | null;
  /** Every circuit state the service reported during the phase, in order, without repeats. */
  circuitStates: string[];
}

export interface ServiceResult {
  service: string;
  samples: ServiceSample[];
}

export interface DeploymentResult {
  /** Per service and phase: received load, retry amplification, bulkhead rejections, circuit states. */
  servicePhases?: ServicePhaseSummary[];
  /** The variant's name (`split/retry`); equal to `topology` for a plain deployment. */
  deployment: VariantName;
  topology: DeploymentName;
  /** The variant's settings as the services got them, e.g. `{ PAYMENT_POLICY: 'retry' }`. */
  settings: Record<string, string>;
  /** What each service could use: a container's CPU and memory quota, or its CPU pinning on local. */
  resources?: Record<string, string>;
  routes: RouteResult[];
  services: ServiceResult[];
  /**
   * For each phase with faults and each route: seconds after the phase ended (the heal) until the route
   * had 3 successful seconds in a row again (>= 95 % ok); null if it never did. 1 s resolution.
   */
  recovery: { route: RouteName; afterPhase: string; seconds: number | null }[];
  /** Row counts after the load stopped and the system settled. */
  audit: AuditResult;
}

export interface AuditResult {
  users: number;
  payments: number;
  /** Checkouts that created a user but no payment. Always 0 in the monolith, by its one transaction. */
  orphanUsers: number;
  /** Checkout users charged more than once. */
  doubleCharges: number;
  /** Pays and checkouts answered 2xx whose rows are missing: writes the system acknowledged and lost. */
  acknowledgedWithoutRow: number;
  /** Pays and checkouts the client saw fail whose charge is in the ledger all the same. */
  failedButCommitted: number;
  /** How long the lab waited after the load for outbox relays and saga reconcilers to finish. */
  settledAfterMs?: number;
  /** Outbox rows and saga checkouts still unresolved when the audit ran (-1: a service did not answer). */
  stillPending?: number;
}

export interface PhaseWindow {
  name: string;
  startS: number;
  endS: number;
  /** What happens in this phase, in the scenario's words. */
  story?: string;
}

export interface FaultWindow {
  /** Fault vocabulary name: `latency`, `partition`, `outage`, ... */
  fault: string;
  /** What the fault was aimed at: a link (`payment-api`), a DNS name, a service, a database, a route. */
  link: string;
  description: string;
  startS: number;
  endS: number;
  /** Variants the fault touched (a fault on `payment-api` only touches split ones). */
  deployments: VariantName[];
}

export interface ClaimResult {
  id: string;
  description: string;
  deployment: VariantName;
  route: RouteName;
  phase: string;
  /** The metric as the scenario writes it: `latencyP99Ms`, `causeShare:deadline`, `audit:orphanUsers`. */
  metric: string;
  /** Present when the claim compares its metric with the same metric of another deployment or phase. */
  relativeTo?: ClaimComparison;
  /** The unit of `observed`, `atLeast` and `atMost` (see lab/vocabulary/claim-metrics.ts). */
  unit: ClaimUnit;
  /** The tolerance: the observed value had to be at least / at most this. */
  atLeast?: number;
  atMost?: number;
  observed: number | null;
  held: boolean;
}

export interface RunResults {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  runId: string;
  scenario: {
    name: string;
    /** The question the scenario answers. */
    title: string;
    /** The claim of the monolith-versus-services argument that it tests. */
    claim: string;
    whatToLookAt: string[];
  };
  startedAt: string;
  finishedAt: string;
  wallTimeMs: number;
  runtime: { name: string; details: Record<string, string> };
  /**
   * Requests per second offered per route by the open-model generator, and the most requests it lets
   * be in flight on the route before it counts `generator_limit` instead of sending.
   */
  load: { route: RouteName; ratePerSecond: number; maxInFlight: number }[];
  phases: PhaseWindow[];
  faults: FaultWindow[];
  deployments: DeploymentResult[];
  hypothesis: { held: boolean; claims: ClaimResult[] };
}
