/**
 * The lab's OTLP/HTTP trace receiver: the services export their spans here (OTEL_EXPORTER_OTLP_ENDPOINT),
 * the lab keeps them in memory, decoded to SpanRecord, to join them with the requests it sent, and
 * re-posts each batch as it came to any further OTLP endpoint (Jaeger, the user's own collector).
 *
 * JSON only: the services export OTLP over HTTP/JSON, and decoding protobuf would need a package the lab
 * does not otherwise use.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { decodeOtlpTraces } from './otlp-json.ts';
import type { SpanRecord, TracingSummary } from './trace-schema.ts';

export interface TraceCollector extends AsyncDisposable {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the services post to `${endpoint}/v1/traces`). */
  readonly endpoint: string;
  /** Every span received so far, decoded to SpanRecord. */
  spans(): readonly SpanRecord[];
  /** One trace's spans, by start time ([] if none arrived). */
  trace(traceId: string): SpanRecord[];
  /** Resolves when no export has arrived for `quietMs` (default 500) or after `timeoutMs` (default 3000):
   *  the services batch spans, so the lab waits briefly after a deployment before choosing exemplars. */
  settle(options?: { quietMs?: number; timeoutMs?: number }): Promise<void>;
  summary(): TracingSummary;
  /**
   * What the receiver refused or could not keep, beyond `summary()`: batches answered 400 (not OTLP/JSON)
   * or 415 (protobuf, or an unknown encoding), and spans received past `maxSpans` (counted in
   * `spansReceived` but not kept, so `spans()` and `trace()` lack them).
   */
  losses(): { malformedBatches: number; unsupportedBatches: number; droppedSpans: number };
  stop(): Promise<void>;
}

export interface TraceCollectorOptions {
  /** Where to listen; default 127.0.0.1 (the containers runtime feeds it from its trace relay). */
  host?: string;
  /** Raw OTLP bodies re-posted to `${endpoint}/v1/traces`. */
  forwardTo?: { name: string; endpoint: string }[];
  /** Memory bound (default 500_000); beyond it spans count as dropped in summary. */
  maxSpans?: number;
}

export const DEFAULT_MAX_SPANS = 500_000;
/** A BatchSpanProcessor batch (512 spans) is well under 1 MiB of JSON; this bounds a broken client. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** How long a forward target gets for one batch: a slow Jaeger must not pile up batches in memory. */
const FORWARD_TIMEOUT_MS = 5_000;
const TRACES_PATH = '/v1/traces';

const gunzipAsync = promisify(gunzip);

class HttpProblem extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * Starts the receiver on a free port.
 *
 * @example
 *   await using collector = await startTraceCollector({ forwardTo: [{ name: 'Jaeger', endpoint: jaeger.otlpEndpoint }] });
 *   env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.endpoint;
 *   // ... run the load ...
 *   await collector.settle();
 *   collector.trace(outcome.traceId);
 */
