import { z } from 'zod';
import { parseClaimMetric } from '../vocabulary/claim-metrics.ts';
import {
  DATABASE_TARGETS,
  DIRECTIONS,
  DNS_FAILURE_MODES,
  DNS_NAMES,
  FAULT_KINDS,
  SERVICES,
  type Fault,
  type FaultKind,
} from '../vocabulary/faults.ts';
import { SERVICE_VERSIONS } from '../../services/runtime/service-version.ts';
import { DEPLOYMENTS, LINK_NAMES, ROUTES } from '../vocabulary/topology.ts';
import { POLICIES, defaultVariants } from '../vocabulary/variants.ts';
import type { ScenarioDefinition } from './scenario-definition.ts';
import type { ClaimMetricText } from '../vocabulary/claim-metrics.ts';

/**
 * The shape of a scenario file, as a zod schema. Every problem is a sentence that follows the path of
 * the field, e.g. `hypothesis[0].phase "later" is not a phase of the timeline`; `defineScenario` puts
 * the scenario's name in front.
 */

const KEBAB_CASE = /^[a-z][a-z0-9-]*$/;

/** A string from a fixed list; the problem names the value and the list. */
function oneOf<const T extends string>(values: readonly T[]) {
  return z.enum(values, {
    error: (issue) => `"${String(issue.input)}" is not one of ${values.join(', ')}`,
  });
}

/** A number from `min` to `max`; `problem` says so in the units the field is in. */
function between(min: number, max: number, problem: string) {
  return z.number({ error: problem }).min(min, problem).max(max, problem);
}

/** A size, delay or rate that a fault adds: any number, 0 or more. */
function amount(unit: string) {
  const problem = `must be 0 or more ${unit}`;
  return z.number({ error: problem }).min(0, problem);
}

const link = z.enum(LINK_NAMES, {
  error: (issue) => `"${String(issue.input)}" is not a link; links: ${LINK_NAMES.join(', ')}`,
});
const direction = oneOf(DIRECTIONS);
const databaseTarget = oneOf(DATABASE_TARGETS);

/** An open-model rate or a closed-model pool of connections (lab/vocabulary/load-models.ts). */
export const routeLoadModelSchema = z.discriminatedUnion(
  'model',
  [
    z.object({
      model: z.literal('open'),
      ratePerSecond: z
        .number({ error: 'must be more than 0 and at most 1000' })
        .gt(0, 'must be more than 0 and at most 1000')
        .max(1000, 'must be more than 0 and at most 1000'),
    }),
    z.object({
      model: z.literal('closed'),
      connections: z
        .number({ error: 'must be a whole number from 1 to 256' })
        .int('must be a whole number from 1 to 256')
        .min(1, 'must be a whole number from 1 to 256')
        .max(256, 'must be a whole number from 1 to 256'),
    }),
  ],
  { error: "must be { model: 'open', ratePerSecond } or { model: 'closed', connections }" },
);

