/**
 * Decoding of OTLP/HTTP JSON trace exports (`ExportTraceServiceRequest`) into the lab's SpanRecord.
 * Pure: the receiver in trace-collector.ts answers 400 when this throws.
 *
 * OTLP/JSON is the protobuf JSON mapping with OTLP's exceptions: trace and span ids are hex (not base64),
 * 64-bit integers (times in unix nanoseconds, `intValue`) may come as strings or numbers, and enums
 * (span kind, status code) as numbers or as their names.
 */
import { z } from 'zod';
import type { SpanRecord } from './trace-schema.ts';

// zod's int() stops at 2^53, below today's epoch in nanoseconds: a number only has to be whole.
const wholeNumber = z.number().refine(Number.isInteger, 'expected an integer');
const nanos = z.union([
  z.string().regex(/^\d+$/),
  wholeNumber.refine((value) => value >= 0, 'expected >= 0'),
]);
const hexId = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`));

// Nested array and kvlist values are kept as JSON text: SpanRecord attributes are flat scalars.
const anyValueSchema = z.object({
  stringValue: z.string().optional(),
  intValue: z.union([wholeNumber, z.string().regex(/^-?\d+$/)]).optional(),
  // The protobuf JSON mapping writes NaN and the infinities as strings.
  doubleValue: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]).optional(),
  boolValue: z.boolean().optional(),
  bytesValue: z.string().optional(),
  arrayValue: z.object({ values: z.array(z.unknown()).optional() }).optional(),
  kvlistValue: z.object({ values: z.array(z.unknown()).optional() }).optional(),
});
type OtlpAnyValue = z.infer<typeof anyValueSchema>;

const keyValueSchema = z.object({ key: z.string(), value: anyValueSchema.optional() });
const attributesSchema = z.array(keyValueSchema).optional();

const SPAN_KINDS = ['internal', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
const SPAN_KIND_NAMES: Readonly<Record<string, number>> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES = ['unset', 'ok', 'error'] as const;
const STATUS_CODE_NAMES: Readonly<Record<string, number>> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

const enumOf = (names: Readonly<Record<string, number>>, max: number) =>
  z.union([
    z.number().int().min(0).max(max),
    z.enum(Object.keys(names) as [string, ...string[]]).transform((name) => names[name] ?? 0),
  ]);

const spanSchema = z.object({
  traceId: hexId(16),
  spanId: hexId(8),
  // Exporters write an absent parent as a missing field or as an empty string.
  parentSpanId: z.union([hexId(8), z.literal('')]).optional(),
  name: z.string(),
  kind: enumOf(SPAN_KIND_NAMES, 5).optional(),
  startTimeUnixNano: nanos,
  endTimeUnixNano: nanos,
  attributes: attributesSchema,
  events: z
    .array(z.object({ timeUnixNano: nanos, name: z.string(), attributes: attributesSchema }))
    .optional(),
  status: z
    .object({ code: enumOf(STATUS_CODE_NAMES, 2).optional(), message: z.string().optional() })
    .optional(),
});

export const otlpTraceRequestSchema = z.object({
  resourceSpans: z
    .array(
      z.object({
        resource: z.object({ attributes: attributesSchema }).optional(),
        scopeSpans: z.array(z.object({ spans: z.array(spanSchema).optional() })).optional(),
      }),
    )
    .optional(),
});

/** What a span's service is called when its resource has no `service.name` (the SDK's own default). */
export const UNKNOWN_SERVICE = 'unknown_service';

/**
 * Decodes one parsed OTLP/JSON body. Throws a message naming the first offending field
 * (`resourceSpans[0].scopeSpans[0].spans[3].traceId: ...`) when the body is not a trace export.
 *
 * @example
 *   decodeOtlpTraces(JSON.parse(body)) // [{ traceId: '5b8e…', service: 'monolith', name: 'POST /checkout', … }]
 */
export function decodeOtlpTraces(body: unknown): SpanRecord[] {
  const parsed = otlpTraceRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`));
    throw new Error(
      `not an OTLP/JSON trace export: ${(where ?? []).join('').replace(/^\./, '')}: ${issue?.message}`,
    );
  }
  const records: SpanRecord[] = [];
  for (const resourceSpans of parsed.data.resourceSpans ?? []) {
    const resource = attributesToRecord(resourceSpans.resource?.attributes);
    const serviceName = resource['service.name'];
    const service = typeof serviceName === 'string' && serviceName !== '' ? serviceName : UNKNOWN_SERVICE;
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const startMs = nanosToMs(span.startTimeUnixNano);
        const statusMessage = span.status?.message;
        records.push({
          traceId: span.traceId.toLowerCase(),
          spanId: span.spanId.toLowerCase(),
          ...(span.parentSpanId ? { parentSpanId: span.parentSpanId.toLowerCase() } : {}),
          service,
          name: span.name,
          kind: SPAN_KINDS[span.kind ?? 0] ?? 'internal',
          startMs,
          durationMs: durationMs(span.startTimeUnixNano, span.endTimeUnixNano),
          status: STATUS_CODES[span.status?.code ?? 0] ?? 'unset',
          ...(statusMessage ? { statusMessage } : {}),
          attributes: attributesToRecord(span.attributes),
          events: (span.events ?? []).map((event) => ({
            name: event.name,
            atMs: nanosToMs(event.timeUnixNano),
            attributes: attributesToRecord(event.attributes),
          })),
        });
      }
    }
  }
  return records;
}

/**
 * Unix nanoseconds (string or number) to epoch milliseconds, keeping microseconds: an epoch in ms with
 * three decimals stays below 2^53, so the fraction is exact enough for a waterfall.
 */
export function nanosToMs(value: string | number): number {
  if (typeof value === 'number') return value / 1e6;
  const ns = BigInt(value);
  return Number(ns / 1000n) / 1000;
}

/**
 * End minus start, from the nanoseconds themselves: the difference of two epoch milliseconds would lose
 * the sub-millisecond part to floating point. A clock that steps back gives 0, never a negative bar.
 */
function durationMs(start: string | number, end: string | number): number {
  const nanoseconds = BigInt(end) - BigInt(start);
  return nanoseconds > 0n ? Number(nanoseconds) / 1e6 : 0;
}

function attributesToRecord(
  attributes: readonly { key: string; value?: OtlpAnyValue | undefined }[] | undefined,
): Record<string, string | number | boolean> {
  const record: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes ?? []) {
    const scalar = scalarOf(value);
    if (scalar !== undefined) record[key] = scalar;
  }
  return record;
}

function scalarOf(value: OtlpAnyValue | undefined): string | number | boolean | undefined {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  // NaN and the infinities stay text: results.json (JSON) has no such numbers.
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue !== undefined || value.kvlistValue !== undefined)
    return JSON.stringify(plainOf(value));
  return undefined;
}

/** A nested AnyValue as plain JSON (`[1, "a"]`, `{"k": true}`), for attributes kept as text. */
function plainOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return null;
  const any = value as Record<string, unknown>;
  if ('arrayValue' in any) {
    const values = (any.arrayValue as { values?: unknown[] } | undefined)?.values ?? [];
    return values.map(plainOf);
  }
  if ('kvlistValue' in any) {
    const values = (any.kvlistValue as { values?: unknown[] } | undefined)?.values ?? [];
    const entries = values.map((entry) => {
      const { key, value: inner } = (entry ?? {}) as { key?: unknown; value?: unknown };
      return [String(key), plainOf(inner)] as const;
    });
    return Object.fromEntries(entries);
  }
  const parsed = anyValueSchema.safeParse(value);
  return parsed.success ? (scalarOf(parsed.data) ?? null) : null;
}
