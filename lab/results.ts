/**
 * The serialisable result of one scenario run: `reports/<run>/results.json`.
 *
 * The HTML report is rendered from this object alone, so an old run can be re-rendered and every
 * number on the page can be traced back to a field here. Times are seconds from the start of the
 * deployment's timeline (`t`), durations are milliseconds.
 *
 * The shape is defined once, as zod schemas: the TypeScript types are inferred from them, reading a
 * file back validates against them (lab/report/read-results.ts), and `npm run schema` publishes them
 * as the JSON Schema in schemas/results.schema.json.
 */
import { z } from 'zod';
import { CLAIM_METRICS, claimComparisonSchema, claimUnitSchema } from './vocabulary/claim-metrics.ts';
import { phaseTracesSchema, traceExemplarSchema, tracingSummarySchema } from './tracing/trace-schema.ts';
import { DEPLOYMENTS, ROUTES } from './vocabulary/topology.ts';

export const RESULTS_SCHEMA_VERSION = 2;

const routeName = z.enum(ROUTES).describe('A route the load generator drives.');
const variantName = z
  .string()
  .describe('A variant of a deployment, e.g. `monolith`, `split`, `split/retry`: a column of the report.');
const nullableNumber = z.number().nullable();

const latencySummarySchema = z
  .object({ p50: nullableNumber, p90: nullableNumber, p99: nullableNumber, max: nullableNumber })
  .meta({
    id: 'LatencySummary',
    description:
      'Latency percentiles of the requests in one bucket, in milliseconds; null when no request completed.',
  });
export type LatencySummary = z.infer<typeof latencySummarySchema>;

const outcomeCountsSchema = z
  .object({
    completed: z
      .number()
      .describe('Requests that got an answer or an error (bucketed by the second they were sent).'),
    ok: z.number(),
    failures: z
      .record(z.string(), z.number())
      .describe(
        'Failures grouped by cause: `deadline`, `refused`, `reset`, `dns`, `upstream_status`, ' +
          '`client_timeout`, `http_500`, ...',
      ),
    latencyMs: latencySummarySchema.describe('Latency of every completed request, success or failure.'),
    failureLatencyMs: latencySummarySchema.describe(
      'Latency of the failed requests only: how long a user waited to learn it failed.',
    ),
  })
  .describe('Outcome counts of the requests sent in one bucket (one second, or one phase).');
export type OutcomeCounts = z.infer<typeof outcomeCountsSchema>;

const secondSampleSchema = outcomeCountsSchema
  .extend({ t: z.number().describe('Second of the timeline in which these requests were sent.') })
  .meta({ id: 'SecondSample', description: 'The requests sent in one second of the timeline.' });
export type SecondSample = z.infer<typeof secondSampleSchema>;

const phaseSummarySchema = outcomeCountsSchema
  .extend({
    phase: z.string(),
    successRate: nullableNumber.describe('ok / completed, 0..1; null when nothing completed.'),
    firstFailureAfterS: nullableNumber.describe(
      'Seconds from the start of the phase until the first failure of a request due in it was observed ' +
        '(due time + latency); null when none failed. Shows how long a fault takes to surface, e.g. a DNS ' +
        'failure hidden by a cached answer until its TTL runs out.',
    ),
    latencyHistogram: z
      .string()
      .optional()
      .describe(
        'Every completed request latency of the phase (success or failure, in microseconds) as an HDR ' +
          'histogram (hdr-histogram-js, 3 significant digits), compressed and base64-encoded: the full ' +
          'percentile spectrum, and what `npm run compare` tests differences with. Absent in older files.',
      ),
    traces: phaseTracesSchema
      .optional()
      .describe("What the phase's traces show; absent when the run did not trace its requests."),
    loadModel: z
      .enum(['open', 'closed'])
      .optional()
      .describe(
        'Which load measured these requests. `closed` (autocannon): latency from each send, and a stalled ' +
          'system makes its connections wait instead of counting what they did not send (coordinated ' +
          'omission). Absent: open, latency from the due time.',
      ),
  })
  .meta({ id: 'PhaseSummary', description: 'The requests of one route that were due in one phase.' });
