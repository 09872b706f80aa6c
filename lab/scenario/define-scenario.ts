import { LabError } from '../errors.ts';
import {
  DATABASE_TARGETS,
  DNS_NAMES,
  LINK_FAULT_KINDS,
  SERVICES,
  isLinkFault,
  type Fault,
} from '../vocabulary/faults.ts';
import type { QuotaOverrides } from '../vocabulary/quotas.ts';
import { POLICIES, monolith, split, type VariantDefinition } from '../vocabulary/variants.ts';
import { type RouteName, type VariantName, DEPLOYMENTS, ROUTES, isLinkName } from '../vocabulary/topology.ts';

/**
 * What a claim measures, over the requests of one route and deployment that were due in one phase.
 * - `successRate`: ok / completed, 0..1
 * - `latencyP50Ms` / `latencyP99Ms`: latency of all completed requests
 * - `failureLatencyP50Ms`: how long a failing request took to fail
 * - `causeShare:<cause>`: share of the failures that had this cause, 0..1
 * - `firstFailureSeconds`: seconds from the phase start until the first failure surfaced
 * - `service:<service>:<field>`: what one service did in the phase, from its own /metrics:
 *   `requestsPerSecond` (load it received, retries included), `attemptsPerCall` (retry amplification),
 *   `bulkheadRejections`, `outboundInFlightMax`; route only labels the claim
 * - `audit:<count>`: a count from the audit after the run (`orphanUsers`, `doubleCharges`,
 *   `acknowledgedWithoutRow`, `failedButCommitted`); route and phase only label the claim
 * - `recoverySeconds`: seconds after the phase ends until the route succeeds again (phase = the fault's)
 */
export type ClaimMetric =
  | 'successRate'
  | 'latencyP50Ms'
  | 'latencyP99Ms'
  | 'failureLatencyP50Ms'
  | 'firstFailureSeconds'
  | `audit:${'orphanUsers' | 'doubleCharges' | 'acknowledgedWithoutRow' | 'failedButCommitted'}`
  | `service:${string}:${'requestsPerSecond' | 'attemptsPerCall' | 'bulkheadRejections' | 'outboundInFlightMax'}`
  | `causeShare:${string}`
  | 'recoverySeconds';

export interface ClaimDefinition {
  id: string;
  /** Plain words: what we expect and why. */
  says: string;
  /** A variant's name: `monolith`, `split`, `split/retry`, ... */
  deployment: VariantName;
  route: RouteName;
  phase: string;
  metric: ClaimMetric;
  /** The tolerance: the observed value must be at least / at most this. */
  atLeast?: number;
  atMost?: number;
  /**
   * Makes the claim a comparison: the metric divided by (`by: 'ratio'`, the default) or minus
   * (`by: 'difference'`) the same metric of another deployment and/or phase, e.g. `{ phase: 'baseline' }`
   * for "p99 during the flood is at least 2x its own baseline". Comparisons make claims that hold on a
   * fast laptop and a slow CI runner alike; a difference suits values near zero, where ratios swing.
   */
  relativeTo?: { deployment?: VariantName; phase?: string; by?: 'ratio' | 'difference' };
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
  /** The claim from the seed text that it tests. */
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
}

export interface Scenario extends Required<ScenarioDefinition> {
  durationS: number;
}

const CLAIM_METRIC =
  /^(successRate|latencyP50Ms|latencyP99Ms|failureLatencyP50Ms|firstFailureSeconds|recoverySeconds|causeShare:[a-z_]+|audit:(orphanUsers|doubleCharges|acknowledgedWithoutRow|failedButCommitted)|service:(monolith|signup-service|payment-service):(requestsPerSecond|attemptsPerCall|bulkheadRejections|outboundInFlightMax))$/;

function fail(scenarioName: string, field: string, problem: string): never {
  throw new LabError('INVALID_SCENARIO', `scenario ${scenarioName || '(unnamed)'}: ${field} ${problem}`);
}