/** One schema per fault kind; the mapped type makes the compiler reject a kind left out or mistyped. */
const FAULT_SCHEMAS = {
  latency: z.object({
    kind: z.literal('latency'),
    link,
    ms: amount('milliseconds'),
    jitterMs: amount('milliseconds'),
    direction,
  }),
  partition: z.object({ kind: z.literal('partition'), link, direction }),
  outage: z.object({ kind: z.literal('outage'), link }),
  reset: z.object({ kind: z.literal('reset'), link, afterMs: amount('milliseconds') }),
  bandwidth: z.object({
    kind: z.literal('bandwidth'),
    link,
    kilobytesPerSecond: amount('KB/s'),
    direction,
  }),
  slowClose: z.object({ kind: z.literal('slowClose'), link, delayMs: amount('milliseconds') }),
  slicer: z.object({
    kind: z.literal('slicer'),
    link,
    averageBytes: amount('bytes'),
    variationBytes: amount('bytes'),
    delayMicros: amount('microseconds'),
  }),
  limitData: z.object({ kind: z.literal('limitData'), link, bytes: amount('bytes') }),
  dnsFailure: z.object({
    kind: z.literal('dnsFailure'),
    name: oneOf(DNS_NAMES),
    mode: oneOf(DNS_FAILURE_MODES),
  }),
  crash: z.object({ kind: z.literal('crash'), service: oneOf(SERVICES) }),
  stall: z.object({ kind: z.literal('stall'), service: oneOf(SERVICES) }),
  deploy: z.object({
    kind: z.literal('deploy'),
    service: oneOf(SERVICES),
    version: oneOf(SERVICE_VERSIONS).optional(),
    drainMs: between(0, 120_000, 'must be between 0 and 120000 milliseconds'),
  }),
  dbOutage: z.object({ kind: z.literal('dbOutage'), target: databaseTarget }),
  dbLatency: z.object({
    kind: z.literal('dbLatency'),
    target: databaseTarget,
    ms: amount('milliseconds'),
    jitterMs: amount('milliseconds'),
  }),
  flood: z.object({
    kind: z.literal('flood'),
    route: oneOf(ROUTES),
    load: routeLoadModelSchema,
  }),
} satisfies { [Kind in FaultKind]: z.ZodType<Extract<Fault, { kind: Kind }>> };

type FaultSchema = (typeof FAULT_SCHEMAS)[FaultKind];

/** Any fault of the vocabulary, checked field by field: a scenario's, or one recorded in results.json. */
export const faultSchema = z.discriminatedUnion(
  'kind',
  Object.values(FAULT_SCHEMAS) as [FaultSchema, ...FaultSchema[]],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `"${String((issue.input as { kind?: unknown } | undefined)?.kind)}" is not one of ${FAULT_KINDS.join(', ')}`
        : "must be a fault, e.g. partition('payment-api')",
  },
);

const phase = z.object({
  name: z.string({ error: 'must be kebab-case' }).regex(KEBAB_CASE, 'must be kebab-case'),
  durationS: between(1, 600, 'must be between 1 and 600 seconds'),
  story: z
    .string({ error: 'must say what happens' })
    .refine((story) => story.trim() !== '', 'must say what happens'),
  faults: z.array(faultSchema, { error: 'must be a list of faults' }).optional(),
});

const claimMetric = z.custom<ClaimMetricText>(
  (value) => typeof value === 'string' && typeof parseClaimMetric(value) !== 'string',
  {
    error: (issue) =>
      typeof issue.input === 'string'
        ? String(parseClaimMetric(issue.input))
        : 'must be a metric such as "successRate"',
  },
);

const tolerance = z.number({ error: 'must be a number' }).optional();

const claim = z
  .object({
    id: z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string'),
    says: z.string({ error: 'must say what we expect and why' }),
    deployment: z.string({ error: 'must name a deployment the scenario runs' }),
    route: oneOf(ROUTES),
    phase: z.string({ error: 'must name a phase of the timeline' }),
    metric: claimMetric,
    atLeast: tolerance,
    atMost: tolerance,
    relativeTo: z
      .object({
        deployment: z.string({ error: 'must name a deployment the scenario runs' }).optional(),
        phase: z.string({ error: 'must name a phase of the timeline' }).optional(),
        by: oneOf(['ratio', 'difference']).optional(),
      })
      .refine(
        (comparison) => comparison.deployment !== undefined || comparison.phase !== undefined,
        'needs a deployment or a phase to compare with',
      )
      .optional(),
  })
  .refine(
    (claim) => claim.atLeast !== undefined || claim.atMost !== undefined,
    'needs atLeast or atMost (its tolerance)',
  );

const VARIANT_NAME = /^[a-z][a-z0-9-]*(\/[a-z0-9-]+)?$/;

