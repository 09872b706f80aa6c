/**
 * Figures read from whole traces, for claims: how much of a request was spent waiting on
 * payment-service, how many services it touched, whether it reached payment-service, and how many
 * attempts the call took. Pure; the inputs are every trace of a set of requests, not the exemplars
 * (summarizePhaseTraces in summarize-phase-traces.ts takes their medians per phase).
 */
import type { TraceMeasure } from './summarize-phase-traces.ts';
import type { SpanRecord } from './trace-schema.ts';

export const PAYMENT_SERVICE = 'payment-service';

/**
 * What one request's trace shows (the shape summarizePhaseTraces reads); undefined when no span of the
 * trace reached the lab.
 * - `services`: distinct `service.name`s among its spans;
 * - `attempts`: HTTP attempts to payment-service (client spans; retries are sibling attempts);
 * - `calleeSaw`: whether payment-service has a server span in it (the request reached payment-service);
 * - `outboundShare`: of the entry server span's duration, the share covered by those client spans (the
 *   union of their intervals, clipped to the server span, so overlapping attempts count once); null
 *   when it never called out (the monolith), or when its entry server span did not arrive.
 *
 * @example
 *   measureTrace(collector.trace(traceId)) // { services: 2, attempts: 1, calleeSaw: true, outboundShare: 0.42 }
 */
export function measureTrace(spans: readonly SpanRecord[]): TraceMeasure | undefined {
  if (spans.length === 0) return undefined;
  const calls = spans.filter((span) => isPaymentCall(span, spans));
  const entry = entryServerSpan(spans);
  return {
    services: new Set(spans.map((span) => span.service)).size,
    attempts: calls.length,
    calleeSaw: spans.some((span) => span.kind === 'server' && span.service === PAYMENT_SERVICE),
    outboundShare: calls.length > 0 && entry ? shareCovered(entry, calls) : null,
  };
}

/** Groups spans by trace (e.g. `collector.spans()`), keeping each trace's spans in arrival order. */
export function groupByTrace(spans: Iterable<SpanRecord>): Map<string, SpanRecord[]> {
  const traces = new Map<string, SpanRecord[]>();
  for (const span of spans) {
    const trace = traces.get(span.traceId);
    if (trace) trace.push(span);
    else traces.set(span.traceId, [span]);
  }
  return traces;
}

/**
 * The server span the request entered by: a server span whose parent is not in the trace (the lab's
 * own span, which is never exported). With several (a trace that arrived in part), the earliest.
 */
export function entryServerSpan(spans: readonly SpanRecord[]): SpanRecord | undefined {
  const ids = new Set(spans.map((span) => span.spanId));
  let entry: SpanRecord | undefined;
  for (const span of spans) {
    if (span.kind !== 'server') continue;
    if (span.parentSpanId !== undefined && ids.has(span.parentSpanId)) continue;
    if (!entry || span.startMs < entry.startMs) entry = span;
  }
  return entry;
}

/**
 * Whether a span is an HTTP call to payment-service: a client span whose child is a payment-service
 * server span, or, when that child did not arrive or the request never got there (refused, timed out
 * on the way), one that names payment-service's `/charge` route.
 */
export function isPaymentCall(span: SpanRecord, spans: readonly SpanRecord[]): boolean {
  if (span.kind !== 'client') return false;
  if (isChargeAttempt(span)) return true;
  return spans.some(
    (child) =>
      child.parentSpanId === span.spanId && child.kind === 'server' && child.service === PAYMENT_SERVICE,
  );
}

function isChargeAttempt(span: SpanRecord): boolean {
  if (span.kind !== 'client') return false;
  const target = [span.name, span.attributes['url.full'], span.attributes['url.path']]
    .filter((value): value is string => typeof value === 'string')
    .join(' ');
  return /\/charge(?![\w-])/.test(target);
}

/** The share of `entry`'s duration covered by the spans' intervals, overlaps counted once. */
function shareCovered(entry: SpanRecord, spans: readonly SpanRecord[]): number {
  if (entry.durationMs <= 0) return 0;
  const start = entry.startMs;
  const end = entry.startMs + entry.durationMs;
  const intervals = spans.map(
    (span) => [Math.max(start, span.startMs), Math.min(end, span.startMs + span.durationMs)] as const,
  );
  return Math.min(1, unionLength(intervals) / entry.durationMs);
}

/** Total length covered by the intervals, overlaps counted once. */
export function unionLength(intervals: readonly (readonly [number, number])[]): number {
  const sorted = [...intervals].filter(([from, to]) => to > from).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let currentFrom = Number.NEGATIVE_INFINITY;
  let currentTo = Number.NEGATIVE_INFINITY;
  for (const [from, to] of sorted) {
    if (from > currentTo) {
      if (currentTo > currentFrom) total += currentTo - currentFrom;
      currentFrom = from;
      currentTo = to;
    } else if (to > currentTo) {
      currentTo = to;
    }
  }
  if (currentTo > currentFrom) total += currentTo - currentFrom;
  return total;
}
