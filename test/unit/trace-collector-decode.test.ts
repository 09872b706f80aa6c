/**
 * Decoding OTLP/JSON trace exports into SpanRecord: the shapes the OpenTelemetry JS exporter writes
 * (string nanoseconds, numeric intValue, hex ids) and the other spellings the OTLP/JSON mapping allows.
 */
import { describe, expect, it } from 'vitest';
import { decodeOtlpTraces, nanosToMs, UNKNOWN_SERVICE } from '../../lab/tracing/otlp-json.ts';
import { spanRecordSchema } from '../../lab/tracing/trace-schema.ts';

const TRACE = '5b8efff798038103d269b633813fc60c';
const SERVER = 'eee19b7ec3c1b174';
const CLIENT = 'eee19b7ec3c1b175';

/** What @opentelemetry/exporter-trace-otlp-http 0.301 posts for a server span and a client child. */
function sdkExport(): unknown {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'signup-service' } },
            { key: 'process.pid', value: { intValue: 4242 } },
          ],
          droppedAttributesCount: 0,
        },
        scopeSpans: [
          {
            scope: { name: 'splitlab', version: '0.1.0' },
            spans: [
              {
                traceId: TRACE,
                spanId: SERVER,
                parentSpanId: 'aaaaaaaaaaaaaaaa',
                name: 'POST /checkout',
                kind: 2,
                startTimeUnixNano: '1764540000123456789',
                endTimeUnixNano: '1764540000173456789',
                attributes: [
                  { key: 'http.request.method', value: { stringValue: 'POST' } },
                  { key: 'http.response.status_code', value: { intValue: 503 } },
                ],
                droppedAttributesCount: 0,
                events: [
                  {
                    name: 'retry',
                    timeUnixNano: '1764540000150000000',
                    attributes: [
                      { key: 'attempt', value: { intValue: 2 } },
                      { key: 'delay_ms', value: { doubleValue: 12.5 } },
                    ],
                    droppedAttributesCount: 0,
                  },
                ],
                droppedEventsCount: 0,
                status: { code: 2, message: 'deadline' },
                links: [],
                droppedLinksCount: 0,
                flags: 257,
              },
              {
                traceId: TRACE,
                spanId: CLIENT,
                parentSpanId: SERVER,
                name: 'POST /charge',
                kind: 3,
                startTimeUnixNano: '1764540000130000000',
                endTimeUnixNano: '1764540000160000000',
                attributes: [{ key: 'splitlab.attempt', value: { intValue: 1 } }],
                events: [],
                status: { code: 0 },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('decodeOtlpTraces', () => {
  it('decodes what the OpenTelemetry JS exporter posts into valid SpanRecords', () => {
    const spans = decodeOtlpTraces(sdkExport());
    expect(spans).toHaveLength(2);
    for (const span of spans) expect(spanRecordSchema.parse(span)).toEqual(span);
    const [server, client] = spans;
    expect(server).toEqual({
      traceId: TRACE,
      spanId: SERVER,
      parentSpanId: 'aaaaaaaaaaaaaaaa',
      service: 'signup-service',
      name: 'POST /checkout',
      kind: 'server',
      startMs: 1764540000123.456,
      durationMs: 50,
      status: 'error',
      statusMessage: 'deadline',
      attributes: { 'http.request.method': 'POST', 'http.response.status_code': 503 },
      events: [{ name: 'retry', atMs: 1764540000150, attributes: { attempt: 2, delay_ms: 12.5 } }],
    });
    expect(client).toMatchObject({ kind: 'client', status: 'unset', parentSpanId: SERVER });
    expect(client).not.toHaveProperty('statusMessage');
  });

  it('accepts the other spellings OTLP/JSON allows', () => {
    const spans = decodeOtlpTraces({
      resourceSpans: [
        {
          resource: { attributes: [] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: TRACE.toUpperCase(),
                  spanId: SERVER.toUpperCase(),
                  parentSpanId: '',
                  name: 'db transaction',
                  kind: 'SPAN_KIND_INTERNAL',
                  startTimeUnixNano: 1764540000000000000,
                  endTimeUnixNano: '1764540000002000000',
                  attributes: [
                    { key: 'big', value: { intValue: '12345678901' } },
                    { key: 'flag', value: { boolValue: false } },
                    {
                      key: 'list',
                      value: { arrayValue: { values: [{ intValue: 1 }, { stringValue: 'a' }] } },
                    },
                    {
                      key: 'map',
                      value: { kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } },
                    },
                    { key: 'nan', value: { doubleValue: 'NaN' } },
                    { key: 'empty' },
                  ],
                  status: { code: 'STATUS_CODE_OK' },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span?.traceId).toBe(TRACE);
    expect(span?.spanId).toBe(SERVER);
    expect(span).not.toHaveProperty('parentSpanId');
    expect(span?.service).toBe(UNKNOWN_SERVICE);
    expect(span?.kind).toBe('internal');
    expect(span?.status).toBe('ok');
    expect(span?.durationMs).toBeCloseTo(2, 6);
    expect(span?.attributes).toEqual({
      big: 12345678901,
      flag: false,
      list: '[1,"a"]',
      map: '{"k":true}',
      nan: 'NaN',
    });
  });

  it('takes an empty export, and kind 0 (unspecified) as internal', () => {
    expect(decodeOtlpTraces({})).toEqual([]);
    expect(decodeOtlpTraces({ resourceSpans: [{ scopeSpans: [{}] }] })).toEqual([]);
    const body = sdkExport() as { resourceSpans: { scopeSpans: { spans: { kind: number }[] }[] }[] };
    const first = body.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    if (first) first.kind = 0;
    expect(decodeOtlpTraces(body)[0]?.kind).toBe('internal');
  });

  it('never makes a negative duration of an end before the start', () => {
    const body = sdkExport() as {
      resourceSpans: { scopeSpans: { spans: { endTimeUnixNano: string }[] }[] }[];
    };
    const first = body.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    if (first) first.endTimeUnixNano = '1764540000000000000';
    expect(decodeOtlpTraces(body)[0]?.durationMs).toBe(0);
  });

  const rejected: [string, unknown, RegExp][] = [
    ['not an object', 'a string', /not an OTLP\/JSON trace export/],
    [
      'a base64 trace id (protobuf JSON, not OTLP/JSON)',
      withSpan({ traceId: 'W47/95gDgQPSabYzgT/GDA==' }),
      /spans\[0\]\.traceId/,
    ],
    ['a short span id', withSpan({ spanId: 'abc' }), /spans\[0\]\.spanId/],
    ['no name', withSpan({ name: undefined }), /spans\[0\]\.name/],
    ['a time that is not a number', withSpan({ startTimeUnixNano: 'soon' }), /startTimeUnixNano/],
    ['an unknown kind', withSpan({ kind: 9 }), /spans\[0\]\.kind/],
    ['resourceSpans not a list', { resourceSpans: {} }, /resourceSpans/],
  ];
  it.each(rejected)('rejects %s, naming the field', (_what, body, message) => {
    expect(() => decodeOtlpTraces(body)).toThrow(message);
  });
});

describe('nanosToMs', () => {
  it('keeps microseconds of an epoch in nanoseconds, from a string or a number', () => {
    expect(nanosToMs('1764540000123456789')).toBe(1764540000123.456);
    expect(nanosToMs('0')).toBe(0);
    expect(nanosToMs(2_000_000)).toBe(2);
  });
});

function withSpan(changes: Record<string, unknown>): unknown {
  const body = sdkExport() as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
  const spans = body.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
  spans[0] = { ...spans[0], ...changes };
  return body;
}