const variant = z.object({
  name: z
    .string({ error: 'must look like "split" or "split/retry"' })
    .regex(VARIANT_NAME, 'must look like "split" or "split/retry"'),
  deployment: z.enum(DEPLOYMENTS, {
    error: (issue) => `"${String(issue.input)}" is not monolith or split`,
  }),
  settings: z
    .record(z.string(), z.string(), { error: 'must map setting names to strings' })
    .superRefine((settings, context) => {
      const policy = settings.PAYMENT_POLICY;
      if (policy !== undefined && !(POLICIES as readonly string[]).includes(policy)) {
        context.addIssue({
          code: 'custom',
          path: ['PAYMENT_POLICY'],
          message: `"${policy}" is not one of ${POLICIES.join(', ')}`,
        });
      }
    }),
});

const SCRYPT_N_PROBLEM = 'must be a power of two from 2 to 1048576 (the default is 16384)';

const quotas = z
  .record(
    z.string(),
    z.object(
      {
        cpu: between(0.1, 64, 'must be between 0.1 and 64 CPUs').optional(),
        memoryMiB: between(64, 65_536, 'must be between 64 and 65536 MiB').optional(),
      },
      { error: 'must be { cpu?, memoryMiB? }' },
    ),
    { error: 'must map service names to quotas' },
  )
  .superRefine((overrides, context) => {
    for (const service of Object.keys(overrides)) {
      if (!(SERVICES as readonly string[]).includes(service)) {
        context.addIssue({ code: 'custom', message: `"${service}" is not one of ${SERVICES.join(', ')}` });
      }
    }
  });

const ROUTE_RATE_PROBLEM =
  "must be { ratePerSecond: <a number from 0 to 1000> } or { model: 'closed', connections: <1 to 256> }";
const routeRate = z.union(
  [
    z
      .object({
        model: z.literal('open').optional(),
        ratePerSecond: between(0, 1000, 'must be a number from 0 to 1000'),
      })
      .strict(),
    z
      .object({
        model: z.literal('closed'),
        connections: z
          .number({ error: 'must be a whole number from 1 to 256' })
          .int('must be a whole number from 1 to 256')
          .min(1, 'must be a whole number from 1 to 256')
          .max(256, 'must be a whole number from 1 to 256'),
      })
      .strict(),
  ],
  { error: ROUTE_RATE_PROBLEM },
);

/** One stream on a route, or a few at once (the open-model probe beside an autocannon stream). */
const routeLoad = z.union(
  [
    routeRate,
    z
      .array(routeRate, { error: ROUTE_RATE_PROBLEM })
      .min(1, 'must list at least one load')
      .max(4, 'must list at most 4 loads on one route'),
  ],
  { error: ROUTE_RATE_PROBLEM },
);

/** Checks that need more than one field: names used twice, and claims that name a phase or variant. */
function checkReferences(definition: ScenarioDefinition, context: z.RefinementCtx): void {
  const problem = (path: (string | number)[], message: string): void =>
    context.addIssue({ code: 'custom', path, message });
  const usedTwice = (names: readonly string[], at: (index: number) => (string | number)[]): void =>
    names.forEach((name, index) => {
      if (names.indexOf(name) !== index) problem(at(index), `"${name}" is used twice`);
    });

  const phaseNames = definition.timeline.map((phase) => phase.name);
  usedTwice(phaseNames, (index) => ['timeline', index, 'name']);
  const variantNames = (definition.variants ?? defaultVariants()).map((variant) => variant.name);
  usedTwice(variantNames, (index) => ['variants', index, 'name']);
  usedTwice(
    definition.hypothesis.map((claim) => claim.id),
    (index) => ['hypothesis', index, 'id'],
  );

  for (const name of Object.keys(definition.loadByVariant ?? {}))
    if (!variantNames.includes(name))
      problem(['loadByVariant', name], `"${name}" is not run by this scenario`);

  definition.hypothesis.forEach((claim, index) => {
    const at = (...path: string[]): (string | number)[] => ['hypothesis', index, ...path];
    if (!variantNames.includes(claim.deployment))
      problem(at('deployment'), `"${claim.deployment}" is not run by this scenario`);
    if (!phaseNames.includes(claim.phase))
      problem(at('phase'), `"${claim.phase}" is not a phase of the timeline`);
    const { deployment, phase } = claim.relativeTo ?? {};
    if (deployment !== undefined && !variantNames.includes(deployment))
      problem(at('relativeTo', 'deployment'), `"${deployment}" is not run by this scenario`);
    if (phase !== undefined && !phaseNames.includes(phase))
      problem(at('relativeTo', 'phase'), `"${phase}" is not a phase of the timeline`);
    // Recovery is measured from the end of a fault, so the claim's phase must have one.
    const claimPhase = definition.timeline.find((candidate) => candidate.name === claim.phase);
    if (claim.metric === 'recoverySeconds' && claimPhase && !claimPhase.faults?.length)
      problem(at('phase'), 'must be a phase with faults for recoverySeconds');
  });
}

