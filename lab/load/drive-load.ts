import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import type { RouteName } from '../vocabulary/topology.ts';
import { dueTimeS, streamSchedule } from './due-times.ts';
import { causeOfClientError, causeOfResponse, type RequestOutcome } from './outcome.ts';
import { prepareRequest } from './request-bodies.ts';

export interface RouteLoad {
  route: RouteName;
  url: string;
  ratePerSecond: number;
  /** A stream may run only in a window of the timeline (a flood during one phase); whole run by default. */
  fromS?: number;
  untilS?: number;
}

export interface DriveLoadOptions {
  routes: RouteLoad[];
  durationS: number;
  /** A client gives up after this long and counts `client_timeout`. */
  timeoutMs: number;
  /** Above this many requests in flight on one route the generator counts `generator_limit` instead of sending. */
  maxInFlightPerRoute: number;
  /** Unique per run, so emails and idempotency keys never collide with an earlier deployment's. */
  runTag: string;
  signal?: AbortSignal;
  /** performance.now() of the timeline's t = 0; defaults to now. */
  startedAtMs?: number;
  /** Called with each outcome as it completes (the live view's tally); must return at once. */
  onOutcome?: (outcome: RequestOutcome) => void;
  /**
   * False for an open-ended session (`lab up --load`): outcomes go only to `onOutcome`, and `finished`
   * resolves to an empty list, so hours of load do not fill the memory. True by default.
   */
  keepOutcomes?: boolean;
  /**
   * True: every request carries its own sampled W3C `traceparent` (a fresh trace id), and its outcome
   * keeps that id, so the report can show the request's spans. False by default.
   */
  traceRequests?: boolean;
}

export interface LoadRun {
  inFlight(route: RouteName): number;
  /** Resolves when the last request sent has completed. */
  finished: Promise<RequestOutcome[]>;
}

/**
 * An open-model load generator: requests are due at evenly spaced times whatever happens to earlier
 * ones, and latency is measured from the due time, so a stalled service cannot hide its stall by
 * slowing the generator down (no coordinated omission). Due times are exact (due-times.ts), and each
 * outcome says how late the generator itself sent it (`sendLagMs`): its own health.
 *
 * Why not autocannon: it is a closed model (a hung request stops its connection from sending), its
 * coordinated-omission correction is effectively off, it drops an in-flight request silently when the
 * server closes the connection, and against a refused port it reconnects in a hot loop (measured here:
 * 135k errors and a full core in 2 s at a target of 10 requests/s).
 *
 * @example
 *   const run = driveLoad({ routes: [{ route: 'pay', url, ratePerSecond: 20 }], durationS: 10, timeoutMs: 15000, maxInFlightPerRoute: 500, runTag: 'r1' });
 *   const outcomes = await run.finished;
 */
