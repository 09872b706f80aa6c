/**
 * Which requests a report shows as waterfalls: per route and phase, a typical success, the slowest
 * success, and one failure of each cause. Pure: the choice reads only the load generator's outcomes, so
 * it does not depend on which traces happened to arrive; the join with spans and logs comes after.
 */
import type { LogLine, SpanRecord, TraceExemplar } from './trace-schema.ts';

/** One request the load generator sent, as far as the choice needs it. */
export interface ExemplarCandidate {
  route: string;
  phase: string;
  traceId: string;
  /** When the request was sent, epoch milliseconds. */
  sentAtMs: number;
  latencyMs: number;
  ok: boolean;
  /** A failure's cause (`deadline`, `refused`, `http_503`, ...); empty or absent for a success. */
  cause?: string;
  status?: number | null;
}

export type ExemplarKind = TraceExemplar['kind'];

export interface ChosenRequest {
  kind: ExemplarKind;
  request: ExemplarCandidate;
  /** For a failure: the cause it stands for. */
  cause?: string;
}

/** What a failure without a cause stands for (the generator always gives one; an input may not). */
export const UNKNOWN_CAUSE = 'unknown';

/**
 * The choice alone. Per (route, phase), in the order the pairs first appear in `requests` (the load's
 * order, so phases come in timeline order):
 * - `median success`: the success whose latency is the median (the lower middle one for an even count);
 * - `slowest success`: the success with the highest latency, unless it is the median one (a single success);
 * - `failure`: for each cause, by cause name, the failure closest to that cause's median latency.
 * Ties are broken by send time, then trace id, so the same outcomes in any order give the same choice.
 *
 * @example
 *   pickExemplarRequests(outcomes) // [{ kind: 'median success', request: … }, { kind: 'failure', cause: 'deadline', request: … }]
 */
export function pickExemplarRequests(requests: readonly ExemplarCandidate[]): ChosenRequest[] {
  const groups = new Map<string, ExemplarCandidate[]>();
  for (const request of requests) {
    const key = JSON.stringify([request.route, request.phase]);
    const group = groups.get(key);
    if (group) group.push(request);
    else groups.set(key, [request]);
  }
  const chosen: ChosenRequest[] = [];
  for (const group of groups.values()) {
    const successes = group.filter((request) => request.ok).sort(byLatency);
    const median = successes[Math.floor((successes.length - 1) / 2)];
    if (median) chosen.push({ kind: 'median success', request: median });
    const slowest = successes.at(-1);
    if (slowest && slowest !== median) chosen.push({ kind: 'slowest success', request: slowest });

    const failuresByCause = new Map<string, ExemplarCandidate[]>();
    for (const request of group) {
      if (request.ok) continue;
      const cause = causeOf(request);
      const failures = failuresByCause.get(cause);
      if (failures) failures.push(request);
      else failuresByCause.set(cause, [request]);
    }
    for (const cause of [...failuresByCause.keys()].sort()) {
      const failures = failuresByCause.get(cause) ?? [];
      chosen.push({ kind: 'failure', cause, request: typicalFailure(failures) });
    }
  }
  return chosen;
}

/**
 * The choice joined with each request's spans (`trace`, e.g. the collector's) and log lines (`logsOf`,
 * e.g. from indexTraceLogs). A chosen request whose spans never arrived is kept, with no spans: a
 * request refused before it reached any service has no trace, and that is worth showing too.
 *
 * @example
 *   chooseExemplars(outcomes, collector, logIndex.logsOf)
 */
export function chooseExemplars(
  requests: readonly ExemplarCandidate[],
  traces: { trace(traceId: string): SpanRecord[] },
  logsOf: (traceId: string) => LogLine[],
): TraceExemplar[] {
  return pickExemplarRequests(requests).map(({ kind, request, cause }) => ({
    route: request.route,
    phase: request.phase,
    kind,
    ...(cause === undefined ? {} : { cause }),
    traceId: request.traceId,
    sentAtMs: request.sentAtMs,
    latencyMs: request.latencyMs,
    ...(typeof request.status === 'number' ? { status: request.status } : {}),
    spans: traces.trace(request.traceId),
    logs: logsOf(request.traceId),
  }));
}

function causeOf(request: ExemplarCandidate): string {
  return request.cause ? request.cause : UNKNOWN_CAUSE;
}

function byLatency(a: ExemplarCandidate, b: ExemplarCandidate): number {
  return a.latencyMs - b.latencyMs || a.sentAtMs - b.sentAtMs || compareText(a.traceId, b.traceId);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The failure closest to its cause's median latency. Not the slowest or the fastest: the extremes of a
 * cause are the requests caught at a phase's edge (a fault applied or undone while they were in flight)
 * or queued behind others, while one failure per cause should show what that cause usually looks like,
 * e.g. a `deadline` failure that waited the whole deadline, not one that started just before the fault.
 */
function typicalFailure(failures: readonly ExemplarCandidate[]): ExemplarCandidate {
  const sorted = [...failures].sort(byLatency);
  const middle = (sorted.length - 1) / 2;
  const lower = sorted[Math.floor(middle)];
  const upper = sorted[Math.ceil(middle)];
  const median = ((lower?.latencyMs ?? 0) + (upper?.latencyMs ?? 0)) / 2;
  let best = sorted[0] as ExemplarCandidate;
  for (const failure of sorted) {
    // Strictly closer: among equally close failures the first in latency order (then send time) wins.
    if (Math.abs(failure.latencyMs - median) < Math.abs(best.latencyMs - median)) best = failure;
  }
  return best;
}