function oneOf(scenarioName: string, field: string, value: unknown, allowed: readonly string[]): void {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    fail(scenarioName, field, `"${String(value)}" is not one of ${allowed.join(', ')}`);
  }
}

function validateFault(scenarioName: string, field: string, fault: Fault): void {
  const kinds = [...LINK_FAULT_KINDS, 'dnsFailure', 'crash', 'dbOutage', 'dbLatency', 'flood'];
  oneOf(scenarioName, `${field}.kind`, fault?.kind, kinds);
  if (isLinkFault(fault)) {
    if (!isLinkName(fault.link))
      fail(scenarioName, `${field}.link`, `"${fault.link}" is not a link of DESIGN.md`);
    return;
  }
  switch (fault.kind) {
    case 'dnsFailure':
      oneOf(scenarioName, `${field}.name`, fault.name, DNS_NAMES);
      oneOf(scenarioName, `${field}.mode`, fault.mode, ['nxdomain', 'servfail', 'timeout']);
      return;
    case 'crash':
      oneOf(scenarioName, `${field}.service`, fault.service, SERVICES);
      return;
    case 'dbOutage':
    case 'dbLatency':
      oneOf(scenarioName, `${field}.target`, fault.target, DATABASE_TARGETS);
      return;
    case 'flood':
      oneOf(scenarioName, `${field}.route`, fault.route, ROUTES);
      if (!(fault.ratePerSecond > 0 && fault.ratePerSecond <= 1000)) {
        fail(scenarioName, `${field}.ratePerSecond`, 'must be more than 0 and at most 1000');
      }
      return;
  }
}

/**
 * Declares a scenario and validates it at load time, so a mistake is reported with the field that is
 * wrong before anything starts.
 *
 * @example
 *   export default defineScenario({ name: 'partition', title: 'What happens ...?', ... });
 */