export function driveLoad(options: DriveLoadOptions): LoadRun {
  const startedAtMs = options.startedAtMs ?? performance.now();
  const dispatcher = new Agent({ keepAliveTimeout: 4000, connections: options.maxInFlightPerRoute });
  const outcomes: RequestOutcome[] = [];
  const inFlight = new Map<RouteName, number>(options.routes.map((route) => [route.route, 0]));
  const pending = new Set<Promise<void>>();
  // One sequence per stream: a route may have its steady stream and a flood at the same time.
  const nextSequence = options.routes.map(() => 0);
  const schedules = options.routes.map((load) => streamSchedule(load, options.durationS));
  const lagSince = (dueAtMs: number): number => Math.round((performance.now() - dueAtMs) * 10) / 10;
  const keep = options.keepOutcomes ?? true;
  const record = (outcome: RequestOutcome): void => {
    if (keep) outcomes.push(outcome);
    options.onOutcome?.(outcome);
  };

  const send = (load: RouteLoad, stream: number, sequence: number, dueAtS: number, dueAtMs: number): void => {
    const current = inFlight.get(load.route) ?? 0;
    if (current >= options.maxInFlightPerRoute) {
      record({
        route: load.route,
        dueAtS,
        stream,
        // When the generator decided not to send: a starved generator shows here too.
        sendLagMs: lagSince(dueAtMs),
        latencyMs: 0,
        ok: false,
        cause: 'generator_limit',
        status: null,
      });
      return;
    }
    inFlight.set(load.route, current + 1);
    const prepared = prepareRequest(load.route, `${options.runTag}s${stream}`, sequence);
    const trace = options.traceRequests ? newTraceParent() : undefined;
    const headers = trace ? { ...prepared.headers, traceparent: trace.header } : prepared.headers;
    const task = (async () => {
      // This function runs synchronously into undici's request(): now is when the request is handed over.
      const sendLagMs = lagSince(dueAtMs);
      const sentAtEpochMs = trace ? performance.timeOrigin + performance.now() : undefined;
      // The whole request's deadline. Not AbortSignal.timeout: its timer lives on for timeoutMs after the
      // answer (15 s x 2000/s = 30,000 live timers, and 7-16 ms mark-compact pauses in the generator).
      const deadline = new AbortController();
      const timer = setTimeout(
        () => deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
        options.timeoutMs,
      );
      let outcome: Omit<RequestOutcome, 'latencyMs' | 'sendLagMs'>;
      try {
        const response = await request(load.url, {
          method: 'POST',
          body: prepared.body,
          headers,
          dispatcher,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
          signal: deadline.signal,
        });
        const text = await response.body.text();
        const ok = response.statusCode >= 200 && response.statusCode < 300;
        outcome = {
          route: load.route,
          dueAtS,
          stream,
          ok,
          cause: ok ? '' : causeOfResponse(response.statusCode, text),
          status: response.statusCode,
        };
      } catch (error) {
        outcome = {
          route: load.route,
          dueAtS,
          stream,
          ok: false,
          cause: causeOfClientError(error),
          status: null,
        };
      } finally {
        clearTimeout(timer);
      }
      record({
        ...outcome,
        sendLagMs,
        latencyMs: Math.round((performance.now() - dueAtMs) * 10) / 10,
        ...(trace && sentAtEpochMs !== undefined
          ? { traceId: trace.traceId, sentAtEpochMs: Math.round(sentAtEpochMs * 10) / 10 }
          : {}),
        ...(prepared.idempotencyKey ? { idempotencyKey: prepared.idempotencyKey } : {}),
        ...(prepared.email ? { email: prepared.email } : {}),
      });
      inFlight.set(load.route, (inFlight.get(load.route) ?? 1) - 1);
    })();
    pending.add(task);
    void task.finally(() => pending.delete(task));
  };

  // On Ctrl-C the requests still in flight are cut at once instead of waiting for their timeout.
  options.signal?.addEventListener('abort', () => void dispatcher.destroy().catch(() => undefined), {
    once: true,
  });

  const finished = (async () => {
    for (;;) {
      if (options.signal?.aborted) break;
      const now = performance.now();
      let nextDueMs = Infinity;
      for (const [stream, load] of options.routes.entries()) {
        const schedule = schedules[stream];
        if (!schedule) continue;
        let sequence = nextSequence[stream] ?? 0;
        while (sequence < schedule.count) {
          const dueAtS = dueTimeS(schedule, sequence);
          const dueAtMs = startedAtMs + dueAtS * 1000;
          if (dueAtMs > now) {
            nextDueMs = Math.min(nextDueMs, dueAtMs);
            break;
          }
          send(load, stream, sequence, dueAtS, dueAtMs);
          sequence += 1;
        }
        nextSequence[stream] = sequence;
      }
      if (nextDueMs === Infinity) break;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextDueMs - performance.now())));
    }
    while (pending.size > 0) await Promise.allSettled([...pending]);
    if (!options.signal?.aborted) await dispatcher.close();
    return outcomes;
  })();

  return { inFlight: (route) => inFlight.get(route) ?? 0, finished };
}

/**
 * A new root trace context for one request: version 00, a random trace id and parent span id, sampled.
 * The lab is the trace's root; the service's server span becomes its child.
 */
export function newTraceParent(): { traceId: string; header: string } {
  const bytes = randomBytes(24).toString('hex');
  const traceId = bytes.slice(0, 32);
  return { traceId, header: `00-${traceId}-${bytes.slice(32, 48)}-01` };
}
