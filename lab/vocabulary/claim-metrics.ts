import { z } from 'zod';
import { SERVICES, type ServiceName } from './faults.ts';

/**
 * The claim metrics: everything a hypothesis can measure, in one table. Validation (`defineScenario`),
 * evaluation (`evaluate-claims.ts`), the report and the terminal summary all read it, so a new metric is
 * one entry here plus the case in `measureClaimMetric` that the compiler asks for.
 *
 * A metric is written as a string in a scenario: a family, then its parameters after colons, e.g.
 * `successRate`, `causeShare:deadline`, `audit:orphanUsers`, `service:payment-service:attemptsPerCall`.
 */

/** The unit a claim's observed value and its bounds are in; the report and the summary format by it. */
export const claimUnitSchema = z
  .enum(['ratio', 'factor', 'ms', 's', 'count', 'perSecond'])
  .describe(
    'ratio: 0..1, shown as a percentage; factor: a multiple of another measurement (a claim relativeTo ' +
      "with by 'ratio'), shown as ×1.5; ms: milliseconds; s: seconds; count: a number of things; " +
      'perSecond: a rate',
  );
export type ClaimUnit = z.infer<typeof claimUnitSchema>;

export const AUDIT_COUNTS = [
  'orphanUsers',
  'doubleCharges',
  'acknowledgedWithoutRow',
  'failedButCommitted',
] as const;
export type AuditCount = (typeof AUDIT_COUNTS)[number];

export const SERVICE_FIELDS = [
  'requestsPerSecond',
  'attemptsPerCall',
  'bulkheadRejections',
  'outboundInFlightMax',
] as const;
export type ServiceField = (typeof SERVICE_FIELDS)[number];

/** What the traces of a phase's requests show (lab/tracing/summarize-phase-traces.ts). */
export const TRACE_FIELDS = [
  'tracedShare',
  'failureOutboundShare',
  'failureCalleeSawShare',
  'failureAttempts',
  'successAttempts',
  'successServices',
] as const;
export type TraceField = (typeof TRACE_FIELDS)[number];

/** What a closed-model stream (autocannon) of a route shows in a phase: `closed:<field>`. */
export const CLOSED_FIELDS = [
  'successRate',
  'latencyP50Ms',
  'latencyP90Ms',
  'latencyP99Ms',
  'latencyMaxMs',
  'requests',
] as const;
export type ClosedField = (typeof CLOSED_FIELDS)[number];

/** What a parsed metric points at; `measureClaimMetric` in evaluate-claims.ts switches over `family`. */
export type ClaimMetric =
  | {
      family:
        | 'successRate'
        | 'latencyP50Ms'
        | 'latencyP90Ms'
        | 'latencyP99Ms'
        | 'failureLatencyP50Ms'
        | 'firstFailureSeconds'
        | 'downtimeSeconds';
    }
  | { family: 'recoverySeconds' }
  | { family: 'causeShare'; cause: string }
  | { family: 'audit'; count: AuditCount }
  | { family: 'service'; service: ServiceName; field: ServiceField }
  | { family: 'trace'; field: TraceField }
  | { family: 'closed'; closedField: ClosedField; wholeRun: boolean }
  | { family: 'closedOverOpen'; closedField: ClosedField; wholeRun: boolean };

export type ClaimMetricFamily = ClaimMetric['family'];

interface ClaimMetricSpec {
  /** How the metric is written, for messages and docs. */
  syntax: string;
  /** What it measures, in plain words. */
  measures: string;
  /** Where the value comes from. */
  source: 'route phase' | 'route recovery' | 'audit' | 'service metrics' | 'route traces';
  unit: (metric: ClaimMetric) => ClaimUnit;
  /** Parses the parameters after the family name; returns a problem in words when they are wrong. */
  parse: (parameters: string[]) => ClaimMetric | string;
}

/** The families written as a bare name. */
type ParameterlessFamily = Exclude<
  ClaimMetric,
  { cause: string } | { count: string } | { service: string } | { field: string } | { closedField: string }
>['family'];

const noParameters =
  (family: ParameterlessFamily) =>
  (parameters: string[]): ClaimMetric | string =>
    parameters.length === 0 ? { family } : `${family} takes no parameters (got ":${parameters.join(':')}")`;

function isOneOf<T extends string>(values: readonly T[], value: string | undefined): value is T {
  return values.some((allowed) => allowed === value);
}

const fixed = (unit: ClaimUnit) => (): ClaimUnit => unit;

const closedFieldUnit = (field: ClosedField): ClaimUnit =>
  field === 'successRate' ? 'ratio' : field === 'requests' ? 'count' : 'ms';

