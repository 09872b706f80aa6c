import autocannon from 'autocannon';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { RouteName } from '../vocabulary/topology.ts';
import { newTraceParent } from './drive-load.ts';
import { causeOfClientError, causeOfResponse, type RequestOutcome } from './outcome.ts';
import { prepareRequest, type PreparedRequest } from './request-bodies.ts';

/** One closed-model stream: `connections` connections on one route, in a window of the timeline. */
export interface ClosedStream {
  route: RouteName;
  url: string;
  connections: number;
  /** Its index among the run's streams: each outcome's `stream`. */
  stream: number;
  fromS?: number;
  untilS?: number;
}

export interface DriveClosedLoadOptions {
  load: ClosedStream;
  durationS: number;
  /** autocannon's per-request timeout: the request counts `client_timeout` after this long. */
  timeoutMs: number;
  runTag: string;
  /** performance.now() of the timeline's t = 0. */
  startedAtMs: number;
  signal?: AbortSignal;
  onOutcome?: (outcome: RequestOutcome) => void;
  traceRequests?: boolean;
  /** The hot-loop bound: more connection errors than this in one second stops the stream for `pauseMs`. */
  maxErrorsPerSecond?: number;
  pauseMs?: number;
}

/** One time the lab stopped autocannon because it was reconnecting in a hot loop. */
export interface BoundedEpisode {
  /** Seconds from t = 0 when the stream was stopped. */
  atS: number;
  /** Connection errors in the second that tripped the bound. */
  errors: number;
  pausedMs: number;
}

/** What one closed stream did, beyond its per-request outcomes: autocannon's own counters and the bound. */
export interface ClosedStreamSummary {
  route: RouteName;
  connections: number;
  fromS: number;
  untilS: number;
  /** Requests written to a connection (autocannon `request` events), connection attempts included. */
  sent: number;
  /** Requests that got an HTTP answer, any status. */
  answered: number;
  ok: number;
  /** autocannon's own totals over its instances: errors (timeouts included), timeouts, non-2xx. */
  autocannon: { errors: number; timeouts: number; non2xx: number; instances: number };
  bounded: BoundedEpisode[];
  /**
   * CPU the lab process used while the stream ran, as a share of one core: the generator's own cost
   * (the open-model generator and the lab's bookkeeping run in the same process, so it bounds it from above).
   */
  labProcessCpuShare: number | null;
}

export interface ClosedLoadRun {
  finished: Promise<{ outcomes: RequestOutcome[]; summary: ClosedStreamSummary }>;
}

/** The default hot-loop bound: refused connections at this pace are the generator measuring itself. */
export const CLOSED_LOAD_LIMITS = { maxErrorsPerSecond: 500, pauseMs: 1000 } as const;

/**
 * Counts connection errors per second of the timeline and says when a second has too many: pure, so the
 * bound is unit-tested.
 *
 * @example
 *   const bound = errorBound(500);
 *   bound.record(3.2) // false ... until the 501st error in second 3
 */
export function errorBound(maxPerSecond: number): { record(atS: number): number | null; reset(): void } {
  let second = -1;
  let count = 0;
  return {
    record(atS) {
      const current = Math.floor(atS);
      if (current !== second) {
        second = current;
        count = 0;
      }
      count += 1;
      return count > maxPerSecond ? count : null;
    },
    reset() {
      second = -1;
      count = 0;
    },
  };
}

/**
 * The outcome of one request of a closed stream. Its latency is from when it was written to the
 * connection: a closed model has no due time, so a stalled server makes its connections wait instead of
 * counting the requests they did not send (coordinated omission).
 */
export function closedOutcome(
  request: {
    route: RouteName;
    stream: number;
    sentAtS: number;
    prepared?: PreparedRequest;
    traceId?: string;
  },
  result: { status: number | null; body?: string; error?: unknown; cause?: string },
  latencyMs: number,
): RequestOutcome {
  const ok = result.status !== null && result.status >= 200 && result.status < 300;
  const cause = ok
    ? ''
    : (result.cause ??
      (result.status !== null
        ? causeOfResponse(result.status, result.body ?? '')
        : causeOfClientError(result.error)));
  return {
    route: request.route,
    dueAtS: Math.round(request.sentAtS * 1000) / 1000,
    stream: request.stream,
    sendLagMs: 0,
    latencyMs: Math.round(latencyMs * 10) / 10,
    ok,
    cause,
    status: result.status,
    loadModel: 'closed',
    ...(request.traceId ? { traceId: request.traceId } : {}),
    ...(request.prepared?.idempotencyKey ? { idempotencyKey: request.prepared.idempotencyKey } : {}),
    ...(request.prepared?.email ? { email: request.prepared.email } : {}),
  };
}