export type PhaseSummary = z.infer<typeof phaseSummarySchema>;

const routeResultSchema = z
  .object({
    route: routeName,
    target: z
      .string()
      .describe('What was actually driven, e.g. `POST /checkout on signup-service via edge-signup`.'),
    seconds: z.array(secondSampleSchema),
    phases: z.array(phaseSummarySchema),
    wholeRun: phaseSummarySchema
      .optional()
      .describe(
        'Every open-model request of the route over the whole timeline, pooled (phase `whole run`): what a ' +
          'benchmark reporting one p99 for the run would say. Absent in older files.',
      ),
    closedModel: z
      .object({
        connections: z.number().describe('Connections of the closed streams on the route, added up.'),
        seconds: z.array(secondSampleSchema),
        phases: z.array(phaseSummarySchema),
        wholeRun: phaseSummarySchema.describe('Every closed-model request of the run, pooled.'),
      })
      .optional()
      .describe(
        "The route's closed-model requests (autocannon), apart from the open-model ones in `seconds` and " +
          '`phases`, bucketed by the second each was sent; absent when the route had no closed stream.',
      ),
  })
  .meta({ id: 'RouteResult', description: 'What one route saw, second by second and phase by phase.' });
export type RouteResult = z.infer<typeof routeResultSchema>;

const cumulative = (description: string) => nullableNumber.optional().describe(description);

const serviceSampleSchema = z
  .object({
    t: z.number(),
    eventLoopDelayP99Ms: nullableNumber,
    requestsInFlight: nullableNumber,
    outboundInFlight: nullableNumber,
    requestsTotal: cumulative(
      'Requests received since the service started. The `*Total` fields are cumulative counters ' +
        '(null when the scrape failed or the field is absent).',
    ),
    outboundCallsTotal: cumulative('Logical calls to payment-service (one per checkout).'),
    outboundAttemptsTotal: cumulative(
      'HTTP attempts sent to payment-service: attempts / calls is the retry amplification.',
    ),
    bulkheadRejectionsTotal: cumulative('Calls the bulkhead rejected since the service started.'),
    circuitState: z
      .string()
      .nullable()
      .optional()
      .describe(
        '`closed`, `open`, `halfOpen`, `isolated` as cockatiel reports it (Open -> HalfOpen only on the next call).',
      ),
  })
  .meta({
    id: 'ServiceSample',
    description: "One sample of a service's own `/metrics`, scraped once a second.",
  });
export type ServiceSample = z.infer<typeof serviceSampleSchema>;

const servicePhaseSummarySchema = z
  .object({
    service: z.string(),
    phase: z.string(),
    requestsPerSecond: nullableNumber.describe(
      'Requests the service received per second: the load it really saw, retries included.',
    ),
    attemptsPerCall: nullableNumber.describe('HTTP attempts per logical outbound call: 1 without retries.'),
    bulkheadRejections: nullableNumber,
    outboundInFlightMax: nullableNumber.describe(
      'The most outbound calls the service had in flight at once (sampled once a second).',
    ),
    circuitStates: z
      .array(z.string())
      .describe('Every circuit state the service reported during the phase, in order, without repeats.'),
  })
  .meta({
    id: 'ServicePhaseSummary',
    description: 'What each service did in one phase, from the differences of its counters across the phase.',
  });
export type ServicePhaseSummary = z.infer<typeof servicePhaseSummarySchema>;

const serviceResultSchema = z
  .object({ service: z.string(), samples: z.array(serviceSampleSchema) })
  .meta({ id: 'ServiceResult', description: "One service's own metrics over the run." });
export type ServiceResult = z.infer<typeof serviceResultSchema>;