export async function startTraceCollector(options: TraceCollectorOptions = {}): Promise<TraceCollector> {
  const host = options.host ?? '127.0.0.1';
  const forwardTo = options.forwardTo ?? [];
  const maxSpans = options.maxSpans ?? DEFAULT_MAX_SPANS;

  const kept: SpanRecord[] = [];
  const byTrace = new Map<string, SpanRecord[]>();
  const traceIds = new Set<string>();
  let spansReceived = 0;
  let droppedSpans = 0;
  let malformedBatches = 0;
  let unsupportedBatches = 0;
  let forwardFailures = 0;
  const pendingForwards = new Set<Promise<void>>();
  // Activity for settle(): a batch being read counts as an arrival until it is stored.
  let lastArrivalAt = performance.now();
  let requestsInFlight = 0;

  const store = (records: readonly SpanRecord[]): number => {
    let rejected = 0;
    for (const record of records) {
      spansReceived += 1;
      traceIds.add(record.traceId);
      if (kept.length >= maxSpans) {
        rejected += 1;
        continue;
      }
      kept.push(record);
      const trace = byTrace.get(record.traceId);
      if (trace) trace.push(record);
      else byTrace.set(record.traceId, [record]);
    }
    droppedSpans += rejected;
    return rejected;
  };

  const forward = (body: Buffer): void => {
    for (const target of forwardTo) {
      const sent = fetch(`${target.endpoint.replace(/\/+$/, '')}${TRACES_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Uint8Array(body),
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      })
        .then(async (response) => {
          // Read the answer to its end, so the connection can be reused.
          await response.arrayBuffer().catch(() => undefined);
          if (!response.ok) forwardFailures += 1;
        })
        .catch(() => {
          forwardFailures += 1;
        })
        .finally(() => pendingForwards.delete(sent));
      pendingForwards.add(sent);
    }
  };

  const handle = async (request: http.IncomingMessage): Promise<{ status: number; body: unknown }> => {
    const url = new URL(request.url ?? '/', 'http://collector');
    if (url.pathname !== TRACES_PATH) {
      throw new HttpProblem(404, `the lab's OTLP receiver takes traces only, at POST ${TRACES_PATH}`);
    }
    if (request.method !== 'POST') throw new HttpProblem(405, `use POST ${TRACES_PATH}`);
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (contentType !== 'application/json') {
      unsupportedBatches += 1;
      throw new HttpProblem(
        415,
        `the lab's OTLP receiver takes OTLP/HTTP JSON only (got content-type "${contentType}"): ` +
          'set OTEL_EXPORTER_OTLP_PROTOCOL=http/json (or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) in the exporting service',
      );
    }
    const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip') {
      unsupportedBatches += 1;
      throw new HttpProblem(
        415,
        `content-encoding "${encoding}" is not supported: send gzip or no compression`,
      );
    }
    const raw = await readBody(request);
    const body =
      encoding === 'gzip'
        ? await gunzipAsync(raw, { maxOutputLength: MAX_BODY_BYTES }).catch(() => undefined)
        : raw;
    let records: SpanRecord[];
    try {
      if (!body) throw new Error('the gzip body does not decompress');
      records = decodeOtlpTraces(JSON.parse(body.toString('utf8')));
    } catch (error) {
      malformedBatches += 1;
      throw new HttpProblem(
        400,
        error instanceof SyntaxError
          ? `the body is not JSON: ${error.message}`
          : String((error as Error).message),
      );
    }
    const rejected = store(records);
    forward(body);
    return rejected === 0
      ? { status: 200, body: {} }
      : {
          status: 200,
          body: {
            partialSuccess: {
              rejectedSpans: String(rejected),
              errorMessage: `the lab keeps at most ${maxSpans} spans per run; the rest are counted, not kept`,
            },
          },
        };
  };

  const server = http.createServer((request, response) => {
    requestsInFlight += 1;
    lastArrivalAt = performance.now();
    const answer = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      response.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      response.end(text);
    };
    handle(request)
      .then(({ status, body }) => answer(status, body))
      .catch((error: unknown) => {
        const problem = error instanceof HttpProblem ? error : new HttpProblem(500, String(error));
        if (!request.complete) {
          // A refused body is not read: discard the rest and close rather than reuse the connection.
          response.setHeader('connection', 'close');
          request.resume();
        }
        // The OTLP error body is a google.rpc.Status; its message is what an exporter logs.
        answer(problem.status, { code: problem.status === 400 ? 3 : 0, message: problem.message });
      })
      .finally(() => {
        requestsInFlight -= 1;
        lastArrivalAt = performance.now();
      });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // An exporter's keep-alive connection or a half-sent batch must not hold the lab open.
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), 1_000);
      await closed;
      clearTimeout(grace);
      // Each forward ends within FORWARD_TIMEOUT_MS.
      await Promise.allSettled([...pendingForwards]);
    })();
    return stopping;
  };

  return {
    endpoint,
    spans: () => kept,
    // At equal start times the longer span first: a parent encloses its child, so it leads the waterfall.
    trace: (traceId) =>
      [...(byTrace.get(traceId.toLowerCase()) ?? [])].sort(
        (a, b) => a.startMs - b.startMs || b.durationMs - a.durationMs,
      ),
    settle: async ({ quietMs = 500, timeoutMs = 3_000 } = {}) => {
      const calledAt = performance.now();
      const deadline = calledAt + timeoutMs;
      // The quiet window starts no earlier than the call: the last requests' spans may still sit in a
      // service's batch, so an export that arrived long ago says nothing about the ones still to come.
      for (;;) {
        const now = performance.now();
        if (now >= deadline) return;
        const quietSince = Math.max(lastArrivalAt, calledAt);
        if (requestsInFlight === 0 && now - quietSince >= quietMs) return;
        const wait = requestsInFlight > 0 ? 20 : quietMs - (now - quietSince);
        await sleep(Math.max(1, Math.min(wait, deadline - now)));
      }
    },
    summary: () => ({
      spansReceived,
      tracesReceived: traceIds.size,
      exportedTo: forwardTo.map((target) => target.name),
      forwardFailures,
    }),
    losses: () => ({ malformedBatches, unsupportedBatches, droppedSpans }),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpProblem(413, `a batch is limited to ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, `a batch is limited to ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