/** The parts of autocannon's Client this driver reads and steers (autocannon 9: lib/httpClient.js). */
interface AutocannonClient extends NodeJS.EventEmitter {
  reqsMade: number;
  /** A client destroys itself instead of sending once reqsMade reaches it: the graceful end of a window. */
  responseMax: number;
  destroyed: boolean;
  destroy(): void;
}

interface InFlight {
  sentAtMs: number;
  prepared?: PreparedRequest;
  traceId?: string;
}

/** A client's request in flight, and one whose connection was replaced under it (settled next tick). */
interface ClientRequests {
  current?: InFlight;
  orphan?: InFlight;
}

/**
 * A closed-model load on one route with autocannon's programmatic API: `connections` connections, each
 * sending its next request when the last is answered, from `fromS` to `untilS` of the timeline. Every
 * request is recorded (status, cause, latency from its send) as an outcome marked `loadModel: 'closed'`.
 *
 * Where autocannon misbehaves the lab bounds it: against a refused port it reconnects in a hot loop
 * (tens of thousands of errors a second, a full core), so more than `maxErrorsPerSecond` connection errors
 * in a second stop the instance for `pauseMs` and the episode is recorded (`summary.bounded`). A request
 * whose connection closed under it, which autocannon resends silently, is recorded as `reset`.
 *
 * @example
 *   const run = driveClosedLoad({ load: { route: 'pay', url, connections: 8, stream: 0 }, durationS: 10, timeoutMs: 15000, runTag: 'r1', startedAtMs: performance.now() });
 *   const { outcomes, summary } = await run.finished;
 */
/** A stream's summary before anything was sent: its window and nothing counted. */
export function emptyClosedSummary(
  options: Pick<DriveClosedLoadOptions, 'load' | 'durationS'>,
): ClosedStreamSummary {
  return {
    route: options.load.route,
    connections: options.load.connections,
    fromS: options.load.fromS ?? 0,
    untilS: options.load.untilS ?? options.durationS,
    sent: 0,
    answered: 0,
    ok: 0,
    autocannon: { errors: 0, timeouts: 0, non2xx: 0, instances: 0 },
    bounded: [],
    labProcessCpuShare: null,
  };
}

