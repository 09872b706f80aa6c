/**
 * The shape of what the lab keeps of its services' traces: spans as the lab's OTLP receiver decoded them,
 * the service log lines of a trace, and the exemplar requests a report shows as waterfalls.
 *
 * Defined once, as zod schemas, because they are part of results.json (lab/results.ts) and of the
 * published JSON Schema. Times are epoch milliseconds (fractions allowed); durations milliseconds.
 */
import { z } from 'zod';

const attributeValue = z.union([z.string(), z.number(), z.boolean()]);
const attributes = z.record(z.string(), attributeValue);

export const spanRecordSchema = z
  .object({
    traceId: z.string().regex(/^[0-9a-f]{32}$/),
    spanId: z.string().regex(/^[0-9a-f]{16}$/),
    parentSpanId: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .optional(),
    service: z.string().describe("The exporting service's `service.name`."),
    name: z.string().describe('e.g. `POST /checkout`, `POST /charge`, `db transaction`, `scrypt hash`.'),
    kind: z.enum(['internal', 'server', 'client', 'producer', 'consumer']),
    startMs: z.number().describe('Epoch milliseconds.'),
    durationMs: z.number(),
    status: z.enum(['unset', 'ok', 'error']),
    statusMessage: z.string().optional().describe("On an error: the failure's cause, e.g. `deadline`."),
    attributes,
    events: z.array(z.object({ name: z.string(), atMs: z.number(), attributes })),
  })
  .meta({ id: 'SpanRecord', description: 'One span as a service exported it over OTLP.' });
export type SpanRecord = z.infer<typeof spanRecordSchema>;

export const logLineSchema = z
  .object({
    service: z.string(),
    atMs: z.number().describe('Epoch milliseconds, from the line’s `time`.'),
    line: z.record(z.string(), z.unknown()).describe('The JSON log line as the service wrote it.'),
  })
  .meta({ id: 'LogLine', description: 'One structured service log line.' });
export type LogLine = z.infer<typeof logLineSchema>;

export const EXEMPLAR_KINDS = ['median success', 'slowest success', 'failure'] as const;

export const traceExemplarSchema = z
  .object({
    route: z.string(),
    phase: z.string(),
    kind: z.enum(EXEMPLAR_KINDS),
    cause: z.string().optional().describe('For a failure: its cause as the load generator saw it.'),
    traceId: z.string().regex(/^[0-9a-f]{32}$/),
    sentAtMs: z.number().describe('When the load generator sent the request, epoch milliseconds.'),
    latencyMs: z.number().describe('What the load generator measured, send to answer (or give-up).'),
    status: z.number().optional().describe('HTTP status, when there was an answer.'),
    spans: z.array(spanRecordSchema).describe('Every span of the trace the lab received, by start time.'),
    logs: z.array(logLineSchema).describe("The trace's log lines from every service, merged by time."),
  })
  .meta({
    id: 'TraceExemplar',
    description: 'One request the lab sent, joined with its trace: a waterfall in the report.',
  });
export type TraceExemplar = z.infer<typeof traceExemplarSchema>;

export const tracingSummarySchema = z
  .object({
    spansReceived: z.number().int().describe('Spans the lab received over the whole run, every deployment.'),
    tracesReceived: z.number().int(),
    exportedTo: z
      .array(z.string())
      .describe('Where spans were also forwarded: Jaeger, or OTEL_EXPORTER_OTLP_ENDPOINT.'),
    forwardFailures: z.number().int().describe('Batches a forward target refused or did not take.'),
  })
  .meta({ id: 'TracingSummary', description: 'What the lab collected of its services’ traces.' });
export type TracingSummary = z.infer<typeof tracingSummarySchema>;

const traceGroupSchema = z
  .object({
    traces: z.number().int().describe('Requests of the group whose trace reached the lab.'),
    outboundShareP50: z
      .number()
      .nullable()
      .describe(
        "Median share of the entry service's server span spent in client spans to payment-service, 0..1; " +
          'null when no trace of the group called out.',
      ),
    calleeSawShare: z
      .number()
      .nullable()
      .describe(
        'Share of the traces that called payment-service in which payment-service has a server span, 0..1.',
      ),
    attemptsP50: z.number().nullable().describe('Median number of HTTP attempts to payment-service.'),
    attemptsMax: z.number().nullable(),
    servicesP50: z.number().nullable().describe('Median number of services with a span in the trace.'),
  })
  .meta({ id: 'TraceGroup', description: 'What the traces of a group of requests show.' });
export type TraceGroup = z.infer<typeof traceGroupSchema>;

export const phaseTracesSchema = z
  .object({
    requests: z.number().int().describe('Requests of the phase that carried a trace id.'),
    withSpans: z.number().int().describe('Of them, those with at least one span at the lab.'),
    successes: traceGroupSchema,
    failures: traceGroupSchema,
  })
  .meta({ id: 'PhaseTraces', description: 'The traces of the requests of one route due in one phase.' });
export type PhaseTraces = z.infer<typeof phaseTracesSchema>;