const parseClosedField =
  (family: 'closed' | 'closedOverOpen') =>
  (parameters: string[]): ClaimMetric | string => {
    const [closedField, scope] = parameters;
    const scoped =
      parameters.length === 1 || (parameters.length === 2 && (scope === 'wholeRun' || scope === 'phase'));
    return scoped && isOneOf(CLOSED_FIELDS, closedField)
      ? { family, closedField, wholeRun: scope === 'wholeRun' }
      : `${family} needs one of ${CLOSED_FIELDS.join(', ')}, then optionally :phase (the default) or :wholeRun, e.g. ${family}:latencyP99Ms:wholeRun`;
  };

/** The table. Keys are the families; `satisfies` makes the compiler reject a family that is missing. */
export const CLAIM_METRICS = {
  successRate: {
    syntax: 'successRate',
    measures: 'ok / completed among the requests of the route due in the phase',
    source: 'route phase',
    unit: fixed('ratio'),
    parse: noParameters('successRate'),
  },
  latencyP50Ms: {
    syntax: 'latencyP50Ms',
    measures: 'median latency of every completed request, success or failure',
    source: 'route phase',
    unit: fixed('ms'),
    parse: noParameters('latencyP50Ms'),
  },
  latencyP90Ms: {
    syntax: 'latencyP90Ms',
    measures:
      '90th percentile latency of every completed request: the slow tail, steadier than p99 over a few hundred requests',
    source: 'route phase',
    unit: fixed('ms'),
    parse: noParameters('latencyP90Ms'),
  },
  latencyP99Ms: {
    syntax: 'latencyP99Ms',
    measures: '99th percentile latency of every completed request, success or failure',
    source: 'route phase',
    unit: fixed('ms'),
    parse: noParameters('latencyP99Ms'),
  },
  failureLatencyP50Ms: {
    syntax: 'failureLatencyP50Ms',
    measures: 'how long a failing request took to fail (median)',
    source: 'route phase',
    unit: fixed('ms'),
    parse: noParameters('failureLatencyP50Ms'),
  },
  firstFailureSeconds: {
    syntax: 'firstFailureSeconds',
    measures: 'seconds from the phase start until the first failure surfaced',
    source: 'route phase',
    unit: fixed('s'),
    parse: noParameters('firstFailureSeconds'),
  },
  downtimeSeconds: {
    syntax: 'downtimeSeconds',
    measures:
      'how long the route failed within the phase: from the first to the last second (by send time) in ' +
      'which a request of it failed, both counted, so one failing second is 1 s; 0 when none failed',
    source: 'route phase',
    unit: fixed('s'),
    parse: noParameters('downtimeSeconds'),
  },
  recoverySeconds: {
    syntax: 'recoverySeconds',
    measures: 'seconds after the phase ends (the heal) until the route succeeds again',
    source: 'route recovery',
    unit: fixed('s'),
    parse: noParameters('recoverySeconds'),
  },
  causeShare: {
    syntax: 'causeShare:<cause>',
    measures: 'share of the failures that had this cause (deadline, refused, reset, dns, ...)',
    source: 'route phase',
    unit: fixed('ratio'),
    parse: (parameters) =>
      parameters.length === 1 && /^[a-z_]+$/.test(parameters[0] ?? '')
        ? { family: 'causeShare', cause: parameters[0] ?? '' }
        : 'causeShare needs one cause in lower case, e.g. causeShare:deadline',
  },
  audit: {
    syntax: `audit:<${AUDIT_COUNTS.join('|')}>`,
    measures: 'a count from the audit of the databases after the run; route and phase only label it',
    source: 'audit',
    unit: fixed('count'),
    parse: (parameters) => {
      const [count] = parameters;
      return parameters.length === 1 && isOneOf(AUDIT_COUNTS, count)
        ? { family: 'audit', count }
        : `audit needs one of ${AUDIT_COUNTS.join(', ')}, e.g. audit:orphanUsers`;
    },
  },
  service: {
    syntax: `service:<service>:<${SERVICE_FIELDS.join('|')}>`,
    measures: 'what one service did in the phase, from its own /metrics; route only labels it',
    source: 'service metrics',
    unit: (metric) =>
      metric.family === 'service' && metric.field === 'requestsPerSecond' ? 'perSecond' : 'count',
    parse: (parameters) => {
      const [service, field] = parameters;
      if (parameters.length !== 2)
        return 'service needs a service and a field, e.g. service:payment-service:attemptsPerCall';
      if (!isOneOf(SERVICES, service)) return `service "${service}" is not one of ${SERVICES.join(', ')}`;
      if (!isOneOf(SERVICE_FIELDS, field))
        return `service field "${field}" is not one of ${SERVICE_FIELDS.join(', ')}`;
      return { family: 'service', service, field };
    },
  },
  trace: {
    syntax: `trace:<${TRACE_FIELDS.join('|')}>`,
    measures:
      "what the traces of the phase's requests show: tracedShare (requests whose trace reached the lab), " +
      "failureOutboundShare (median share of a failing request's time spent waiting on payment-service), " +
      'failureCalleeSawShare (share of failing calls that payment-service saw at all), failureAttempts / ' +
      'successAttempts (median HTTP attempts to payment-service), successServices (median services per trace)',
    source: 'route traces',
    unit: (metric) =>
      metric.family === 'trace' && /Attempts|Services/.test(metric.field) ? 'count' : 'ratio',
    parse: (parameters) => {
      const [field] = parameters;
      return parameters.length === 1 && isOneOf(TRACE_FIELDS, field)
        ? { family: 'trace', field }
        : `trace needs one of ${TRACE_FIELDS.join(', ')}, e.g. trace:failureOutboundShare`;
    },
  },
  closed: {
    syntax: `closed:<${CLOSED_FIELDS.join('|')}>:<phase|wholeRun>`,
    measures:
      "the route's closed-model requests (autocannon) sent in the phase (`:phase`, also the default when " +
      'left out) or in the whole run, pooled (`:wholeRun`: the phase then only labels it): their success ' +
      'rate, latency from each send (p50, p90, p99, max), or how many were sent',
    source: 'route phase',
    unit: (metric) => (metric.family === 'closed' ? closedFieldUnit(metric.closedField) : 'ms'),
    parse: parseClosedField('closed'),
  },
  closedOverOpen: {
    syntax: `closedOverOpen:<${CLOSED_FIELDS.join('|')}>:<phase|wholeRun>`,
    measures:
      "the closed model's figure divided by the open model's, same route and phase (or whole run): below 1 " +
      'for a latency percentile, the closed model hides that much of a stall (coordinated omission)',
    source: 'route phase',
    unit: fixed('factor'),
    parse: parseClosedField('closedOverOpen'),
  },
} as const satisfies Record<ClaimMetricFamily, ClaimMetricSpec>;