const auditResultSchema = z
  .object({
    users: z.number(),
    payments: z.number(),
    orphanUsers: z
      .number()
      .describe(
        'Checkouts that created a user but no payment. Always 0 in the monolith, by its one transaction.',
      ),
    doubleCharges: z.number().describe('Checkout users charged more than once.'),
    acknowledgedWithoutRow: z
      .number()
      .describe(
        'Pays and checkouts answered 2xx whose rows are missing: writes the system acknowledged and lost.',
      ),
    failedButCommitted: z
      .number()
      .describe('Pays and checkouts the client saw fail whose charge is in the ledger all the same.'),
    settledAfterMs: z
      .number()
      .optional()
      .describe('How long the lab waited after the load for outbox relays and saga reconcilers to finish.'),
    stillPending: z
      .number()
      .optional()
      .describe(
        'Outbox rows and saga checkouts still unresolved when the audit ran (-1: a service did not answer).',
      ),
    notAudited: z
      .string()
      .optional()
      .describe(
        'Why the databases could not be read (a partial deployment whose database died): the counts are ' +
          'then 0 and mean nothing.',
      ),
  })
  .meta({ id: 'AuditResult', description: 'Row counts after the load stopped and the system settled.' });
export type AuditResult = z.infer<typeof auditResultSchema>;

const faultEvidenceSchema = z
  .object({
    phase: z.string(),
    fault: z.string().describe('The fault as the timeline describes it.'),
    action: z
      .string()
      .describe(
        'What was done, e.g. `toxics on payment-api`, `DNS payment-service: nxdomain`, `kill signup-service`, ' +
          '`flood on pay: +120/s`.',
      ),
    step: z.enum(['apply', 'undo']),
    plannedAtS: z
      .number()
      .describe('When the timeline planned the step: the phase start (apply) or end (undo).'),
    observedAtS: nullableNumber.describe(
      'When the lab read back the expected state from its tools; null when it never did.',
    ),
    lagMs: nullableNumber.describe('observedAtS - plannedAtS, in milliseconds.'),
    observed: z
      .boolean()
      .describe('Whether the read-back showed the expected state: in effect after apply, gone after undo.'),
    evidence: z.string().describe('What was read back, in words.'),
  })
  .meta({
    id: 'FaultEvidence',
    description:
      'One step of a planned fault and the proof that it happened: the observed fault timeline. A step ' +
      'planned but not observed makes the run invalid.',
  });
export type FaultEvidence = z.infer<typeof faultEvidenceSchema>;

const loadHealthSchema = z
  .object({
    phase: z.string(),
    due: z
      .number()
      .describe('Requests the schedule made due in the phase, on every stream (floods included).'),
    sent: z.number().describe('Requests the generator actually sent in the phase.'),
    scheduleLagMs: latencySummarySchema.describe(
      'How late the generator sent each request after its due time.',
    ),
    eventLoopDelayMs: latencySummarySchema.describe("The lab process's own event-loop delay in the phase."),
    scrapeIntervalMs: latencySummarySchema.describe(
      "Intervals between the metrics scraper's samples in the phase (planned: 1000 ms).",
    ),
    machine: z
      .object({
        cpuBusy: nullableNumber.describe(
          "Share (0..1) of the machine's CPU time that was busy in the phase.",
        ),
        labCpu: nullableNumber.describe(
          "Share (0..1) of the machine's CPU time used by this lab: its own process, the services, " +
            'PostgreSQL and Toxiproxy. What is busy beyond it belongs to something else.',
        ),
        otherLabs: z.number().describe('Other splitlab runs alive on this machine during the phase.'),
      })
      .describe('What the machine was doing while the phase ran.'),
    degraded: z
      .array(z.string())
      .describe(
        "Why the phase's measurement is degraded, one sentence each naming the likely cause; empty when clean.",
      ),
  })
  .meta({
    id: 'LoadHealth',
    description:
      "The lab's own instruments in one phase: the generator's schedule lag, its event loop, the scraper, " +
      'and the machine. Thresholds are in docs/measurements.md.',
  });
export type LoadHealth = z.infer<typeof loadHealthSchema>;