const TITLE_PROBLEM = 'must be phrased as a question ending with "?"';
const CLAIM_PROBLEM =
  'must quote or paraphrase the claim of the monolith-versus-services argument that the scenario tests';
const NAME_PROBLEM = 'must be kebab-case letters, digits and dashes, e.g. "db-outage"';

/** A scenario definition; `satisfies` keeps the schema and the `ScenarioDefinition` type in step. */
export const scenarioSchema = z
  .object({
    name: z.string({ error: NAME_PROBLEM }).regex(KEBAB_CASE, NAME_PROBLEM),
    title: z.string({ error: TITLE_PROBLEM }).refine((title) => title.trim().endsWith('?'), TITLE_PROBLEM),
    claim: z.string({ error: CLAIM_PROBLEM }).refine((claim) => claim.trim().length >= 10, CLAIM_PROBLEM),
    load: z.object(
      { signup: routeLoad, pay: routeLoad, checkout: routeLoad },
      { error: `must give a rate for every route: ${ROUTES.join(', ')}` },
    ),
    loadByVariant: z
      .record(
        z.string(),
        z
          .object({ signup: routeLoad.optional(), pay: routeLoad.optional(), checkout: routeLoad.optional() })
          .strict(),
        { error: 'must map variant names to { <route>: <load> }' },
      )
      .optional(),
    timeline: z
      .array(phase, { error: 'must have at least one phase' })
      .min(1, 'must have at least one phase'),
    hypothesis: z.array(claim, { error: 'must be a list of claims' }),
    whatToLookAt: z.array(z.string({ error: 'must be a sentence' }), {
      error: 'must be a list of sentences',
    }),
    variants: z
      .array(variant, { error: 'must list at least one deployment' })
      .min(1, 'must list at least one deployment')
      .optional(),
    quotas: quotas.optional(),
    scryptN: z
      .number({ error: SCRYPT_N_PROBLEM })
      .int(SCRYPT_N_PROBLEM)
      .min(2, SCRYPT_N_PROBLEM)
      .max(2 ** 20, SCRYPT_N_PROBLEM)
      .refine((n) => (n & (n - 1)) === 0, SCRYPT_N_PROBLEM)
      .optional(),
  })
  .superRefine(checkReferences) satisfies z.ZodType<ScenarioDefinition>;

/** `timeline[1].faults[0].link` from zod's `['timeline', 1, 'faults', 0, 'link']`. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`,
    '',
  );
}

/**
 * The problems of a definition, each `<path> <problem>`; empty when it is valid.
 *
 * @example
 *   scenarioProblems({ ...valid, title: 'A statement.' }) // ['title must be phrased as a question ending with "?"']
 */
export function scenarioProblems(definition: unknown): string[] {
  const result = scenarioSchema.safeParse(definition);
  if (result.success) return [];
  return result.error.issues.map((issue) =>
    [formatPath(issue.path), issue.message].filter(Boolean).join(' '),
  );
}
