import type { ClaimComparison, ClaimMetricText } from '../vocabulary/claim-metrics.ts';
import type { Fault } from '../vocabulary/faults.ts';
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

export interface RouteRate {
  ratePerSecond: number;
}

export interface ScenarioDefinition {
  name: string;
  /** The question the scenario answers, ending with '?'. */
  title: string;
  /** The claim of the monolith-versus-services argument that it tests. */
  claim: string;
  /** Requests per second offered on each route, the whole timeline long (an open model). */
  load: Record<RouteName, RouteRate>;
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

export interface Scenario extends Required<Omit<ScenarioDefinition, 'scryptN'>> {
  scryptN?: number;
  durationS: number;
}