const closedStreamSchema = z
  .object({
    route: routeName,
    connections: z.number(),
    role: z.enum(['steady', 'flood']).describe("The route's load, or a flood fault's."),
    phase: z.string().optional().describe("A flood's phase."),
    fromS: z.number(),
    untilS: z.number(),
    sent: z.number().describe('Requests written to a connection, connection attempts that failed included.'),
    answered: z.number().describe('Requests that got an HTTP answer, any status.'),
    ok: z.number(),
    autocannon: z
      .object({
        errors: z.number(),
        timeouts: z.number(),
        non2xx: z.number(),
        instances: z.number().describe('autocannon instances: one, plus one after each bounded pause.'),
      })
      .describe("autocannon's own totals (errors include timeouts)."),
    bounded: z
      .array(z.object({ atS: z.number(), errors: z.number(), pausedMs: z.number() }))
      .describe(
        'Each time the lab stopped autocannon because it was reconnecting in a hot loop (more connection ' +
          'errors in a second than the bound): when, how many errors that second, how long it paused.',
      ),
    labProcessCpuShare: nullableNumber.describe(
      "CPU the process that ran the generator used while the stream ran (the lab's own, or the generator container's on the containers runtime), as a share of one core: what the generator costs, at most.",
    ),
  })
  .meta({
    id: 'ClosedStream',
    description: 'One closed-model stream (autocannon): its totals, its bounded episodes and its cost.',
  });
export type ClosedStream = z.infer<typeof closedStreamSchema>;

const deploymentResultSchema = z
  .object({
    deployment: variantName.describe(
      "The variant's name (`split/retry`); equal to `topology` for a plain deployment.",
    ),
    topology: z
      .enum(DEPLOYMENTS)
      .describe(
        'The way the domain was deployed: one process (monolith), one process of modules (modular), or services (split).',
      ),
    settings: z
      .record(z.string(), z.string())
      .describe("The variant's settings as the services got them, e.g. `{ PAYMENT_POLICY: 'retry' }`."),
    resources: z
      .record(z.string(), z.string())
      .optional()
      .describe(
        "What each service could use: a container's CPU and memory quota, or its CPU pinning on local.",
      ),
    routes: z.array(routeResultSchema),
    services: z.array(serviceResultSchema),
    servicePhases: z
      .array(servicePhaseSummarySchema)
      .optional()
      .describe(
        'Per service and phase: received load, retry amplification, bulkhead rejections, circuit states.',
      ),
    recovery: z
      .array(z.object({ route: routeName, afterPhase: z.string(), seconds: nullableNumber }))
      .describe(
        'For each phase with faults and each route: seconds after the phase ended (the heal) until the route ' +
          'had 3 successful seconds in a row again (>= 95 % ok); null if it never did. 1 s resolution.',
      ),
    audit: auditResultSchema,
    faultEvidence: z
      .array(faultEvidenceSchema)
      .optional()
      .describe('The observed fault timeline: every planned apply and undo with its read-back.'),
    loadHealth: z
      .array(loadHealthSchema)
      .optional()
      .describe(
        "Per phase: the health of the lab's own instruments and of the machine (the open-model generator's; " +
          'closed streams have their own in `closedStreams`).',
      ),
    loadStreams: z
      .array(
        z.object({
          route: routeName,
          model: z.enum(['open', 'closed']),
          ratePerSecond: z.number().optional(),
          connections: z.number().optional(),
          fromS: z.number().optional(),
          untilS: z.number().optional(),
        }),
      )
      .optional()
      .describe('Every load stream this variant ran (steady, then floods); absent in older files.'),
    closedStreams: z
      .array(closedStreamSchema)
      .optional()
      .describe('The closed-model streams (autocannon) of this variant; absent when it had none.'),
    partial: z
      .boolean()
      .optional()
      .describe(
        'True when the run stopped during this deployment: its figures cover only part of the timeline.',
      ),
    exemplars: z
      .array(traceExemplarSchema)
      .optional()
      .describe(
        'Per route and phase, a few requests joined with their traces and logs: the median success, the ' +
          'slowest success, one failure per cause. Absent when the run did not trace its requests.',
      ),
  })
  .meta({
    id: 'DeploymentResult',
    description: 'Everything measured on one variant: one column of the report.',
  });