export const CLAIM_METRIC_FAMILIES = Object.keys(CLAIM_METRICS) as ClaimMetricFamily[];

/**
 * Parses a metric as a scenario writes it. Returns the metric, or a problem in words naming the fix.
 *
 * @example parseClaimMetric('causeShare:deadline') // { family: 'causeShare', cause: 'deadline' }
 * @example parseClaimMetric('latencyP95Ms')        // '"latencyP95Ms" is not a known metric; ...'
 */
export function parseClaimMetric(text: string): ClaimMetric | string {
  const [family = '', ...parameters] = String(text).split(':');
  if (!Object.hasOwn(CLAIM_METRICS, family)) {
    return `"${text}" is not a known metric; known: ${Object.values(CLAIM_METRICS)
      .map((spec) => spec.syntax)
      .join(', ')}`;
  }
  return CLAIM_METRICS[family as ClaimMetricFamily].parse(parameters);
}

/** The unit of a metric's own values (a claim compared by ratio is in `factor` instead). */
export function claimMetricUnit(metric: ClaimMetric): ClaimUnit {
  return CLAIM_METRICS[metric.family].unit(metric);
}

/** A claim's comparison with the same metric elsewhere: a ratio (the default) or a difference. */
export const claimComparisonSchema = z
  .object({
    deployment: z
      .string()
      .optional()
      .describe("The other deployment (variant); the claim's own when absent."),
    phase: z.string().optional().describe("The other phase; the claim's own when absent."),
    by: z
      .enum(['ratio', 'difference'])
      .optional()
      .describe('The metric divided by (ratio, the default) or minus (difference) the other measurement.'),
  })
  .meta({
    id: 'ClaimComparison',
    description: 'Compares the metric with the same metric of another deployment and/or phase.',
  });
export type ClaimComparison = z.infer<typeof claimComparisonSchema>;

/** The unit of a claim's observed value: a ratio of two measurements is a factor, a difference keeps the unit. */
export function claimUnit(metric: ClaimMetric, relativeTo?: ClaimComparison): ClaimUnit {
  if (relativeTo && relativeTo.by !== 'difference') return 'factor';
  return claimMetricUnit(metric);
}

/** The families of claim metric that take no parameters: they are written as the family's name. */
type FamilyWithoutParameters<Metric> = Metric extends { family: infer Family }
  ? [Exclude<keyof Metric, 'family'>] extends [never]
    ? Family
    : never
  : never;

/**
 * A claim metric as a scenario writes it, e.g. `successRate`, `causeShare:deadline`, `audit:orphanUsers`,
 * `service:payment-service:attemptsPerCall`. Built from the types above, so a scenario file
 * that misspells a metric does not compile; `defineScenario` checks it again with `parseClaimMetric`.
 */
export type ClaimMetricText =
  | FamilyWithoutParameters<ClaimMetric>
  | `causeShare:${string}`
  | `audit:${AuditCount}`
  | `service:${ServiceName}:${ServiceField}`
  | `trace:${TraceField}`
  | `closed:${ClosedField}`
  | `closed:${ClosedField}:${'phase' | 'wholeRun'}`
  | `closedOverOpen:${ClosedField}`
  | `closedOverOpen:${ClosedField}:${'phase' | 'wholeRun'}`;