export function driveClosedLoad(options: DriveClosedLoadOptions): ClosedLoadRun {
  const { load, startedAtMs } = options;
  const fromS = load.fromS ?? 0;
  const untilS = load.untilS ?? options.durationS;
  const maxErrors = options.maxErrorsPerSecond ?? CLOSED_LOAD_LIMITS.maxErrorsPerSecond;
  const pauseMs = options.pauseMs ?? CLOSED_LOAD_LIMITS.pauseMs;
  const outcomes: RequestOutcome[] = [];
  const summary = emptyClosedSummary(options);
  const secondsNow = (): number => (performance.now() - startedAtMs) / 1000;
  const bound = errorBound(maxErrors);
  let sequence = 0;

  const record = (outcome: RequestOutcome): void => {
    outcomes.push(outcome);
    if (outcome.status !== null) summary.answered += 1;
    if (outcome.ok) summary.ok += 1;
    options.onOutcome?.(outcome);
  };

  const prepare = (): { prepared: PreparedRequest; traceId?: string } => {
    const prepared = prepareRequest(load.route, `${options.runTag}c${load.stream}`, sequence++);
    if (!options.traceRequests) return { prepared };
    const trace = newTraceParent();
    return {
      prepared: { ...prepared, headers: { ...prepared.headers, traceparent: trace.header } },
      traceId: trace.traceId,
    };
  };

  /** One autocannon instance until the window ends, the run is stopped, or the hot-loop bound trips. */
  const runInstance = async (): Promise<'done' | 'bounded'> => {
    const clients = new Map<AutocannonClient, ClientRequests>();
    // autocannon builds a request (setupRequest) in a client's constructor, before setupClient, and
    // afterwards right after the client's `request` event: these two hand the built request to its client.
    let builtInConstructor: ReturnType<typeof prepare> | undefined;
    let building: InFlight | undefined;
    let lastBody = '';
    let boundedBy: number | null = null;
    let resolveEnd: (value: 'done' | 'bounded') => void = () => undefined;
    const ended = new Promise<'done' | 'bounded'>((resolve) => (resolveEnd = resolve));

    const finish = (request: InFlight | undefined, result: Parameters<typeof closedOutcome>[1]): void => {
      if (!request) return;
      const sentAtS = (request.sentAtMs - startedAtMs) / 1000;
      record(
        closedOutcome(
          { route: load.route, stream: load.stream, sentAtS, ...request },
          result,
          performance.now() - request.sentAtMs,
        ),
      );
    };

    /** Ends every client at once; what is in flight is recorded with `cause`. */
    const stopNow = (cause: string): void => {
      for (const [client, requests] of clients) {
        finish(requests.current, { status: null, cause });
        requests.current = undefined;
        if (!client.destroyed) client.destroy();
      }
      instance.stop();
    };

    const instance = autocannon(
      {
        url: load.url,
        connections: load.connections,
        // The lab ends the window itself; autocannon's own duration is only a backstop.
        duration: untilS - fromS + options.timeoutMs / 1000 + 5,
        timeout: Math.ceil(options.timeoutMs / 1000),
        // How often autocannon notices its clients are gone and calls back.
        sampleInt: 100,
        requests: [
          {
            method: 'POST',
            setupRequest: (request) => {
              const built = prepare();
              if (building) {
                building.prepared = built.prepared;
                if (built.traceId) building.traceId = built.traceId;
                building = undefined;
              } else {
                builtInConstructor = built;
              }
              return {
                ...request,
                method: 'POST',
                headers: built.prepared.headers,
                body: built.prepared.body,
              };
            },
            // Called just before the client's `response` event: the body gives the service's cause.
            onResponse: (_status: number, body: string) => {
              lastBody = body;
            },
          },
        ],
        setupClient: (raw) => {
          const client = raw as unknown as AutocannonClient;
          const requests: ClientRequests = {};
          clients.set(client, requests);
          const first = builtInConstructor;
          builtInConstructor = undefined;
          client.on('request', () => {
            summary.sent += 1;
            const previous = requests.current;
            if (previous) {
              // The connection was replaced under a request (closed by the server, or a timeout whose
              // event follows at once): autocannon resends without a word; the lab counts it.
              requests.orphan = previous;
              process.nextTick(() => {
                if (requests.orphan !== previous) return;
                requests.orphan = undefined;
                finish(previous, { status: null, cause: 'reset' });
              });
            }
            const request: InFlight = { sentAtMs: performance.now() };
            if (client.reqsMade === 0 && first) {
              request.prepared = first.prepared;
              if (first.traceId) request.traceId = first.traceId;
            } else {
              building = request;
            }
            requests.current = request;
          });
          client.on('response', (status: number) => {
            finish(requests.current, { status, body: lastBody });
            requests.current = undefined;
          });
          client.on('timeout', () => {
            // A timeout reconnects and resends before it is announced, unless the window has ended.
            const timedOut = requests.orphan ?? requests.current;
            if (requests.orphan) requests.orphan = undefined;
            else requests.current = undefined;
            finish(timedOut, { status: null, cause: 'client_timeout' });
          });
          client.on('connError', (error: unknown) => {
            finish(requests.current, { status: null, error });
            requests.current = undefined;
            if (boundedBy !== null) return;
            const errors = bound.record(secondsNow());
            if (errors === null) return;
            boundedBy = errors;
            stopNow('generator_bounded');
            resolveEnd('bounded');
          });
        },
      },
      (error, result) => {
        if (!error && result) {
          summary.autocannon.errors += result.errors;
          summary.autocannon.timeouts += result.timeouts;
          summary.autocannon.non2xx += result.non2xx;
        }
        resolveEnd('done');
      },
    );
    summary.autocannon.instances += 1;

    // The window's end: no client sends again, each in-flight request may finish within the timeout.
    const windowEnd = new AbortController();
    const onAbort = (): void => stopNow('reset');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const endAtMs = startedAtMs + untilS * 1000;
    void sleepFor(Math.max(0, endAtMs - performance.now()), undefined, { signal: windowEnd.signal })
      .then(async () => {
        for (const [client, requests] of clients) {
          client.responseMax = Math.max(1, client.reqsMade);
          if (!requests.current && !client.destroyed) client.destroy();
        }
        await sleepFor(options.timeoutMs + 1000, undefined, { signal: windowEnd.signal });
        // Past the timeout autocannon should have ended every request itself: cut what is left.
        stopNow('client_timeout');
      })
      .catch(() => undefined);
    const how = await ended;
    windowEnd.abort();
    options.signal?.removeEventListener('abort', onAbort);
    if (how === 'bounded')
      summary.bounded.push({
        atS: Math.round(secondsNow() * 1000) / 1000,
        errors: boundedBy ?? 0,
        pausedMs: pauseMs,
      });
    return how;
  };

  const finished = (async () => {
    const startMs = startedAtMs + fromS * 1000;
    await sleepFor(Math.max(0, startMs - performance.now()), undefined, {
      ...(options.signal ? { signal: options.signal } : {}),
    }).catch(() => undefined);
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    while (!options.signal?.aborted && secondsNow() < untilS) {
      const how = await runInstance();
      if (how !== 'bounded') break;
      bound.reset();
      const resumeInMs = Math.min(pauseMs, startedAtMs + untilS * 1000 - performance.now());
      if (resumeInMs <= 0) break;
      await sleepFor(resumeInMs, undefined, options.signal ? { signal: options.signal } : {}).catch(
        () => undefined,
      );
    }
    const cpu = process.cpuUsage(cpuBefore);
    const wallMs = performance.now() - wallBefore;
    summary.labProcessCpuShare =
      wallMs > 0 ? Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 1000 : null;
    return { outcomes, summary };
  })();
  return { finished };
}
