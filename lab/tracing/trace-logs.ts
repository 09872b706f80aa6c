/**
 * A deployment's service log lines, indexed by trace: the services write JSON lines on stderr, and every
 * line written while a span is active carries `trace_id` and `span_id`, so a trace's waterfall can show
 * what each service said about that request. Pure.
 */
import type { LogLine } from './trace-schema.ts';

/** One line as a service wrote it to stderr: usually JSON, sometimes not (a crash, a runtime warning). */
export interface ServiceLogLine {
  service: string;
  line: string;
}

export interface TraceLogIndex {
  /** The trace's log lines from every service, merged by time ([] if none). */
  logsOf(traceId: string): LogLine[];
  /** How many distinct traces have at least one line. */
  readonly traceCount: number;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * Indexes the lines that carry a `trace_id`. Lines that are not JSON objects, have no `trace_id`, or
 * have no readable `time` (an ISO timestamp, as the services write it) are left out: without a time a
 * line cannot be placed among the others.
 *
 * @example
 *   const index = indexTraceLogs([{ service: 'monolith', line: '{"time":"2026-01-01T00:00:00.000Z","trace_id":"…","event":"x"}' }]);
 *   index.logsOf(traceId) // [{ service: 'monolith', atMs: 1767225600000, line: { … } }]
 */
export function indexTraceLogs(lines: Iterable<ServiceLogLine>): TraceLogIndex {
  const byTrace = new Map<string, LogLine[]>();
  for (const { service, line } of lines) {
    const parsed = parseTracedLine(line);
    if (!parsed) continue;
    const entry: LogLine = { service, atMs: parsed.atMs, line: parsed.fields };
    const existing = byTrace.get(parsed.traceId);
    if (existing) existing.push(entry);
    else byTrace.set(parsed.traceId, [entry]);
  }
  // Sorted once here, stable: lines of the same millisecond keep the order they were written in.
  for (const entries of byTrace.values()) entries.sort((a, b) => a.atMs - b.atMs);
  return {
    logsOf: (traceId) => [...(byTrace.get(traceId.toLowerCase()) ?? [])],
    traceCount: byTrace.size,
  };
}

function parseTracedLine(
  line: string,
): { traceId: string; atMs: number; fields: Record<string, unknown> } | undefined {
  const text = line.trim();
  // Cheap test first: most lines of a run carry no trace, and many are not JSON at all.
  if (!text.startsWith('{') || !text.includes('trace_id')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  const traceId = typeof fields.trace_id === 'string' ? fields.trace_id.toLowerCase() : '';
  if (!TRACE_ID.test(traceId)) return undefined;
  const atMs = typeof fields.time === 'string' ? Date.parse(fields.time) : Number.NaN;
  if (!Number.isFinite(atMs)) return undefined;
  return { traceId, atMs, fields };
}
