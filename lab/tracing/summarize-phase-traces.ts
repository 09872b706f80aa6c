import type { RequestOutcome } from '../load/outcome.ts';
import type { PhaseTraces, TraceGroup } from './trace-schema.ts';

/** What one request's trace shows, as the claims and the phase tables use it. */
export interface TraceMeasure {
  /** Distinct services with a span in the trace. */
  services: number;
  /** HTTP attempts to payment-service (client spans). */
  attempts: number;
  /** Whether payment-service has a server span in the trace. */
  calleeSaw: boolean;
  /** Share of the entry server span spent in client spans to payment-service; null if it never called out. */
  outboundShare: number | null;
}

/**
 * The traces of one phase's requests, successes and failures apart: how many reached the lab, and the
 * medians the claims over traces read. Undefined when none of the requests carried a trace id.
 *
 * @example
 *   summarizePhaseTraces(outcomesDueIn(checkouts, phase), (traceId) => measureTrace(collector.trace(traceId)))
 */
export function summarizePhaseTraces(
  outcomes: readonly RequestOutcome[],
  measure: (traceId: string) => TraceMeasure | undefined,
): PhaseTraces | undefined {
  const traced = outcomes.filter((outcome) => outcome.traceId !== undefined);
  if (traced.length === 0) return undefined;
  const measured = traced.map((outcome) => ({ ok: outcome.ok, measure: measure(outcome.traceId ?? '') }));
  const group = (ok: boolean): TraceGroup =>
    summarizeGroup(measured.flatMap((entry) => (entry.ok === ok && entry.measure ? [entry.measure] : [])));
  return {
    requests: traced.length,
    withSpans: measured.filter((entry) => entry.measure !== undefined).length,
    successes: group(true),
    failures: group(false),
  };
}

function summarizeGroup(measures: readonly TraceMeasure[]): TraceGroup {
  const calledOut = measures.filter((measure) => measure.attempts > 0);
  const shares = measures.flatMap((measure) =>
    measure.outboundShare === null ? [] : [measure.outboundShare],
  );
  return {
    traces: measures.length,
    outboundShareP50: rounded(median(shares), 1000),
    calleeSawShare:
      calledOut.length === 0
        ? null
        : rounded(calledOut.filter((measure) => measure.calleeSaw).length / calledOut.length, 1000),
    attemptsP50: median(calledOut.map((measure) => measure.attempts)),
    attemptsMax: calledOut.length === 0 ? null : Math.max(...calledOut.map((measure) => measure.attempts)),
    servicesP50: median(measures.map((measure) => measure.services)),
  };
}

/** The lower median: always a value that occurred, so "3 attempts" is a trace that had 3. */
function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? null;
}

function rounded(value: number | null, scale: number): number | null {
  return value === null ? null : Math.round(value * scale) / scale;
}