export type DeploymentResult = z.infer<typeof deploymentResultSchema>;

const phaseWindowSchema = z
  .object({
    name: z.string(),
    startS: z.number(),
    endS: z.number(),
    story: z.string().optional().describe("What happens in this phase, in the scenario's words."),
  })
  .meta({ id: 'PhaseWindow', description: 'One phase of the timeline.' });
export type PhaseWindow = z.infer<typeof phaseWindowSchema>;

const faultWindowSchema = z
  .object({
    fault: z.string().describe('Fault vocabulary name: `latency`, `partition`, `outage`, ...'),
    link: z
      .string()
      .describe(
        'What the fault was aimed at: a link (`payment-api`), a DNS name, a service, a database, a route.',
      ),
    description: z.string(),
    definition: z
      .record(
        z.string(),
        z.union([z.string(), z.number(), z.record(z.string(), z.union([z.string(), z.number()]))]),
      )
      .optional()
      .describe(
        'The fault as the scenario defined it (`{ kind: "latency", link: "payment-api", ms: 200, ... }`); absent in older files.',
      ),
    startS: z.number(),
    endS: z.number(),
    deployments: z
      .array(variantName)
      .describe('Variants the fault touched (a fault on `payment-api` only touches split ones).'),
  })
  .meta({ id: 'FaultWindow', description: 'One fault and when it was applied.' });
export type FaultWindow = z.infer<typeof faultWindowSchema>;

const claimMetricSyntaxes = Object.values(CLAIM_METRICS).map((spec) => spec.syntax);

export const claimResultSchema = z
  .object({
    id: z.string(),
    description: z.string().describe("What the claim says, in the scenario's words."),
    deployment: variantName,
    route: routeName,
    phase: z.string(),
    metric: z
      .string()
      .describe(`The metric as the scenario writes it, one of: ${claimMetricSyntaxes.join(', ')}.`),
    relativeTo: claimComparisonSchema
      .optional()
      .describe(
        'Present when the claim compares its metric with the same metric of another deployment or phase.',
      ),
    unit: claimUnitSchema,
    atLeast: z.number().optional().describe('The tolerance: the observed value had to be at least this.'),
    atMost: z.number().optional().describe('The tolerance: the observed value had to be at most this.'),
    observed: nullableNumber.describe('The measured value in `unit`; null when nothing was measured.'),
    held: z.boolean(),
  })
  .meta({ id: 'ClaimResult', description: 'One claim of the hypothesis and what was observed.' });
export type ClaimResult = z.infer<typeof claimResultSchema>;

const validitySchema = z
  .object({
    status: z
      .enum(['valid', 'degraded', 'invalid'])
      .describe(
        '`valid`: the lab did what the scenario asked and its instruments were healthy. `degraded`: it did, ' +
          'but a measurement was disturbed (generator lag, a contended machine): read the verdict with care. ' +
          '`invalid`: the lab could not do what the scenario asked (a fault not observed, a dependency of the ' +
          'lab died): no verdict, exit code 3.',
      ),
    problems: z.array(
      z.object({
        kind: z.enum([
          'fault-not-observed',
          'dependency-failed',
          'generator-lagging',
          'scraper-lagging',
          'machine-contended',
        ]),
        severity: z.enum(['degraded', 'invalid']),
        deployment: variantName.optional(),
        phase: z.string().optional(),
        message: z.string(),
      }),
    ),
  })
  .meta({ id: 'Validity', description: 'Whether the run measured what it meant to measure.' });
export type Validity = z.infer<typeof validitySchema>;
export type ValidityProblem = Validity['problems'][number];