export function defineScenario(definition: ScenarioDefinition): Scenario {
  const name = definition.name;
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) {
    fail(String(name ?? ''), 'name', 'must be kebab-case letters, digits and dashes, e.g. "db-outage"');
  }
  if (typeof definition.title !== 'string' || !definition.title.trim().endsWith('?')) {
    fail(name, 'title', 'must be phrased as a question ending with "?"');
  }
  if (typeof definition.claim !== 'string' || definition.claim.trim().length < 10) {
    fail(name, 'claim', 'must quote or paraphrase the claim from the seed text that the scenario tests');
  }
  for (const route of ROUTES) {
    const rate = definition.load?.[route]?.ratePerSecond;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 1000) {
      fail(name, `load.${route}.ratePerSecond`, 'must be a number from 0 to 1000');
    }
  }
  if (!Array.isArray(definition.timeline) || definition.timeline.length === 0) {
    fail(name, 'timeline', 'must have at least one phase');
  }
  const phaseNames = new Set<string>();
  definition.timeline.forEach((phase, index) => {
    const field = `timeline[${index}]`;
    if (typeof phase.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(phase.name))
      fail(name, `${field}.name`, 'must be kebab-case');
    if (phaseNames.has(phase.name)) fail(name, `${field}.name`, `"${phase.name}" is used twice`);
    phaseNames.add(phase.name);
    if (typeof phase.durationS !== 'number' || !(phase.durationS >= 1 && phase.durationS <= 600)) {
      fail(name, `${field}.durationS`, 'must be between 1 and 600 seconds');
    }
    if (typeof phase.story !== 'string' || phase.story.trim() === '')
      fail(name, `${field}.story`, 'must say what happens');
    (phase.faults ?? []).forEach((fault, faultIndex) =>
      validateFault(name, `${field}.faults[${faultIndex}]`, fault),
    );
  });
  const variants = definition.variants ?? [monolith(), split()];
  const variantNames = variants.map((variant) => variant.name);
  if (variants.length === 0) fail(name, 'variants', 'must list at least one deployment');
  variants.forEach((variant, index) => {
    if (typeof variant.name !== 'string' || !/^[a-z][a-z0-9-]*(\/[a-z0-9-]+)?$/.test(variant.name)) {
      fail(name, `variants[${index}].name`, 'must look like "split" or "split/retry"');
    }
    if (variantNames.indexOf(variant.name) !== index)
      fail(name, `variants[${index}].name`, `"${variant.name}" is used twice`);
    if (!DEPLOYMENTS.includes(variant.deployment)) {
      fail(name, `variants[${index}].deployment`, `"${variant.deployment}" is not monolith or split`);
    }
    const policy = variant.settings?.PAYMENT_POLICY;
    if (policy !== undefined && !(POLICIES as readonly string[]).includes(policy)) {
      fail(
        name,
        `variants[${index}].settings.PAYMENT_POLICY`,
        `"${policy}" is not one of ${POLICIES.join(', ')}`,
      );
    }
  });
  const claimIds = new Set<string>();
  definition.hypothesis.forEach((claim, index) => {
    const field = `hypothesis[${index}]`;
    if (typeof claim.id !== 'string' || claim.id === '')
      fail(name, `${field}.id`, 'must be a non-empty string');
    if (claimIds.has(claim.id)) fail(name, `${field}.id`, `"${claim.id}" is used twice`);
    claimIds.add(claim.id);
    if (!variantNames.includes(claim.deployment))
      fail(name, `${field}.deployment`, `"${claim.deployment}" is not run by this scenario`);
    if (!ROUTES.includes(claim.route))
      fail(name, `${field}.route`, `"${claim.route}" is not one of ${ROUTES.join(', ')}`);
    if (!phaseNames.has(claim.phase))
      fail(name, `${field}.phase`, `"${claim.phase}" is not a phase of the timeline`);
    if (typeof claim.metric !== 'string' || !CLAIM_METRIC.test(claim.metric)) {
      fail(name, `${field}.metric`, `"${String(claim.metric)}" is not a known metric`);
    }
    if (claim.atLeast === undefined && claim.atMost === undefined)
      fail(name, `${field}`, 'needs atLeast or atMost (its tolerance)');
    if (claim.relativeTo) {
      if (claim.relativeTo.deployment !== undefined && !variantNames.includes(claim.relativeTo.deployment)) {
        fail(
          name,
          `${field}.relativeTo.deployment`,
          `"${claim.relativeTo.deployment}" is not run by this scenario`,
        );
      }
      if (claim.relativeTo.phase !== undefined && !phaseNames.has(claim.relativeTo.phase)) {
        fail(name, `${field}.relativeTo.phase`, `"${claim.relativeTo.phase}" is not a phase of the timeline`);
      }
      if (claim.relativeTo.deployment === undefined && claim.relativeTo.phase === undefined) {
        fail(name, `${field}.relativeTo`, 'needs a deployment or a phase to compare with');
      }
    }
    if (claim.metric === 'recoverySeconds') {
      const phase = definition.timeline.find((candidate) => candidate.name === claim.phase);
      if (!phase?.faults?.length)
        fail(name, `${field}.phase`, 'must be a phase with faults for recoverySeconds');
    }
  });
  if (!Array.isArray(definition.whatToLookAt)) fail(name, 'whatToLookAt', 'must be a list of sentences');
  for (const [service, quota] of Object.entries(definition.quotas ?? {})) {
    oneOf(name, 'quotas', service, SERVICES);
    if (quota?.cpu !== undefined && !(quota.cpu >= 0.1 && quota.cpu <= 64))
      fail(name, `quotas.${service}.cpu`, 'must be between 0.1 and 64 CPUs');
    if (quota?.memoryMiB !== undefined && !(quota.memoryMiB >= 64 && quota.memoryMiB <= 65_536))
      fail(name, `quotas.${service}.memoryMiB`, 'must be between 64 and 65536 MiB');
  }
  return {
    ...definition,
    quotas: definition.quotas ?? {},
    variants,
    durationS: definition.timeline.reduce((sum, phase) => sum + phase.durationS, 0),
  };
}
