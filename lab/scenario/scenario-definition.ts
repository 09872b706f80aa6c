import type { ClaimComparison, ClaimMetricText } from '../vocabulary/claim-metrics.ts';
import type { Fault } from '../vocabulary/faults.ts';
import type { ClosedRouteLoad } from '../vocabulary/load-models.ts';
import type { QuotaOverrides } from '../vocabulary/quotas.ts';
import type { RouteName, VariantName } from '../vocabulary/topology.ts';
import type { VariantDefinition } from '../vocabulary/variants.ts';

/** What a scenario file declares, and what `defineScenario` makes of it. Types only: no validation here. */

export interface ClaimDefinition {
  id: string;
  /** Plain words: what we expect and why. */
  says: string;
  /** A variant's name: `monolith`, `split`, `split/retry`, ... */
  deployment: VariantName;
  route: RouteName;
  phase: string;
  metric: ClaimMetricText;
  /** The tolerance: the observed value must be at least / at most this. */
  atLeast?: number;
  atMost?: number;
  /**
   * Makes the claim a comparison: the metric divided by (`by: 'ratio'`, the default) or minus
   * (`by: 'difference'`) the same metric of another deployment and/or phase, e.g. `{ phase: 'baseline' }`
   * for "p99 during the flood is at least 2x its own baseline". Comparisons make claims that hold on a
   * fast laptop and a slow CI runner alike; a difference suits values near zero, where ratios swing.
   */
  relativeTo?: ClaimComparison;
}

export interface PhaseDefinition {
  name: string;
  durationS: number;
  /** What happens in this phase and why, in plain words; shown in the report's timeline. */
  story: string;
  /** Faults applied at the start of the phase and undone at its end (even when the run fails). */
  faults?: Fault[];
}

/**
 * The load on one route: `{ ratePerSecond }` is an open model (requests arrive at that rate whatever the
 * system does); `{ model: 'closed', connections }` is a closed model driven by autocannon (each
 * connection sends its next request when the last is answered).
 */
export type RouteRate = { model?: 'open'; ratePerSecond: number } | ClosedRouteLoad;

export interface ScenarioDefinition {
  name: string;
  /** The question the scenario answers, ending with '?'. */
  title: string;
  /** The claim of the monolith-versus-services argument that it tests. */
  claim: string;
  /**
   * The load on each route, the whole timeline long: requests per second (an open model), a closed
   * model's connections, or several streams at once, e.g. the open-model probe and autocannon measuring
   * the same route side by side: `pay: [{ ratePerSecond: 10 }, { model: 'closed', connections: 4 }]`.
   */
  load: Record<RouteName, RouteRate | RouteRate[]>;
  /**
   * Per variant (by name), routes whose load differs from `load`: e.g. a column driven by a closed model
   * next to the same deployment under the open one, `{ 'split/retry closed': { checkout: { model: 'closed', connections: 8 } } }`.
   */
  loadByVariant?: Record<VariantName, Partial<Record<RouteName, RouteRate | RouteRate[]>>>;
  timeline: PhaseDefinition[];
  hypothesis: ClaimDefinition[];
  whatToLookAt: string[];
  /**
   * What to run, one after the other, each a column of the report: `[monolith(), split()]` by default.
   * Several split variants can stand next to the monolith: `[monolith(), split(), split({ policy: 'retry' })]`.
   */
  variants?: VariantDefinition[];
  /**
   * CPU and memory per service container on the containers runtime, over the defaults of
   * lab/vocabulary/quotas.ts, e.g. `{ 'payment-service': { cpu: 0.5 } }`. The local runtime records but cannot
   * enforce them.
   */
  quotas?: QuotaOverrides;
  /**
   * The scrypt cost (N, a power of two) of every service's password hash, over the realistic default
   * (16384: tens of milliseconds of CPU per signup). Lower it where the hash would drown what the
   * scenario measures, e.g. `baseline`'s one network hop of a few milliseconds.
   */
  scryptN?: number;
}

export interface Scenario extends Required<Omit<ScenarioDefinition, 'scryptN' | 'loadByVariant'>> {
  scryptN?: number;
  loadByVariant?: ScenarioDefinition['loadByVariant'];
  durationS: number;
}