export const provenanceSchema = z
  .object({
    git: z
      .object({
        commit: z.string(),
        dirty: z.boolean().describe('True when the working tree had changes the commit does not hold.'),
      })
      .nullable()
      .describe('null when the project is not a git checkout or git is missing.'),
    command: z.array(z.string()).describe('The command line, as the process received it.'),
    versions: z
      .record(z.string(), z.string())
      .describe('node, npm, toxiproxy, postgres, docker, each image, ... as read in this run.'),
    machine: z.object({
      cpuModel: z.string(),
      cpus: z.number(),
      memoryBytes: z.number(),
      os: z.string().describe('platform, release and architecture'),
    }),
    runtime: z.object({ name: z.string(), settings: z.record(z.string(), z.string()) }),
    seed: z.string().nullable().describe('The seed of anything random the run used; null when none.'),
  })
  .meta({ id: 'Provenance', description: 'What made this run: code, command, versions, machine.' });
export type Provenance = z.infer<typeof provenanceSchema>;

export const predictionsSchema = z
  .object({
    source: z.enum(['terminal', 'file']).describe('Typed at the terminal (`--predict`) or read from a file.'),
    file: z.string().optional().describe('The predictions file, when read from one.'),
    values: z
      .record(z.string(), z.number())
      .describe("A predicted value of each claim's metric, by claim id, in the claim's unit."),
  })
  .meta({
    id: 'Predictions',
    description: 'Guesses made before the run, one per claim (some may be left out).',
  });
export type Predictions = z.infer<typeof predictionsSchema>;

export const runResultsSchema = z
  .object({
    schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
    runId: z.string(),
    scenario: z.object({
      name: z.string(),
      title: z.string().describe('The question the scenario answers.'),
      claim: z.string().describe('The claim of the monolith-versus-services argument that it tests.'),
      whatToLookAt: z.array(z.string()),
    }),
    startedAt: z.string().describe('ISO 8601 timestamp.'),
    finishedAt: z.string().describe('ISO 8601 timestamp.'),
    wallTimeMs: z.number(),
    runtime: z.object({ name: z.string(), details: z.record(z.string(), z.string()) }),
    load: z
      .array(
        z.object({
          route: routeName,
          ratePerSecond: z.number().describe('Requests per second of an open model; 0 for a closed one.'),
          maxInFlight: z.number(),
          model: z
            .enum(['open', 'closed'])
            .optional()
            .describe('`closed`: autocannon with `connections` connections; absent: open.'),
          connections: z.number().optional(),
        }),
      )
      .describe(
        'The load on each route: requests per second offered by the open-model generator and the most ' +
          'requests it lets be in flight on the route before it counts `generator_limit` instead of sending, ' +
          'or the connections of a closed model (autocannon). A variant may override it: see ' +
          "each deployment's `loadStreams`.",
      ),
    phases: z.array(phaseWindowSchema),
    faults: z.array(faultWindowSchema),
    deployments: z.array(deploymentResultSchema),
    hypothesis: z.object({ held: z.boolean(), claims: z.array(claimResultSchema) }),
    tracing: tracingSummarySchema
      .optional()
      .describe("What the lab collected of its services' traces; absent when it did not trace."),
    provenance: provenanceSchema.optional().describe('Absent in files written before it was recorded.'),
    predictions: predictionsSchema
      .optional()
      .describe('What the person running it predicted before the run (`--predict`, `--predictions`).'),
    validity: validitySchema
      .optional()
      .describe('Absent only in files written before the lab checked its own validity (version 1).'),
  })
  .meta({
    title: `splitlab results.json, schema version ${RESULTS_SCHEMA_VERSION}`,
    description:
      'The result of one scenario run: reports/<run>/results.json. Times are seconds from the start of ' +
      "the deployment's timeline (`t`), durations are milliseconds.",
  });
export type RunResults = z.infer<typeof runResultsSchema>;

/**
 * The JSON Schema of results.json as the text of schemas/results.schema.json (`npm run schema` writes
 * it; a unit test fails when the checked-in file differs).
 *
 * @example await writeFile('schemas/results.schema.json', resultsJsonSchemaText());
 */
export function resultsJsonSchemaText(): string {
  return `${JSON.stringify(z.toJSONSchema(runResultsSchema), null, 2)}\n`;
}
